// CheckpointFiles (src/io/checkpoint-files.ts) on the local disk, through node:fs. Byte ranges are read with
// positioned reads, never whole files, so files larger than one typed array (2^32 bytes) or than memory work.
import fs from 'node:fs';
import { checkFileRange, type CheckpointFiles, type OpenedFile } from './checkpoint-files.js';

/** Reads `length` bytes at `position` from an open file into a new buffer (looping over short reads). */
export function readExactly(fd: number, position: number, length: number, path: string): Uint8Array {
  const buf = new Uint8Array(length);
  const CHUNK = 1 << 30; // readSync handles at most ~2 GiB per call
  let done = 0;
  while (done < length) {
    const got = fs.readSync(fd, buf, done, Math.min(CHUNK, length - done), position + done);
    if (got === 0) throw new Error(`${path}: unexpected end of file at byte ${position + done} (wanted ${position + length})`);
    done += got;
  }
  return buf;
}

/** A file on disk for byte-range reads; the descriptor opens now and stays open until `close`. */
function openFile(path: string): OpenedFile {
  let fd: number | null;
  let size: number;
  try {
    fd = fs.openSync(path, 'r');
    size = fs.fstatSync(fd).size;
  } catch (e) {
    throw new Error(`${path}: cannot open file (${(e as Error).message})`);
  }
  return {
    size,
    read(offset, length) {
      checkFileRange(path, size, offset, length);
      fd ??= fs.openSync(path, 'r'); // reads after close reopen the file
      return readExactly(fd, offset, length, path);
    },
    close() {
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}

export const nodeFiles: CheckpointFiles = {
  list(dir) {
    try {
      return fs.readdirSync(dir).sort();
    } catch (e) {
      throw new Error(`${dir}: cannot list folder (${(e as Error).message})`);
    }
  },
  exists: (path) => fs.existsSync(path),
  readText(path) {
    try {
      return fs.readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`${path}: cannot read file (${(e as Error).message})`);
    }
  },
  open: openFile,
};
