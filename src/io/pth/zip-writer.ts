// A streaming writer of stored (uncompressed) ZIP archives, the container of torch.save files
// (PKWARE APPNOTE 6.3; the reader is zip.ts).
//
// Entries are written one after another straight to the file: a local header, then the data in chunks as the
// caller produces them (its CRC-32 is computed on the way and patched into the header afterwards), so an entry
// of any size never has to be in memory. Entry data starts on a 64-byte boundary, as torch.save aligns it
// (padding in the local header's extra field). ZIP64 records are written when an entry, an offset or the
// entry count needs them (files over 4 GiB), or always with `forceZip64`.

import fs from 'node:fs';

const U32_MAX = 0xffffffff;
const ALIGN = 64;

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of `data`, continuing from `crc`. */
export function crc32(data: Uint8Array, crc = 0): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

interface Written { name: Uint8Array; size: number; crc: number; headerOffset: number }

function setU64(v: DataView, at: number, x: number): void {
  v.setUint32(at, x % 2 ** 32, true);
  v.setUint32(at + 4, Math.floor(x / 2 ** 32), true);
}

export class ZipWriter {
  private readonly fd: number;
  private offset = 0;
  private readonly entries: Written[] = [];
  private readonly names = new Set<string>();

  /** Creates `path` (it must not exist). */
  constructor(readonly path: string, private readonly opts: { forceZip64?: boolean } = {}) {
    this.fd = fs.openSync(path, 'wx');
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done, this.offset + done);
    this.offset += bytes.length;
  }

  private zip64(size: number, offset: number): boolean {
    return this.opts.forceZip64 === true || size >= U32_MAX || offset >= U32_MAX;
  }

  /**
   * Adds an entry of exactly `size` bytes; `produce` is called with a `write(chunk)` function and must write
   * that many bytes in total.
   */
  addEntry(name: string, size: number, produce: (write: (chunk: Uint8Array) => void) => void): void {
    if (this.names.has(name)) throw new Error(`${this.path}: zip entry '${name}' written twice`);
    this.names.add(name);
    const nameBytes = new TextEncoder().encode(name);
    const headerOffset = this.offset;
    const big = this.zip64(size, headerOffset);
    const z64Len = big ? 20 : 0; // id, len, size, compressed size
    const unpadded = headerOffset + 30 + nameBytes.length + z64Len;
    const pad = (ALIGN - ((unpadded + 4) % ALIGN)) % ALIGN; // an extra field of 4 + pad bytes puts the data on 64 bytes
    const header = new Uint8Array(30 + nameBytes.length + z64Len + 4 + pad);
    const v = new DataView(header.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, big ? 45 : 20, true); // version needed
    v.setUint16(8, 0, true); // method: stored
    v.setUint16(12, 0x21, true); // date: 1980-01-01
    v.setUint32(18, big ? U32_MAX : size, true);
    v.setUint32(22, big ? U32_MAX : size, true);
    v.setUint16(26, nameBytes.length, true);
    v.setUint16(28, z64Len + 4 + pad, true);
    header.set(nameBytes, 30);
    let e = 30 + nameBytes.length;
    if (big) { v.setUint16(e, 1, true); v.setUint16(e + 2, 16, true); setU64(v, e + 4, size); setU64(v, e + 12, size); e += 20; }
    v.setUint16(e, 0x4246, true); // "FB": padding, as torch.save writes it
    v.setUint16(e + 2, pad, true);
    this.write(header);

    let crc = 0, written = 0;
    produce((chunk) => {
      if (written + chunk.length > size) throw new Error(`${this.path}: zip entry '${name}' got more than its ${size} bytes`);
      crc = crc32(chunk, crc);
      written += chunk.length;
      this.write(chunk);
    });
    if (written !== size) throw new Error(`${this.path}: zip entry '${name}' got ${written} of its ${size} bytes`);
    const crcBytes = new Uint8Array(4);
    new DataView(crcBytes.buffer).setUint32(0, crc, true);
    fs.writeSync(this.fd, crcBytes, 0, 4, headerOffset + 14);
    this.entries.push({ name: nameBytes, size, crc, headerOffset });
  }

  /** Writes the central directory and end records and closes the file. */
  finish(): void {
    const cdStart = this.offset;
    for (const en of this.entries) {
      const big = this.zip64(en.size, en.headerOffset);
      const extra = big ? 28 : 0; // id, len, size, compressed size, header offset
      const rec = new Uint8Array(46 + en.name.length + extra);
      const v = new DataView(rec.buffer);
      v.setUint32(0, 0x02014b50, true);
      v.setUint16(4, big ? 45 : 20, true); // version made by
      v.setUint16(6, big ? 45 : 20, true); // version needed
      v.setUint16(14, 0x21, true);
      v.setUint32(16, en.crc, true);
      v.setUint32(20, big ? U32_MAX : en.size, true);
      v.setUint32(24, big ? U32_MAX : en.size, true);
      v.setUint16(28, en.name.length, true);
      v.setUint16(30, extra, true);
      v.setUint32(42, big ? U32_MAX : en.headerOffset, true);
      rec.set(en.name, 46);
      if (big) {
        const e = 46 + en.name.length;
        v.setUint16(e, 1, true); v.setUint16(e + 2, 24, true);
        setU64(v, e + 4, en.size); setU64(v, e + 12, en.size); setU64(v, e + 20, en.headerOffset);
      }
      this.write(rec);
    }
    const cdSize = this.offset - cdStart, count = this.entries.length;
    const big = this.opts.forceZip64 === true || count >= 0xffff || cdStart >= U32_MAX || cdSize >= U32_MAX;
    if (big) {
      const recordAt = this.offset;
      const r = new Uint8Array(56 + 20);
      const v = new DataView(r.buffer);
      v.setUint32(0, 0x06064b50, true);
      setU64(v, 4, 44); // size of the rest of the record
      v.setUint16(12, 45, true); v.setUint16(14, 45, true);
      setU64(v, 24, count); setU64(v, 32, count); setU64(v, 40, cdSize); setU64(v, 48, cdStart);
      v.setUint32(56, 0x07064b50, true); // locator
      setU64(v, 64, recordAt);
      v.setUint32(72, 1, true);
      this.write(r);
    }
    const end = new Uint8Array(22);
    const v = new DataView(end.buffer);
    v.setUint32(0, 0x06054b50, true);
    v.setUint16(8, big ? 0xffff : count, true);
    v.setUint16(10, big ? 0xffff : count, true);
    v.setUint32(12, big ? U32_MAX : cdSize, true);
    v.setUint32(16, big ? U32_MAX : cdStart, true);
    this.write(end);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }

  /** Closes the file without finishing it (after an error; the caller removes it). */
  abort(): void {
    try { fs.closeSync(this.fd); } catch { /* already failing */ }
  }
}
