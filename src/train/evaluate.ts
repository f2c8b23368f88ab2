/**
 * Held-out bits-per-byte (paper eq. 18):
 *   BPB = Σ_t CE_t / (ln 2 · n_bytes)
 * with CE the next-byte cross-entropy in nats summed over every scored target and n_bytes the number of
 * targets (every byte of every evaluation row, including the first byte after BOS).
 * Works for any model given as "batch -> logits" (byte LM, entropy model, BLT with its patch lengths).
 */
import { scopeAsync } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/dtype.js';
import * as ops from '../ops/index.js';
import type { ByteBatch } from './data.js';

export interface EvalResult {
  bpb: number;
  /** summed cross-entropy, nats */
  sumNats: number;
  bytes: number;
}

/** Device tensors of a batch's inputs and targets, int32 [B, T]. */
export function batchTensors(batch: ByteBatch, device: Device): { ids: Tensor; targets: Tensor } {
  return {
    ids: ops.tensor(batch.inputs, [batch.B, batch.T], { device }),       // [B, T]
    targets: ops.tensor(batch.targets, [batch.B, batch.T], { device }),  // [B, T]
  };
}

/**
 * Eq. 18 over the batches. `prepare` (optional, async: e.g. entropy patching, which reads entropies back) runs
 * first; `logitsOf` then returns logits [B, T, V] synchronously, without autograd.
 */
export async function heldOutBpb<X = undefined>(batches: ByteBatch[], device: Device,
  logitsOf: (ids: Tensor, prepared: X, batch: ByteBatch) => Tensor,
  prepare?: (ids: Tensor, batch: ByteBatch) => Promise<X>): Promise<EvalResult> {
  let sumNats = 0;
  let bytes = 0;
  for (const batch of batches) {
    sumNats += await scopeAsync(async () => {
      const { ids, targets } = batchTensors(batch, device);
      const prepared = prepare ? await prepare(ids, batch) : (undefined as X);
      const total = noGrad(() => ops.crossEntropy(logitsOf(ids, prepared, batch), targets, { reduction: 'sum' }));
      return (await total.data())[0];
    });
    bytes += batch.B * batch.T;
  }
  // eq. 18: BPB = Σ CE (nats) / (ln 2 · n_bytes)
  return { bpb: sumNats / (Math.LN2 * bytes), sumNats, bytes };
}
