// The file system as checkpoint readers see it: list a folder, test for a file, read a small text file, and
// open a file for byte-range reads. Readers take a CheckpointFiles instead of importing node:fs, so the same
// reader runs on files on disk (Node: src/io/node-files.ts) and on files a browser user picked, read into
// memory first (`memoryFiles` below; a TensorSource's `read` is synchronous, so the bytes must be at hand).
//
// Paths are '/'-separated. A folder is the set of paths that start with it; `list` gives the names directly
// inside it (files and folders), sorted.

/** A file opened for reading byte ranges. */
export interface OpenedFile {
  /** size in bytes */
  readonly size: number;
  /** `length` bytes at `offset` (a fresh copy); a range outside the file is an Error naming the file */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

export interface CheckpointFiles {
  /** names directly inside folder `dir`, sorted; an Error naming `dir` when it is not a folder */
  list(dir: string): string[];
  /** whether `path` is a file or a folder */
  exists(path: string): boolean;
  /** a whole file as UTF-8 text (config and index files) */
  readText(path: string): string;
  open(path: string): OpenedFile;
}

/** Parts joined with '/', normalised: no doubled separators, no '.', and 'a/../b' is 'b' (a leading '/' stays). */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  const out: string[] = [];
  for (const seg of joined.split(/[\\/]+/)) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(seg);
  }
  const path = out.join('/');
  return joined.startsWith('/') ? `/${path}` : path || '.';
}

/** Throws unless [offset, offset + length) lies inside a file of `size` bytes. */
export function checkFileRange(path: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new Error(`${path}: cannot read bytes [${offset}, ${offset + length}) of a ${size}-byte file (truncated or corrupt file?)`);
  }
}

/**
 * Files held in memory, keyed by '/'-separated path (a folder picked in a browser, files fetched from a server,
 * or test data). Folders are implied by the paths.
 */
export function memoryFiles(files: ReadonlyMap<string, Uint8Array> | Record<string, Uint8Array>): CheckpointFiles {
  const byPath = new Map<string, Uint8Array>();
  for (const [p, bytes] of files instanceof Map ? files : Object.entries(files)) byPath.set(joinPath(p), bytes);
  const isFolder = (dir: string): boolean => {
    const d = joinPath(dir);
    if (d === '.') return byPath.size > 0;
    for (const p of byPath.keys()) if (p.startsWith(d + '/')) return true;
    return false;
  };
  const bytesOf = (path: string): Uint8Array => {
    const b = byPath.get(joinPath(path));
    if (b === undefined) throw new Error(`${path}: no such file${isFolder(path) ? ' (it is a folder)' : ''}`);
    return b;
  };
  return {
    list(dir) {
      const d = joinPath(dir);
      if (!isFolder(d)) throw new Error(`${dir}: not a folder${byPath.has(d) ? ' (it is a file)' : ''}`);
      const names = new Set<string>();
      for (const p of byPath.keys()) {
        const rest = d === '.' ? p : p.startsWith(d + '/') ? p.slice(d.length + 1) : null;
        if (rest !== null) names.add(rest.split('/')[0]);
      }
      return [...names].sort();
    },
    exists: (path) => byPath.has(joinPath(path)) || isFolder(path),
    readText: (path) => new TextDecoder('utf-8').decode(bytesOf(path)),
    open(path) {
      const bytes = bytesOf(path);
      return {
        size: bytes.length,
        read(offset, length) {
          checkFileRange(path, bytes.length, offset, length);
          return bytes.slice(offset, offset + length);
        },
        close() {},
      };
    },
  };
}
