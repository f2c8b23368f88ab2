/**
 * Cross-entropy over logits, with an ignore index.
 *
 *   CE = -(1/|valid|) * sum_{t valid} log softmax(logits_t)[y_t]
 * Targets below 0 (the ignore index, default -100 as in PyTorch) are skipped and do not count in the mean.
 */
import { Tensor } from '../tensor/tensor.js';
import { shapeToString } from '../tensor/shape.js';
import { checkFloat, checkInt, checkSameDevice } from './check.js';
import { logSoftmax } from './softmax.js';
import { pickLast } from './indexing.js';
import { sum } from './reduce.js';
import { ge, div, neg } from './elementwise.js';
import { reshape } from './movement.js';

export interface CrossEntropyOptions {
  /** Targets equal to this (it must be negative) are ignored. Default -100. */
  ignoreIndex?: number;
  reduction?: 'mean' | 'sum' | 'none';
}

// [doc:cross-entropy]
/** logits [..., V], targets int32 [...] (same leading shape). */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  checkFloat('crossEntropy', logits);
  checkInt('crossEntropy', 'targets', targets);
  checkSameDevice('crossEntropy', logits, targets);
  const ignore = opts.ignoreIndex ?? -100;
  if (ignore >= 0) throw new Error(`crossEntropy: ignoreIndex must be negative, got ${ignore}`);
  const lead = logits.shape.slice(0, -1);
  if (lead.length !== targets.rank || lead.some((d, i) => d !== targets.shape[i])) {
    throw new Error(`crossEntropy: logits ${shapeToString(logits.shape)} and targets ${shapeToString(targets.shape)} do not match`);
  }
  if (targets.device === 'cpu') {
    const t = targets.dataSync(), V = logits.shape[logits.rank - 1];
    for (let i = 0; i < t.length; i++) {
      if (t[i] !== ignore && (t[i] < 0 || t[i] >= V)) {
        throw new Error(`crossEntropy: target ${t[i]} at position ${i} is out of range [0, ${V}) (ignoreIndex ${ignore})`);
      }
    }
  }
  const nll = neg(pickLast(logSoftmax(logits), targets)); // [...] ; ignored positions give 0
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'none') return nll;
  const total = sum(nll);
  if (reduction === 'sum') return total;
  const valid = sum(ge(castFloat(targets, logits), 0)); // number of non-ignored targets (no gradient)
  return div(total, reshape(valid, []));
}

function castFloat(t: Tensor, like: Tensor): Tensor {
  return new Tensor(t.backend.cast(t.storage, like.dtype), t.shape);
}
