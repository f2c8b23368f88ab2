// safetensors reader (no dependencies), on bytes in memory; the writer is ./safetensors-writer.ts. Reading a file
// on disk tensor by tensor is ./safetensors-file.ts, and reading any byte range of a file lazily ./safetensors-source.ts.
//
// Format (https://github.com/huggingface/safetensors, the format's own README):
//   [8 bytes]  N = header length, unsigned 64-bit little-endian
//   [N bytes]  UTF-8 JSON object {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}}
//   [rest]     data section; offsets are relative to its start, raw little-endian values.
//
// Reading validates the whole header before any tensor memory is allocated, with the same rules as the
// Rust reference implementation (entries must tile the data section exactly: no holes, no overlap, no
// trailing bytes). Every error is a plain `Error` whose message starts with `safetensors: <source>:`.
// Decoded data is always copied out of the input (never a view), so unaligned offsets are fine.
//   F32, F16, BF16 -> Float32Array (dtype "F32", `storedDtype` keeps the file's dtype)
//   F64            -> Float64Array (dtype "F64")
//   I32, I64       -> Int32Array   (dtype "I32"; an I64 value outside int32 is an error)
// Allocation bound: the decoded bytes of a tensor are at most 2x its byte span in the file (F16/BF16 -> F32),
// and the spans tile the file, so a reader never allocates more than twice the file size.
//
// Writing (./safetensors-writer.ts) follows the Rust reference layout, so a re-written file is byte-identical.

import { f16Table32 } from "../tensor/half.js";

/** Dtypes a decoded tensor can have. */
export type RawDtype = "F32" | "I32" | "F64";
/** Dtypes this reader accepts in a file. */
export type StoredDtype = "F32" | "F16" | "BF16" | "F64" | "I32" | "I64";

export interface RawTensor {
  dtype: RawDtype;
  shape: number[];
  /** Row-major values: Float32Array for F32, Int32Array for I32, Float64Array for F64. */
  data: Float32Array | Int32Array | Float64Array;
  /** Dtype in the file this tensor was read from (only set by the reader). */
  storedDtype?: StoredDtype;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** One validated header entry: absolute byte range of the tensor in the file. */
export interface SafetensorsEntry {
  name: string;
  storedDtype: StoredDtype;
  shape: number[];
  numel: number;
  /** Absolute file offsets [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Byte offset of the data section in the file (8 + N). */
  dataStart: number;
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
}

/** Largest header accepted (the Rust reference uses the same 100 MB limit). */
export const MAX_HEADER_BYTES = 100_000_000;

const DTYPE_BYTES: Record<StoredDtype, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2 };
const METADATA_KEY = "__metadata__";
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(source: string, message: string): never {
  throw new Error(`safetensors: ${source}: ${message}`);
}

/** Short printable form of an arbitrary JSON value for error messages. */
export function show(value: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** obj[key] = value as an own data property (safe for names like "__proto__"). */
export function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isStoredDtype(d: unknown): d is StoredDtype {
  return typeof d === "string" && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, d);
}

// ---------------------------------------------------------------------------------------------------------
// Header parsing and validation
// ---------------------------------------------------------------------------------------------------------

/**
 * Reads N from the 8-byte prefix and checks 0 <= N <= min(MAX_HEADER_BYTES, fileSize - 8).
 * Returns N as a number.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number, source: string): number {
  if (fileSize < 8 || prefix.length < 8) {
    fail(source, `file is ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  // u64 little-endian = hi * 2^32 + lo; exact as a double while hi < 2^21.
  const n = hi < 2 ** 21 ? hi * 2 ** 32 + lo : Infinity;
  const shown = hi < 2 ** 21 ? String(n) : (BigInt(hi) * 2n ** 32n + BigInt(lo)).toString();
  if (n > MAX_HEADER_BYTES) {
    fail(source, `header length ${shown} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (n > fileSize - 8) {
    fail(source, `header length ${shown} exceeds the ${fileSize - 8} bytes after the length field`);
  }
  return n;
}

function checkDims(source: string, name: string, shape: unknown): number[] {
  if (!Array.isArray(shape)) fail(source, `tensor '${name}': shape ${show(shape)} is not an array`);
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      fail(source, `tensor '${name}': shape dimension ${show(d)} is not a non-negative integer (shape ${show(shape)})`);
    }
  }
  return shape as number[];
}

/**
 * Element count of `shape`, or an error if it exceeds `maxNumel` (computed without overflow: the running
 * product only grows while no dimension is 0, and it is compared after every factor).
 */
function safeNumel(shape: number[], maxNumel: number, tooBig: () => never): number {
  if (shape.includes(0)) return 0;
  let numel = 1;
  for (const d of shape) {
    numel *= d;
    if (numel > maxNumel) tooBig();
  }
  return numel;
}

function checkOffsets(source: string, name: string, offsets: unknown, dataSize: number): [number, number] {
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    fail(source, `tensor '${name}': data_offsets ${show(offsets)} is not a [begin, end] pair`);
  }
  const [b, e] = offsets as unknown[];
  for (const v of [b, e]) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      fail(source, `tensor '${name}': data offset ${show(v)} is not a non-negative integer`);
    }
  }
  const begin = b as number;
  const end = e as number;
  if (begin > end) fail(source, `tensor '${name}': data_offsets [${begin}, ${end}] has begin > end`);
  if (end > dataSize) {
    fail(source, `tensor '${name}': data_offsets end ${end} is past the ${dataSize}-byte data section`);
  }
  return [begin, end];
}

function parseMetadata(source: string, value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(source, `${METADATA_KEY} must be an object of strings, got ${show(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") fail(source, `${METADATA_KEY} value for '${k}' is ${show(v)}, not a string`);
    setOwn(out, k, v);
  }
  return out;
}

/**
 * Parses and validates the JSON header. `headerBytes` are the N header bytes; `fileSize` is the total file size.
 * Checks every entry (dtype, shape, offsets, byte size) and that the entries tile the data section.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array, fileSize: number, source: string): SafetensorsHeader {
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  if (dataSize < 0) fail(source, `header of ${headerBytes.length} bytes does not fit in a ${fileSize}-byte file`);

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    fail(source, `header (${headerBytes.length} bytes) is not valid UTF-8`);
  }
  if (!text.startsWith("{")) fail(source, `header does not start with '{': ${show(text.slice(0, 20))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(source, `header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    fail(source, `header is not a JSON object`);
  }

  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(source, info);
      continue;
    }
    if (info === null || typeof info !== "object" || Array.isArray(info)) {
      fail(source, `tensor '${name}': entry ${show(info)} is not an object`);
    }
    const { dtype, shape, data_offsets } = info as Record<string, unknown>;
    if (!isStoredDtype(dtype)) {
      fail(source, `tensor '${name}': unsupported dtype ${show(dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(", ")})`);
    }
    const dims = checkDims(source, name, shape);
    const [begin, end] = checkOffsets(source, name, data_offsets, dataSize);
    const elemBytes = DTYPE_BYTES[dtype];
    const span = `data_offsets [${begin}, ${end}] span ${end - begin} bytes`;
    const numel = safeNumel(dims, Math.floor((end - begin) / elemBytes), () =>
      fail(source, `tensor '${name}': ${span}, too few for ${dtype} shape ${show(dims)}`),
    );
    // byte span must be exactly numel * sizeof(dtype)
    if (end - begin !== numel * elemBytes) {
      fail(source, `tensor '${name}': ${span} but ${dtype} shape ${show(dims)} needs ${numel * elemBytes}`);
    }
    entries.push({ name, storedDtype: dtype, shape: dims.slice(), numel, begin: dataStart + begin, end: dataStart + end });
  }

  // Entries must cover [0, dataSize) contiguously, in offset order (as the Rust reference checks).
  const ordered = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = dataStart;
  let previous = "";
  for (const e of ordered) {
    if (e.begin !== cursor) {
      const what = e.begin < cursor ? `overlaps tensor '${previous}'` : "leaves a hole before it";
      fail(source, `tensor '${e.name}': data_offsets begin ${e.begin - dataStart} ${what} (expected ${cursor - dataStart})`);
    }
    cursor = e.end;
    previous = e.name;
  }
  if (cursor !== fileSize) {
    fail(source, `tensors cover ${cursor - dataStart} of the ${dataSize} data bytes (trailing or missing data)`);
  }
  return { dataStart, entries, metadata };
}

// ---------------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------------

/**
 * Fresh, 0-aligned copy of a byte range, so typed views over it never alias the input. With `adopt`, a buffer
 * the reader allocated for this tensor alone is used as is.
 */
function copyBytes(raw: Uint8Array, adopt: boolean): ArrayBuffer {
  if (adopt && raw.byteOffset === 0 && raw.byteLength === raw.buffer.byteLength) return raw.buffer as ArrayBuffer;
  const copy = new Uint8Array(raw.length);
  copy.set(raw);
  return copy.buffer;
}

/** Reinterprets little-endian bytes as unsigned 16-bit words (copy). */
function u16Words(raw: Uint8Array, adopt: boolean): Uint16Array {
  if (LITTLE_ENDIAN_HOST) return new Uint16Array(copyBytes(raw, adopt));
  const out = new Uint16Array(raw.length / 2);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint16(2 * i, true);
  return out;
}

/** Reinterprets little-endian bytes as 32-bit words (copy) of the given array type. */
function words32<T extends Float32Array | Int32Array>(
  raw: Uint8Array,
  Ctor: new (b: ArrayBuffer) => T,
  adopt: boolean,
): T {
  if (LITTLE_ENDIAN_HOST) return new Ctor(copyBytes(raw, adopt));
  const out = new Ctor(new ArrayBuffer(raw.length));
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const isFloat = out instanceof Float32Array;
  for (let i = 0; i < out.length; i++) out[i] = isFloat ? view.getFloat32(4 * i, true) : view.getInt32(4 * i, true);
  return out;
}

/**
 * Decodes one tensor's bytes (`raw.length === entry.end - entry.begin`). Returns fresh memory, except that with
 * `adopt` (raw is a private buffer of exactly this tensor) F32/I32/F64 data may reuse raw's buffer.
 */
export function decodeTensor(entry: SafetensorsEntry, raw: Uint8Array, source: string, adopt = false): RawTensor {
  const { name, storedDtype, numel } = entry;
  const shape = entry.shape.slice();
  if (raw.length !== numel * DTYPE_BYTES[storedDtype]) {
    fail(source, `tensor '${name}': got ${raw.length} bytes, expected ${numel * DTYPE_BYTES[storedDtype]}`);
  }
  switch (storedDtype) {
    case "F32":
      return { dtype: "F32", shape, data: words32(raw, Float32Array, adopt), storedDtype };
    case "I32":
      return { dtype: "I32", shape, data: words32(raw, Int32Array, adopt), storedDtype };
    case "F64": {
      let data: Float64Array;
      if (LITTLE_ENDIAN_HOST) data = new Float64Array(copyBytes(raw, adopt));
      else {
        data = new Float64Array(numel);
        const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        for (let i = 0; i < numel; i++) data[i] = view.getFloat64(8 * i, true);
      }
      return { dtype: "F64", shape, data, storedDtype };
    }
    case "F16": {
      const table = f16Table32();
      const h = u16Words(raw, adopt);
      const data = new Float32Array(numel);
      for (let i = 0; i < numel; i++) data[i] = table[h[i]!]!;
      return { dtype: "F32", shape, data, storedDtype };
    }
    case "BF16": {
      // bfloat16 is the top half of a float32: bits << 16.
      const h = u16Words(raw, adopt);
      const data = new Float32Array(numel);
      const bits = new Uint32Array(data.buffer);
      for (let i = 0; i < numel; i++) bits[i] = h[i]! << 16;
      return { dtype: "F32", shape, data, storedDtype };
    }
    case "I64": {
      // Little-endian (lo, hi) 32-bit pairs; the value fits int32 iff hi is the sign extension of lo.
      const pairs = words32(raw, Int32Array, adopt);
      const data = new Int32Array(numel);
      for (let i = 0; i < numel; i++) {
        const lo = pairs[2 * i]!;
        const hi = pairs[2 * i + 1]!;
        if (hi !== lo >> 31) {
          const value = (BigInt(hi) << 32n) + BigInt(lo >>> 0);
          fail(source, `tensor '${name}': I64 value ${value} at flat index ${i} does not fit in int32`);
        }
        data[i] = lo;
      }
      return { dtype: "I32", shape, data, storedDtype };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Public readers
// ---------------------------------------------------------------------------------------------------------

/** Parses a whole safetensors file held in memory. `source` names it in error messages. */
export function readSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsFile {
  if (!(bytes instanceof Uint8Array)) fail(source, `input is not a Uint8Array`);
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.length, source);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.length, source);
  const tensors = new Map<string, RawTensor>();
  for (const e of header.entries) tensors.set(e.name, decodeTensor(e, bytes.subarray(e.begin, e.end), source));
  return { tensors, metadata: header.metadata };
}

