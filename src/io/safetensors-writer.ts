// safetensors writer: one header planner and one value encoder, used two ways:
//   writeSafetensorsFile(path, tensors)   streams tensor by tensor, chunk by chunk, into a temp file that is
//                                         fsynced and renamed over `path` (src/io/atomic.ts); nothing but the
//                                         header and one chunk is ever in memory, so files > 4 GB work
//   writeSafetensors(tensors) -> bytes    the same layout in memory (small files: trainer state, tests)
// and writeSafetensorsSharded(dir, ...) splits a state dict into HF shards + model.safetensors.index.json when it
// is larger than a shard limit.
//
// Layout rules (the Rust reference `serialize`, which Python `safetensors` calls): tensors ordered by dtype,
// larger first (F64, F32, I32, BF16, F16), then by name; header = `__metadata__` first (keys sorted), then the
// entries in that order; header padded with spaces to a multiple of 8 bytes. So re-writing a file made by Python
// is byte-identical (tested on the golden files).
//
// Values: a chunk of float or int values is converted to the tensor's dtype while writing (float32 -> BF16/F16
// rounds to nearest even, NaN stays NaN: src/tensor/half.ts); a Uint16Array chunk of a BF16/F16 tensor is its
// 16-bit words as stored; a Uint8Array chunk is raw little-endian bytes of the dtype (copied through unchanged).

import fs from "node:fs";
import nodePath from "node:path";
import { openAtomic, writeFileAtomic } from "./atomic.js";
import { float32ToHalf } from "../tensor/half.js";
import { setOwn, show, type RawTensor } from "./safetensors.js";

/** Dtypes this writer produces. */
export type WriteDtype = "F64" | "F32" | "I32" | "BF16" | "F16";

/** A piece of a tensor's row-major data (see the header for how each kind is encoded). */
export type TensorChunk = Float32Array | Float64Array | Int32Array | Uint16Array | Uint8Array | readonly number[];

export interface TensorToWrite {
  name: string;
  dtype: WriteDtype;
  shape: readonly number[];
  /** The data, in row-major order, in any number of chunks (called once, when the tensor's turn comes). */
  chunks: () => Iterable<TensorChunk> | AsyncIterable<TensorChunk>;
}

export const WRITE_DTYPE_BYTES: Record<WriteDtype, number> = { F64: 8, F32: 4, I32: 4, BF16: 2, F16: 2 };
const RANK: Record<WriteDtype, number> = { F64: 0, F32: 1, I32: 2, BF16: 3, F16: 4 };
const METADATA_KEY = "__metadata__";
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(where: string, message: string): never {
  throw new Error(`safetensors: ${where}: ${message}`);
}

/** A tensor's place in the file: its byte range in the data section. */
export interface PlannedTensor {
  tensor: TensorToWrite;
  numel: number;
  begin: number;
  end: number;
}

export interface SafetensorsPlan {
  /** 8-byte length + padded JSON header */
  head: Uint8Array;
  /** tensors in file order */
  order: PlannedTensor[];
  /** total file size in bytes */
  fileBytes: number;
}

function checkShape(where: string, t: TensorToWrite): number {
  if (t === null || typeof t !== "object") fail(where, `${show(t)} is not a tensor to write`);
  if (t.name === METADATA_KEY) fail(where, `tensor name '${METADATA_KEY}' is reserved`);
  if (!Object.prototype.hasOwnProperty.call(RANK, t.dtype)) {
    fail(where, `tensor '${t.name}': cannot write dtype ${show(t.dtype)} (${Object.keys(RANK).join(", ")})`);
  }
  if (!Array.isArray(t.shape)) fail(where, `tensor '${t.name}': shape ${show(t.shape)} is not an array`);
  let numel = 1;
  for (const d of t.shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      fail(where, `tensor '${t.name}': shape dimension ${show(d)} is not a non-negative integer (shape ${show(t.shape)})`);
    }
    numel *= d;
  }
  if (!Number.isSafeInteger(numel * 8)) fail(where, `tensor '${t.name}': shape ${show(t.shape)} is too large`);
  return numel;
}

/** Orders the tensors, assigns byte ranges and builds the header (nothing is read from the tensors yet). */
export function planSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>, where = "write"): SafetensorsPlan {
  const seen = new Set<string>();
  const checked = tensors.map((tensor) => {
    const numel = checkShape(where, tensor);
    if (seen.has(tensor.name)) fail(where, `tensor '${tensor.name}' is given twice`);
    seen.add(tensor.name);
    return { tensor, numel };
  });
  checked.sort((a, b) => RANK[a.tensor.dtype] - RANK[b.tensor.dtype] ||
    (a.tensor.name < b.tensor.name ? -1 : a.tensor.name > b.tensor.name ? 1 : 0));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const meta: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      const v = metadata[k];
      if (typeof v !== "string") fail(where, `metadata value for '${k}' is ${show(v)}, not a string`);
      setOwn(meta, k, v);
    }
    setOwn(header, METADATA_KEY, meta);
  }
  let offset = 0;
  const order: PlannedTensor[] = [];
  for (const { tensor, numel } of checked) {
    const size = numel * WRITE_DTYPE_BYTES[tensor.dtype];
    setOwn(header, tensor.name, { dtype: tensor.dtype, shape: tensor.shape.slice(), data_offsets: [offset, offset + size] });
    order.push({ tensor, numel, begin: offset, end: offset + size });
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const n = Math.ceil(json.length / 8) * 8; // pad so the data section starts 8-byte aligned
  const head = new Uint8Array(8 + n);
  const view = new DataView(head.buffer);
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length, 8 + n);
  return { head, order, fileBytes: 8 + n + offset };
}

/** Little-endian bytes of a typed array (a view on little-endian hosts, a byte-swapped copy otherwise). */
function leBytes(a: Float32Array | Float64Array | Int32Array | Uint16Array): Uint8Array {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const w = a.BYTES_PER_ELEMENT, out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += w) for (let j = 0; j < w; j++) out[i + j] = bytes[i + w - 1 - j];
  return out;
}

/** Encodes one chunk as the dtype's little-endian bytes (see the header for the chunk kinds). */
export function encodeChunk(dtype: WriteDtype, chunk: TensorChunk, name: string, where = "write"): Uint8Array {
  if (chunk instanceof Uint8Array) {
    if (chunk.length % WRITE_DTYPE_BYTES[dtype] !== 0) {
      fail(where, `tensor '${name}': a raw chunk of ${chunk.length} bytes is not whole ${dtype} values`);
    }
    return chunk;
  }
  if (chunk instanceof Uint16Array) {
    if (dtype !== "BF16" && dtype !== "F16") fail(where, `tensor '${name}': 16-bit words given for a ${dtype} tensor`);
    return leBytes(chunk);
  }
  const isTyped = chunk instanceof Float32Array || chunk instanceof Float64Array || chunk instanceof Int32Array;
  if (!isTyped && !Array.isArray(chunk)) fail(where, `tensor '${name}': chunk ${Object.prototype.toString.call(chunk)} is not an array of values`);
  switch (dtype) {
    case "F32": return leBytes(chunk instanceof Float32Array ? chunk : Float32Array.from(chunk));
    case "F64": return leBytes(chunk instanceof Float64Array ? chunk : Float64Array.from(chunk));
    case "I32": {
      if (!(chunk instanceof Int32Array)) {
        for (let i = 0; i < chunk.length; i++) {
          const v = chunk[i];
          if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) fail(where, `tensor '${name}': value ${v} is not an int32`);
        }
      }
      return leBytes(chunk instanceof Int32Array ? chunk : Int32Array.from(chunk));
    }
    case "BF16": return leBytes(float32ToHalf("bfloat16", chunk));
    case "F16": return leBytes(float32ToHalf("float16", chunk));
  }
}

/** Sends every tensor's encoded chunks to `put`, checking each tensor's byte count against its shape. */
async function streamData(plan: SafetensorsPlan, put: (bytes: Uint8Array) => void, where: string): Promise<void> {
  for (const { tensor, begin, end } of plan.order) {
    let written = 0;
    for await (const chunk of tensor.chunks()) {
      const bytes = encodeChunk(tensor.dtype, chunk, tensor.name, where);
      if (written + bytes.length > end - begin) {
        fail(where, `tensor '${tensor.name}': data is longer than ${tensor.dtype} shape [${tensor.shape}] (${end - begin} bytes)`);
      }
      put(bytes);
      written += bytes.length;
    }
    if (written !== end - begin) {
      fail(where, `tensor '${tensor.name}': data has ${written} bytes but ${tensor.dtype} shape [${tensor.shape}] needs ${end - begin}`);
    }
  }
}

/**
 * Writes a safetensors file at `path`, streaming: the header first, then each tensor's chunks as they come.
 * Atomic: `path` is replaced only when everything was written and fsynced; on any error (including bad data from
 * a chunk source) it is left as it was and the temp file is removed.
 */
export async function writeSafetensorsFile(path: string, tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Promise<void> {
  const plan = planSafetensors(tensors, metadata, path);
  const file = openAtomic(path);
  try {
    file.write(plan.head);
    await streamData(plan, (b) => file.write(b), path);
    if (file.size !== plan.fileBytes) fail(path, `wrote ${file.size} bytes, planned ${plan.fileBytes}`);
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------------------
// In memory (small files)
// ---------------------------------------------------------------------------------------------------------

/** A RawTensor as a tensor to write (its own dtype), after checking that data matches dtype and shape. */
export function rawToWrite(name: string, t: RawTensor, where = "write"): TensorToWrite {
  if (t === null || typeof t !== "object") fail(where, `tensor '${name}': ${show(t)} is not a RawTensor`);
  const expected = t.dtype === "F32" ? Float32Array : t.dtype === "I32" ? Int32Array : t.dtype === "F64" ? Float64Array : null;
  if (expected === null) fail(where, `tensor '${name}': cannot write dtype ${show(t.dtype)} (F32, I32, F64 only)`);
  if (!(t.data instanceof expected)) {
    fail(where, `tensor '${name}': dtype ${t.dtype} needs ${expected.name} data, got ${Object.prototype.toString.call(t.data)}`);
  }
  const numel = checkShape(where, { name, dtype: t.dtype, shape: t.shape, chunks: () => [] });
  if (numel !== t.data.length) {
    fail(where, `tensor '${name}': shape ${show(t.shape)} has ${numel} elements but data has ${t.data.length}`);
  }
  return { name, dtype: t.dtype, shape: t.shape, chunks: () => [t.data] };
}

/**
 * Serialises in-memory tensors (F32, I32, F64) and optional string metadata to safetensors bytes, with the same
 * planner and encoder as the streaming writer.
 */
export function writeSafetensors(
  tensors: Map<string, RawTensor> | Record<string, RawTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const items = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const plan = planSafetensors(items.map(([name, t]) => rawToWrite(name, t)), metadata);
  const out = new Uint8Array(plan.fileBytes);
  out.set(plan.head, 0);
  let pos = plan.head.length;
  for (const { tensor } of plan.order) {
    for (const chunk of tensor.chunks() as Iterable<TensorChunk>) {
      const bytes = encodeChunk(tensor.dtype, chunk, tensor.name);
      out.set(bytes, pos);
      pos += bytes.length;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Hugging Face sharding
// ---------------------------------------------------------------------------------------------------------

export const SINGLE_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";
const SHARD_RE = /^model-\d{5}-of-\d{5}\.safetensors$/;

/** HF's default shard limit of `save_pretrained` (5 GB, decimal). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/**
 * Splits tensors (in the given order) into shards as HF's `split_torch_state_dict_into_shards` does: a new shard
 * starts when the next tensor would take the current one past `maxShardBytes`; a tensor larger than the limit
 * gets a shard of its own.
 */
export function shardTensors(tensors: readonly TensorToWrite[], maxShardBytes: number): TensorToWrite[][] {
  const shards: TensorToWrite[][] = [];
  let current: TensorToWrite[] = [], size = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * WRITE_DTYPE_BYTES[t.dtype];
    if (current.length > 0 && size + bytes > maxShardBytes) { shards.push(current); current = []; size = 0; }
    current.push(t);
    size += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/** The weight file names of a save: `model.safetensors`, or `model-0000i-of-0000n.safetensors`. */
function shardName(i: number, n: number): string {
  return `model-${String(i + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`;
}

/**
 * Writes a state dict into `dir` as HF does: `model.safetensors` when it fits one shard, else shards
 * `model-0000i-of-0000n.safetensors` and `model.safetensors.index.json` ({metadata: {total_size}, weight_map},
 * written last). Each file is replaced atomically; files of an earlier save in the other layout (or with another
 * shard count) are removed afterwards, so the directory holds exactly one consistent set. Returns the file names.
 */
export async function writeSafetensorsSharded(
  dir: string,
  tensors: readonly TensorToWrite[],
  opts: { maxShardBytes?: number; metadata?: Record<string, string> } = {},
): Promise<string[]> {
  const max = opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(max > 0)) fail(dir, `maxShardBytes must be positive, got ${max}`);
  for (const t of tensors) checkShape(dir, t);
  fs.mkdirSync(dir, { recursive: true });
  const shards = shardTensors(tensors, max);
  const names = shards.length === 1 ? [SINGLE_FILE] : shards.map((_, i) => shardName(i, shards.length));
  for (let i = 0; i < shards.length; i++) await writeSafetensorsFile(nodePath.join(dir, names[i]), shards[i], opts.metadata);
  if (shards.length > 1) {
    const weightMap: Record<string, string> = {};
    let total = 0;
    const entries = shards.flatMap((s, i) => s.map((t) => [t, names[i]] as const));
    entries.sort(([a], [b]) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const [t, file] of entries) {
      setOwn(weightMap, t.name, file);
      total += t.shape.reduce((a, b) => a * b, 1) * WRITE_DTYPE_BYTES[t.dtype];
    }
    writeFileAtomic(nodePath.join(dir, INDEX_FILE), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + "\n");
  }
  // remove what an earlier save left in the other layout
  const keep = new Set([...names, ...(shards.length > 1 ? [INDEX_FILE] : [])]);
  for (const f of fs.readdirSync(dir)) {
    if ((f === SINGLE_FILE || f === INDEX_FILE || SHARD_RE.test(f)) && !keep.has(f)) fs.unlinkSync(nodePath.join(dir, f));
  }
  return names;
}
