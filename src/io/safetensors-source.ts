// A safetensors file read through CheckpointFiles (src/io/checkpoint-files.ts: files on disk in Node, files in
// memory in a browser). `openSafetensors` reads and validates the header only (src/io/safetensors.ts, the same
// checks as reading the whole file) and makes every tensor a TensorSource that reads its bytes by range when
// asked, so opening a 9 GB checkpoint costs one header read. `readSafetensorsFrom` reads and decodes every
// tensor, one at a time.
import type { CheckpointFiles, OpenedFile } from "./checkpoint-files.js";
import { decodeTensor, parseSafetensorsHeader, readHeaderLength, type SafetensorsFile, type SafetensorsHeader } from "./safetensors.js";
import type { TensorSource } from "./tensor-source.js";

export interface SafetensorsSources {
  /** the file's tensors, in header order */
  tensors: Map<string, TensorSource>;
  metadata: Record<string, string>;
  /** closes the file; reads after this reopen it */
  close(): void;
}

/** Errors from the file layer get the reader's prefix (`safetensors: <path>: ...`). */
function withPrefix(path: string, e: unknown): Error {
  const msg = (e as Error).message ?? String(e);
  if (msg.startsWith("safetensors: ")) return e as Error;
  return new Error(`safetensors: ${msg.startsWith(path) ? msg : `${path}: ${msg}`}`);
}

function openFile(files: CheckpointFiles, path: string): OpenedFile {
  try {
    return files.open(path);
  } catch (e) {
    throw withPrefix(path, e);
  }
}

function readHeader(file: OpenedFile, path: string): SafetensorsHeader {
  const n = readHeaderLength(file.read(0, Math.min(8, file.size)), file.size, path);
  return parseSafetensorsHeader(file.read(8, n), file.size, path);
}

/** Opens `path` and returns its tensors as sources (errors start with `safetensors: <path>:`). */
export function openSafetensors(files: CheckpointFiles, path: string): SafetensorsSources {
  let file: OpenedFile | null = openFile(files, path);
  const reopen = (): OpenedFile => (file ??= openFile(files, path));
  try {
    const header = readHeader(file, path);
    const tensors = new Map<string, TensorSource>();
    for (const e of header.entries) {
      const size = e.end - e.begin;
      tensors.set(e.name, {
        name: e.name, file: path, dtype: e.storedDtype, shape: e.shape,
        read: (byteOffset, byteLength) => {
          if (!Number.isInteger(byteOffset) || !Number.isInteger(byteLength) || byteOffset < 0 || byteLength < 0 ||
              byteOffset + byteLength > size) {
            throw new Error(`safetensors: ${path}: tensor '${e.name}': read of bytes [${byteOffset}, ` +
              `${byteOffset + byteLength}) is outside its ${size} bytes`);
          }
          try {
            return reopen().read(e.begin + byteOffset, byteLength);
          } catch (err) {
            throw withPrefix(path, err);
          }
        },
      });
    }
    return {
      tensors, metadata: header.metadata,
      close: () => { file?.close(); file = null; },
    };
  } catch (e) {
    file.close();
    file = null;
    throw withPrefix(path, e);
  }
}

/**
 * Reads and decodes a whole safetensors file: the header is read and validated first, then each tensor's bytes
 * separately, so files larger than one typed array work and memory stays bounded by the output.
 */
export function readSafetensorsFrom(files: CheckpointFiles, path: string): SafetensorsFile {
  const file = openFile(files, path);
  try {
    const header = readHeader(file, path);
    // the freshly read bytes belong to this tensor alone, so F32/I32/F64 adopt them instead of copying
    const tensors = new Map(header.entries.map((e) => [e.name, decodeTensor(e, file.read(e.begin, e.end - e.begin), path, true)]));
    return { tensors, metadata: header.metadata };
  } catch (e) {
    throw withPrefix(path, e);
  } finally {
    file.close();
  }
}
