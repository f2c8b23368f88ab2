// Atomic file replacement: write a temp file next to the target, fsync it, rename it over the target.
//
// rename(2) within one directory is atomic on POSIX file systems, so a reader sees either the old file or the
// complete new one, never a partial write. On any error the temp file is removed, the target is left exactly
// as it was, and an Error naming the path is thrown (with the original error as `cause`).
// `fs` is used through its default export so tests can inject failures (e.g. a failing fsync).
//
// Two ways in: `writeFileAtomic(path, bytes)` for data already in memory, and `openAtomic(path)` for data
// written piece by piece (the streaming safetensors writer: a checkpoint larger than memory).

import fs from "node:fs";
import nodePath from "node:path";

/** A temp file that becomes `path` on commit(). */
export interface AtomicFile {
  readonly path: string;
  /** Appends bytes (loops over short writes). */
  write(bytes: Uint8Array): void;
  /** Bytes written so far. */
  readonly size: number;
  /** fsync, close, rename over `path`, fsync the directory (best effort). */
  commit(): void;
  /** Closes and removes the temp file; `path` is untouched. Safe to call after a failed commit. */
  abort(): void;
}

function wrapError(path: string, e: unknown): Error {
  return new Error(`writeFileAtomic: ${path}: ${(e as Error).message}`, { cause: e });
}

/** Opens a temp file beside `path` (created exclusively, so it never clobbers another writer's temp file). */
export function openAtomic(path: string): AtomicFile {
  if (typeof path !== "string" || path.length === 0) {
    throw new Error(`writeFileAtomic: path ${JSON.stringify(path)} is not a non-empty string`);
  }
  const dir = nodePath.dirname(path);
  const unique = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const tmp = nodePath.join(dir, `.${nodePath.basename(path)}.${unique}.tmp`);
  let fd: number | null;
  try {
    fd = fs.openSync(tmp, "wx"); // "x": never clobber an existing file of the same name
  } catch (e) {
    throw wrapError(path, e);
  }
  let created = true;
  let size = 0;
  const closeQuietly = (): void => {
    if (fd === null) return;
    try {
      fs.closeSync(fd);
    } catch {
      // already failing; the original error is what matters
    }
    fd = null;
  };
  const file: AtomicFile = {
    path,
    get size() {
      return size;
    },
    write(bytes) {
      if (fd === null) throw new Error(`writeFileAtomic: ${path}: write after commit or abort`);
      try {
        let done = 0;
        while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
      } catch (e) {
        throw wrapError(path, e);
      }
      size += bytes.length;
    },
    commit() {
      if (fd === null) throw new Error(`writeFileAtomic: ${path}: commit after commit or abort`);
      try {
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        fd = null;
        fs.renameSync(tmp, path);
        created = false;
      } catch (e) {
        file.abort();
        throw wrapError(path, e);
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
    },
    abort() {
      closeQuietly();
      if (created) {
        try {
          fs.unlinkSync(tmp);
        } catch {
          // best effort: nothing else we can do
        }
        created = false;
      }
    },
  };
  return file;
}

/** Synchronously and atomically replaces `path` with `data` (bytes, or a string written as UTF-8). */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  if (typeof path !== "string" || path.length === 0) {
    throw new Error(`writeFileAtomic: path ${JSON.stringify(path)} is not a non-empty string`);
  }
  if (!(data instanceof Uint8Array) && typeof data !== "string") {
    throw new Error(`writeFileAtomic: ${path}: data must be a Uint8Array or a string, got ${Object.prototype.toString.call(data)}`);
  }
  const file = openAtomic(path);
  try {
    file.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
}
