// A safetensors file opened lazily: the header is read and validated (src/io/safetensors.ts, the same checks as
// reading the whole file), and every tensor becomes a TensorSource that reads its bytes by range when asked.
// Nothing else of the file is read, so opening a 9 GB checkpoint costs one header read.
import fs from "node:fs";
import { parseSafetensorsHeader, readExactly, readHeaderLength } from "./safetensors.js";
import type { TensorSource } from "./tensor-source.js";

export interface SafetensorsSources {
  /** the file's tensors, in header order */
  tensors: Map<string, TensorSource>;
  metadata: Record<string, string>;
  /** closes the file; reads after this reopen it */
  close(): void;
}

/** Opens `path` and returns its tensors as sources (errors start with `safetensors: <path>:`). */
export function openSafetensors(path: string): SafetensorsSources {
  let fd: number | null;
  try {
    fd = fs.openSync(path, "r");
  } catch (e) {
    throw new Error(`safetensors: ${path}: cannot open file (${(e as Error).message})`);
  }
  const open = (): number => (fd ??= fs.openSync(path, "r"));
  try {
    const fileSize = fs.fstatSync(fd).size;
    const n = readHeaderLength(readExactly(fd, 0, Math.min(8, fileSize), path), fileSize, path);
    const header = parseSafetensorsHeader(readExactly(fd, 8, n, path), fileSize, path);
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
          return readExactly(open(), e.begin + byteOffset, byteLength, path);
        },
      });
    }
    return {
      tensors, metadata: header.metadata,
      close: () => { if (fd !== null) { fs.closeSync(fd); fd = null; } },
    };
  } catch (e) {
    fs.closeSync(fd);
    fd = null;
    throw e;
  }
}
