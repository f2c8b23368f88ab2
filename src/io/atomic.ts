// Atomic file replacement: write a temp file next to the target, fsync it, rename it over the target.
//
// rename(2) within one directory is atomic on POSIX file systems, so a reader sees either the old file or the
// complete new one, never a partial write. On any error the temp file is removed, the target is left exactly
// as it was, and an Error naming the path is thrown (with the original error as `cause`).
// `fs` is used through its default export so tests can inject failures (e.g. a failing fsync).

import fs from "node:fs";
import nodePath from "node:path";

/** Synchronously and atomically replaces `path` with `data` (bytes, or a string written as UTF-8). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  if (typeof path !== "string" || path.length === 0) {
    throw new Error(`writeFileAtomic: path ${JSON.stringify(path)} is not a non-empty string`);
  }
  if (!(data instanceof Uint8Array) && typeof data !== "string") {
    throw new Error(`writeFileAtomic: ${path}: data must be a Uint8Array or a string, got ${Object.prototype.toString.call(data)}`);
  }
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const dir = nodePath.dirname(path);
  const unique = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${unique}.tmp`);

  let fd: number | null = null;
  let created = false;
  try {
    fd = fs.openSync(tmp, "wx"); // "x": never clobber an existing file of the same name
    created = true;
    let written = 0;
    while (written < bytes.length) {
      written += fs.writeSync(fd, bytes, written, bytes.length - written);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
    created = false;
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing; the original error is what matters
      }
    }
    if (created) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // best effort: nothing else we can do
      }
    }
    throw new Error(`writeFileAtomic: ${path}: ${(e as Error).message}`, { cause: e });
  }
  // Make the rename itself durable (best effort: not every platform allows fsync on a directory).
  try {
    const dfd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // ignore: the data is already safely in place
  }
}
