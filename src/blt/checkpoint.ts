/**
 * BLT checkpoints, written in the Hugging Face layout (transformers' BltForCausalLM):
 *   dir/config.json                      HF BltConfig (parsed by config.ts; HF defaults fill omitted fields)
 *   dir/model.safetensors                state dict of BltForCausalLM (HF key names)
 *   or dir/model.safetensors.index.json  + model-0000x-of-0000y.safetensors (sharded above a size, as HF does)
 *
 * Loading reads any packaging in two steps: src/blt/packaging/open.ts `openCheckpoint(dir)` detects it and reads
 * only config files and headers ({config, tensors: HF key -> TensorSource}, every shape checked against
 * `bltWeightShapes`); src/blt/load-sources.ts builds the model from that, each tensor read once into its final
 * storage (16-bit stays 16-bit, the hash table in row blocks or left on disk). Saving streams tensor by tensor
 * (src/io/safetensors-writer.ts) in each tensor's own dtype or one asked for (e.g. bfloat16), then writes
 * config.json; a saved checkpoint loads back to the same model.
 */
import nodePath from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { isHalf, type DType, type HalfDType } from '../tensor/dtype.js';
import { halfToFloat32 } from '../tensor/half.js';
import { writeFileAtomic } from '../io/atomic.js';
import { FILE_DTYPE_BYTES, rowChunks } from '../io/tensor-source.js';
import { writeSafetensorsSharded, type TensorToWrite, type WriteDtype } from '../io/safetensors-writer.js';
import { BlockedTable } from '../nn/blocked-table.js';
import { DiskTable } from '../nn/disk-table.js';
import type { StateValue } from '../nn/module.js';
import type { BltConfig } from './config/types.js';
import { configToHfJson } from './config/write.js';
import { Blt } from './blt.js';
import { loadAnyCheckpoint, type BuildOptions } from './load-sources.js';
import { nodeFiles } from '../io/node-files.js';
import type { OpenOptions } from './packaging/open.js';

export { bltWeightShapes } from './weight-shapes.js';

export type LoadOptions = OpenOptions & BuildOptions;

/** Loads a BLT checkpoint folder in any packaging (src/blt/packaging/open.ts) into its final storage (load-sources.ts). */
export async function loadBltCheckpoint(dir: string, opts: LoadOptions = {}): Promise<Blt> {
  return loadAnyCheckpoint(nodeFiles, dir, opts);
}

/** A freshly initialised model (Meta's init: normal with std in_dim^-1/2), seeded. */
export function initBlt(cfg: BltConfig, seed = 0): Blt {
  return new Blt(cfg, { seed });
}

const WRITE_DTYPE: Record<'float32' | HalfDType, WriteDtype> = { float32: 'F32', bfloat16: 'BF16', float16: 'F16' };

/** The chunks of one tensor's values: 16-bit CPU words as they are when written in their own format, else float32 values. */
async function* tensorChunks(t: Tensor, to: WriteDtype): AsyncGenerator<Float32Array | Float64Array | Int32Array | Uint16Array> {
  if (t.device === 'cpu' && isHalf(t.dtype) && WRITE_DTYPE[t.dtype] === to) yield t.halfBits();
  else yield await t.data();
}

/** One state entry as a tensor to write: a tensor, a table's blocks one after another, or a disk table's rows. */
export function stateToWrite(key: string, v: StateValue, dtype?: 'float32' | HalfDType): TensorToWrite {
  if (v instanceof DiskTable) {
    const src = v.source;
    const own: WriteDtype = src.dtype === 'BF16' || src.dtype === 'F16' ? src.dtype : 'F32';
    const to = dtype ? WRITE_DTYPE[dtype] : own;
    return {
      name: key, dtype: to, shape: [...src.shape],
      chunks: function* () {
        for (const bytes of rowChunks(src)) {
          if (src.dtype === to) { yield bytes; continue; } // same format: the file's bytes as they are
          const k = bytes.length / FILE_DTYPE_BYTES[src.dtype];
          if (src.dtype === 'F64') yield new Float64Array(bytes.buffer, bytes.byteOffset, k);
          else if (src.dtype === 'F32') yield new Float32Array(bytes.buffer, bytes.byteOffset, k);
          else yield halfToFloat32(src.dtype === 'BF16' ? 'bfloat16' : 'float16', new Uint16Array(bytes.buffer, bytes.byteOffset, k), new Float32Array(k));
        }
      },
    };
  }
  const tensors = v instanceof BlockedTable ? v.blocks : [v];
  const own = tensors[0].dtype;
  const to = dtype ? WRITE_DTYPE[dtype] : isHalf(own) ? WRITE_DTYPE[own] : 'F32';
  return {
    name: key, dtype: to, shape: [...v.shape],
    chunks: async function* () { for (const t of tensors) yield* tensorChunks(t, to); },
  };
}

/** The dtype a state entry holds (a disk table: its file's). */
function entryDtype(v: StateValue): DType {
  if (!(v instanceof DiskTable)) return v.dtype;
  return v.source.dtype === 'BF16' ? 'bfloat16' : v.source.dtype === 'F16' ? 'float16' : 'float32';
}

export interface SaveOptions {
  /** dtype of every tensor in the file (default: the model's 16-bit format if it has 16-bit weights, else float32) */
  dtype?: 'float32' | HalfDType;
  /** shard above this many bytes (default HF's 5 GB) */
  maxShardBytes?: number;
}

/**
 * Writes config.json and the weights (HF keys; model.safetensors, or shards + index above maxShardBytes) into
 * `dir` (created if needed), streaming tensor by tensor; every file is replaced atomically, config.json last.
 */
export async function saveBltCheckpoint(model: Blt, dir: string, opts: SaveOptions = {}): Promise<void> {
  const entries = model.stateEntries();
  // a model loaded from a 16-bit checkpoint is saved in that format throughout (its float32 norm scales hold
  // 16-bit values exactly), as HF saves every tensor in the model's torch_dtype
  const dtype = opts.dtype ?? entries.map(([, v]) => entryDtype(v)).find((d): d is HalfDType => isHalf(d));
  const tensors = entries.map(([key, v]) => stateToWrite(key, v, dtype));
  await writeSafetensorsSharded(dir, tensors, { maxShardBytes: opts.maxShardBytes, metadata: { format: 'pt' } });
  writeFileAtomic(nodePath.join(dir, 'config.json'), JSON.stringify(configToHfJson(model.config), null, 2) + '\n');
}
