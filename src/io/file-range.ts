// Byte-range reads from one file on disk, with one open descriptor shared by every tensor read from it.
//
// Checkpoint readers (safetensors, the PyTorch zip) hand out TensorSources whose `read` lands here: no reader
// ever loads a whole file, so files larger than one typed array (2^32 bytes) or than the machine's memory work.
// The descriptor is opened on first use and stays open until `close` (or the process ends); every error names
// the file and the range that could not be read.

import fs from 'node:fs';
import { readExactly } from './node-files.js';

export class RangeFile {
  private fd: number | null = null;
  private sizeBytes = -1;

  constructor(readonly path: string) {}

  private open(): number {
    if (this.fd === null) {
      try {
        this.fd = fs.openSync(this.path, 'r');
        this.sizeBytes = fs.fstatSync(this.fd).size;
      } catch (e) {
        throw new Error(`${this.path}: cannot open file (${(e as Error).message})`);
      }
    }
    return this.fd;
  }

  /** File size in bytes. */
  get size(): number {
    this.open();
    return this.sizeBytes;
  }

  /** `length` bytes at `position` (a fresh buffer); a range past the end of the file is an error. */
  read(position: number, length: number): Uint8Array {
    const fd = this.open();
    if (!Number.isSafeInteger(position) || !Number.isSafeInteger(length) || position < 0 || length < 0 ||
        position + length > this.sizeBytes) {
      throw new Error(`${this.path}: cannot read bytes [${position}, ${position + length}) of a ${this.sizeBytes}-byte file ` +
        `(truncated or corrupt file?)`);
    }
    try {
      return readExactly(fd, position, length, this.path);
    } catch (e) {
      throw new Error(`${this.path}: read of bytes [${position}, ${position + length}) failed (${(e as Error).message})`);
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
