/**
 * Builds a Blt from an opened checkpoint (src/blt/packaging/open.ts: config + TensorSources under HF keys, in any
 * packaging), reading every tensor once, straight into its final storage; no second copy of the model is ever
 * in memory:
 *   - the model is first built shapes only (src/nn/init.ts): placeholders, nothing allocated;
 *   - 16-bit weights stay 16-bit (bfloat16/float16 storage, computed in float32; `dtype: 'float32'` widens them,
 *     to train), float32 stays float32, norm scales become float32;
 *   - the fused hash table goes into row blocks split at its hash tables under the device's storage limit
 *     (src/nn/blocked-table.ts), or stays in the checkpoint file and is read row by row when looked up
 *     (src/nn/disk-table.ts): `hashTables`, automatically above AUTO_DISK_TABLE_BYTES, with a message.
 * Tensors are read in chunks of at most 64 MB.
 */
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { bytesPerElement, isHalf, type Device, type DType, type HalfDType } from '../tensor/dtype.js';
import { halfToFloat32 } from '../tensor/half.js';
import { getBackend } from '../backend/backend.js';
import { FILE_DTYPE_BYTES, numelOf, rowChunks, sliceRows, type TensorSource } from '../io/tensor-source.js';
import { BlockedTable, rowBlockLayout } from '../nn/blocked-table.js';
import { DiskTable } from '../nn/disk-table.js';
import { ShapesOnly } from '../nn/init.js';
import type { StateValue } from '../nn/module.js';
import { Blt } from './blt.js';
import type { CheckpointFiles } from '../io/checkpoint-files.js';
import { openCheckpoint, weightProblems, type OpenedCheckpoint, type OpenOptions } from './packaging/open.js';

export interface BuildOptions {
  /** device to put the weights on (default the CPU) */
  device?: Device;
  /** weights in memory: 'file' (default: 16-bit stays 16-bit, float32 stays float32) or 'float32' (to train) */
  dtype?: 'file' | 'float32';
  /**
   * The hash n-gram table: 'memory' (row blocks), 'disk' (left in the checkpoint, rows read on demand; inference
   * only), or 'auto' (default): on disk when it would take more than AUTO_DISK_TABLE_BYTES in memory.
   */
  hashTables?: 'auto' | 'memory' | 'disk';
  /** largest row block of a table in bytes (default: the device's Backend.maxStorageBytes; tests force small ones) */
  blockBytes?: number;
  /** where to say what was decided (default: nowhere) */
  log?: (message: string) => void;
}

/**
 * 'auto' leaves a hash table on disk above 1 GiB: a lookup reads one row per table per byte, so holding a table
 * that large buys little (BLT-1B's is 6.1 GB in bfloat16, more than the rest of the model).
 */
export const AUTO_DISK_TABLE_BYTES = 2 ** 30;

/** The dtype a tensor gets in memory: norm scales (rank 1) and float32/float64 files as float32; 16-bit as stored. */
function memoryDtype(src: TensorSource, opts: BuildOptions): DType {
  if (src.shape.length < 2 || opts.dtype === 'float32') return 'float32';
  return src.dtype === 'BF16' ? 'bfloat16' : src.dtype === 'F16' ? 'float16' : 'float32';
}

/** Rows [start, start + count) of a source read into new storage of `dtype` on `device`, in chunks. */
function readIntoTensor(src: TensorSource, dtype: DType, device: Device, start: number, count: number, shape: number[]): Tensor {
  const be = getBackend(device);
  const n = numelOf(shape);
  const half = isHalf(dtype) ? new Uint16Array(n) : null;
  const values = half ? null : new Float32Array(n);
  let at = 0;
  const fmt: HalfDType | null = src.dtype === 'BF16' ? 'bfloat16' : src.dtype === 'F16' ? 'float16' : null;
  for (const bytes of rowChunks(src, 64 << 20, start, count)) { // fresh 0-aligned buffers
    const k = bytes.length / FILE_DTYPE_BYTES[src.dtype];
    if (half) half.set(new Uint16Array(bytes.buffer, bytes.byteOffset, k), at); // dtype == the file's format
    else if (fmt) halfToFloat32(fmt, new Uint16Array(bytes.buffer, bytes.byteOffset, k), values!, at);
    else if (src.dtype === 'F64') values!.set(new Float64Array(bytes.buffer, bytes.byteOffset, k), at);
    else values!.set(new Float32Array(bytes.buffer, bytes.byteOffset, k), at);
    at += k;
  }
  return new Tensor(half ? be.uploadHalf(half, dtype as HalfDType) : be.upload(values!), shape);
}

/** A gigabyte count for messages. */
const gb = (bytes: number): string => `${(bytes / 1e9).toFixed(1)} GB`;

/**
 * Builds the model of an opened checkpoint (see the header): shapes checked first, then every tensor read once
 * into its final storage. The caller closes the checkpoint's files afterwards (a table left on disk reopens its
 * own when read).
 */
export function bltFromCheckpoint(ckpt: OpenedCheckpoint, opts: BuildOptions = {}): Blt {
  const cfg = ckpt.config, device = opts.device ?? 'cpu';
  const problems = weightProblems(ckpt.tensors, cfg); // openCheckpoint checked them; a hand-made checkpoint may not be
  if (problems.length > 0) {
    throw new Error(`BLT checkpoint ${ckpt.dir}: ${problems.length} problem(s) with the weights:\n  ${problems.slice(0, 20).join('\n  ')}`);
  }
  const maxBytes = opts.blockBytes ?? getBackend(device).maxStorageBytes;
  const model = new Blt(cfg, { rng: new ShapesOnly() }); // every weight a placeholder: nothing allocated yet
  const build = (key: string, placeholder: StateValue): StateValue => {
    const src = ckpt.tensors.get(key)!;
    const dtype = memoryDtype(src, opts);
    const requiresGrad = placeholder instanceof Tensor ? placeholder.requiresGrad : placeholder instanceof BlockedTable && placeholder.blocks[0].requiresGrad;
    const named = (t: Tensor, name: string): Tensor => { t.requiresGrad = requiresGrad; t.name = name; return keep(t); };
    if (placeholder instanceof Tensor) return named(readIntoTensor(src, dtype, device, 0, src.shape[0] ?? 1, [...src.shape]), key);
    // a table (the fused hash table [F·G·V, dE]): on disk, or in row blocks split at the hash tables
    const [rows, dim] = src.shape;
    const bytes = rows * dim * bytesPerElement(dtype);
    const mode = opts.hashTables ?? 'auto';
    if (mode === 'disk' || (mode === 'auto' && bytes > AUTO_DISK_TABLE_BYTES)) {
      opts.log?.(`${key} [${rows}, ${dim}] (${gb(bytes)} as ${dtype}) stays in ${src.file} and is read row by row on demand ` +
        `(inference only; hashTables: 'memory' loads it, which training needs)`);
      return new DiskTable(src, device, key);
    }
    const blocks = rowBlockLayout(rows, dim * bytesPerElement(dtype), maxBytes, cfg.hash.vocab)
      .map(([s, n]) => named(readIntoTensor(sliceRows(src, s, n), dtype, device, 0, n, [n, dim]), key));
    return new BlockedTable(blocks);
  };
  model.replaceState(build);
  // 16-bit weights and a table on disk are inference storage: such a model is loaded frozen, so forward (sync or
  // async) records no graph, and model.requiresGrad(true) says why it cannot be trained (Module.untrainable).
  if (model.untrainable()) model.requiresGrad(false);
  return model;
}

/** openCheckpoint + bltFromCheckpoint: any packaging, detected from the files (on disk: nodeFiles; in a browser: memoryFiles). */
export function loadAnyCheckpoint(files: CheckpointFiles, dir: string, opts: OpenOptions & BuildOptions = {}): Blt {
  const ckpt = openCheckpoint(files, dir, opts);
  try {
    return bltFromCheckpoint(ckpt, opts);
  } finally {
    ckpt.close(); // every tensor has been read, except a table left on disk, which reopens its file
  }
}
