// The directory of a ZIP archive whose entries are stored uncompressed, as `torch.save` writes them
// (PKWARE APPNOTE 6.3: end-of-central-directory record, central directory, local file headers; ZIP64 records
// and extra fields for archives or entries of 4 GiB and more).
//
// Only the directory is read: the end record (last ≤ 64 KiB of the file), the central directory, and each
// entry's 30-byte local header when its data offset is asked for. Entry data is then read by range, so a
// 10 GB checkpoint costs a few kilobytes to open. Compressed or encrypted entries are refused: PyTorch never
// writes them, and reading them would need the whole entry in memory.
// CRC-32 checksums are not verified: that would read every byte of every tensor at open time.

import type { OpenedFile } from '../checkpoint-files.js';

/** An opened file and its path (for error messages). */
export type ZipFile = OpenedFile & { readonly path: string };

export interface ZipEntry {
  name: string;
  /** bytes of the entry's data (stored: compressed size = uncompressed size) */
  size: number;
  /** absolute file offset of the entry's local file header */
  headerOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

function u64(view: DataView, at: number, what: string, file: string): number {
  const lo = view.getUint32(at, true), hi = view.getUint32(at + 4, true);
  if (hi >= 2 ** 21) throw new Error(`${file}: zip ${what} ${(BigInt(hi) << 32n) + BigInt(lo)} is too large`);
  return hi * 2 ** 32 + lo;
}

/** Finds the end-of-central-directory record in the last 64 KiB + 22 bytes (it may be followed by a comment). */
function findEndRecord(file: ZipFile): { view: DataView; at: number; tailStart: number } {
  const size = file.size;
  if (size < 22) throw new Error(`${file.path}: ${size} bytes is too short for a zip archive (truncated file?)`);
  const tailStart = Math.max(0, size - (22 + U16_MAX));
  const tail = file.read(tailStart, size - tailStart);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === EOCD_SIG && i + 22 + view.getUint16(i + 20, true) === tail.length) return { view, at: i, tailStart };
  }
  throw new Error(`${file.path}: no zip end-of-central-directory record (not a torch.save zip, or a truncated file)`);
}

/** Reads the central directory of a zip archive. Throws naming the file when it is not a readable stored zip. */
export function readZipDirectory(file: ZipFile): Map<string, ZipEntry> {
  const { view, at, tailStart } = findEndRecord(file);
  let count = view.getUint16(at + 10, true);
  let cdSize = view.getUint32(at + 12, true);
  let cdOffset = view.getUint32(at + 16, true);
  if (view.getUint16(at + 4, true) !== 0 || view.getUint16(at + 6, true) !== 0) {
    throw new Error(`${file.path}: multi-disk zip archives are not supported`);
  }
  if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    // ZIP64: a locator just before the end record points at the ZIP64 end record, which has the 64-bit values
    const loc = at - 20;
    if (loc < 0 || view.getUint32(loc, true) !== ZIP64_LOCATOR_SIG) {
      throw new Error(`${file.path}: zip directory needs ZIP64 records but the ZIP64 locator is missing`);
    }
    const recordAt = u64(view, loc + 8, 'ZIP64 end record offset', file.path);
    const rec = file.read(recordAt, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new Error(`${file.path}: bad ZIP64 end-of-central-directory record at byte ${recordAt}`);
    count = u64(rv, 32, 'entry count', file.path);
    cdSize = u64(rv, 40, 'central directory size', file.path);
    cdOffset = u64(rv, 48, 'central directory offset', file.path);
  }
  if (cdOffset + cdSize > tailStart + at) {
    throw new Error(`${file.path}: zip central directory [${cdOffset}, ${cdOffset + cdSize}) runs past its end record (corrupt or truncated file)`);
  }
  const cd = file.read(cdOffset, cdSize);
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cv.getUint32(p, true) !== CENTRAL_SIG) {
      throw new Error(`${file.path}: zip central directory entry ${i} at byte ${cdOffset + p} is corrupt`);
    }
    const flags = cv.getUint16(p + 8, true), method = cv.getUint16(p + 10, true);
    let compressed = cv.getUint32(p + 20, true), size = cv.getUint32(p + 24, true);
    const nameLen = cv.getUint16(p + 28, true), extraLen = cv.getUint16(p + 30, true), commentLen = cv.getUint16(p + 32, true);
    let headerOffset = cv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new Error(`${file.path}: zip central directory entry ${i} is truncated`);
    let name: string;
    try {
      name = decoder.decode(cd.subarray(p + 46, p + 46 + nameLen));
    } catch {
      throw new Error(`${file.path}: zip entry ${i} has a name that is not UTF-8`);
    }
    // ZIP64 extra field (id 1): the 64-bit values, in this order, of the fields that hold 0xFFFFFFFF
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true), len = cv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = (what: string): number => {
          if (q + 8 > e + 4 + len) throw new Error(`${file.path}: zip entry '${name}': ZIP64 extra field has no ${what}`);
          const v = u64(cv, q, what, file.path); q += 8; return v;
        };
        if (size === U32_MAX) size = next('size');
        if (compressed === U32_MAX) compressed = next('compressed size');
        if (headerOffset === U32_MAX) headerOffset = next('header offset');
      }
      e += 4 + len;
    }
    if (flags & 1) throw new Error(`${file.path}: zip entry '${name}' is encrypted`);
    if (method !== 0 || compressed !== size) {
      throw new Error(`${file.path}: zip entry '${name}' is compressed (method ${method}); only stored entries, as torch.save writes them, are supported`);
    }
    if (entries.has(name)) throw new Error(`${file.path}: zip entry '${name}' appears twice`);
    entries.set(name, { name, size, headerOffset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** Absolute file offset of an entry's data (after its local header), checked to lie inside the file. */
export function zipEntryDataOffset(file: ZipFile, entry: ZipEntry): number {
  const h = file.read(entry.headerOffset, 30);
  const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  if (hv.getUint32(0, true) !== LOCAL_SIG) throw new Error(`${file.path}: zip entry '${entry.name}': bad local header at byte ${entry.headerOffset}`);
  const start = entry.headerOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (start + entry.size > file.size) {
    throw new Error(`${file.path}: zip entry '${entry.name}' (bytes [${start}, ${start + entry.size})) runs past the end of the ` +
      `${file.size}-byte file (truncated file?)`);
  }
  return start;
}
