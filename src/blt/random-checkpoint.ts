/**
 * A random BLT checkpoint of any config, written tensor by tensor (`blt init`): for tests and benchmarks at the
 * real scale (BLT-1B: 4.5B parameters; BLT-7B: 10.5B) without ever holding the model in memory.
 *
 * The model is built shapes-only (src/nn/init.ts), which gives every key with its shape and the model's own
 * initialisation (a truncated normal with each layer's std; norm scales 1). Each tensor is then drawn in chunks
 * from its own generator, seeded from (seed, key), and streamed to the safetensors writer (float32 values,
 * rounded to bfloat16 by the writer when asked), sharded like HF above a size. Per-key generators make every
 * tensor independent of the order the writer asks for them and of the sharding, so the same seed always gives
 * the same checkpoint. (The values are not those of `new Blt(cfg, { seed })`, which draws one stream in
 * construction order.)
 */
import nodePath from 'node:path';
import { Rng, fillTruncatedNormal } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { writeFileAtomic } from '../io/atomic.js';
import { writeSafetensorsSharded, type TensorToWrite } from '../io/safetensors-writer.js';
import { ShapesOnly, placeholderInit } from '../nn/init.js';
import { BlockedTable } from '../nn/blocked-table.js';
import type { BltConfig } from './config/types.js';
import { configToHfJson } from './config/write.js';
import { Blt } from './blt.js';

export interface RandomCheckpointOptions {
  dtype: 'float32' | 'bfloat16';
  seed?: number;
  /** shard above this many bytes (default HF's 5 GB) */
  maxShardBytes?: number;
}

/** Values per generated chunk (4 MB of float32). */
const CHUNK = 1 << 20;

/** FNV-1a hash of a key, mixed with the seed: the seed of that tensor's generator. */
export function keySeed(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Writes config.json and random weights for `cfg` into `dir`; returns the weight files and the parameter count. */
export async function writeRandomCheckpoint(cfg: BltConfig, dir: string, opts: RandomCheckpointOptions): Promise<{ files: string[]; parameters: number }> {
  const seed = opts.seed ?? 0;
  const model = new Blt(cfg, { rng: new ShapesOnly() });
  let parameters = 0;
  const tensors: TensorToWrite[] = model.stateEntries().map(([key, v]) => {
    const t = v instanceof BlockedTable ? v.blocks[0] : v as Tensor; // shapes-only: a table is one placeholder
    const shape = [...v.shape];
    const n = shape.reduce((a, b) => a * b, 1);
    parameters += n;
    const init = placeholderInit(t);
    const dtype = opts.dtype === 'bfloat16' ? 'BF16' : 'F32';
    if (init === null) return { name: key, dtype, shape, chunks: () => [t.dataSync()] }; // a small made tensor (norm scales)
    return {
      name: key, dtype, shape,
      chunks: function* () {
        const rng = new Rng(keySeed(seed, key));
        const buf = new Float32Array(Math.min(CHUNK, n));
        for (let done = 0; done < n; done += buf.length) {
          yield fillTruncatedNormal(rng, buf.subarray(0, Math.min(buf.length, n - done)), init.std);
        }
      },
    };
  });
  const files = await writeSafetensorsSharded(dir, tensors, { maxShardBytes: opts.maxShardBytes, metadata: { format: 'pt' } });
  const json = configToHfJson(cfg) as Record<string, unknown>;
  json.torch_dtype = opts.dtype; // HF records the weights' dtype
  writeFileAtomic(nodePath.join(dir, 'config.json'), JSON.stringify(json, null, 2) + '\n');
  return { files, parameters };
}
