// Reading a safetensors file on the local disk (Node): src/io/safetensors-source.ts through src/io/node-files.ts.
import { nodeFiles } from "./node-files.js";
import type { SafetensorsFile } from "./safetensors.js";
import { openSafetensors, readSafetensorsFrom, type SafetensorsSources } from "./safetensors-source.js";

/** Reads and decodes every tensor of a safetensors file on disk (errors start with `safetensors: <path>:`). */
export function readSafetensorsFile(path: string): SafetensorsFile {
  return readSafetensorsFrom(nodeFiles, path);
}

/** A safetensors file on disk, opened lazily: its tensors as TensorSources. */
export function openSafetensorsFile(path: string): SafetensorsSources {
  return openSafetensors(nodeFiles, path);
}
