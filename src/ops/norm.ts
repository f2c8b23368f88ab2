/**
 * RMSNorm (Zhang & Sennrich 2019; the pre-norm of every BLT transformer layer), fused forward and backward:
 *   RMSNorm(x) = g ⊙ x / sqrt(mean(x^2) + eps)
 * over the last axis, with a learnable scale g. The plain composed version (pow, mean, rsqrt, mul) is kept
 * as `rmsNormReference` and the specs check the fused op against it.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { shapeToString } from '../tensor/shape.js';
import { checkFloat, checkSameDevice } from './check.js';
import { mul, add, rsqrt, pow } from './elementwise.js';
import { mean } from './derived.js';

// [doc:rmsnorm]
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  checkFloat('rmsNorm', x, weight);
  checkSameDevice('rmsNorm', x, weight);
  const D = x.shape[x.rank - 1];
  if (weight.rank !== 1 || weight.shape[0] !== D) {
    throw new Error(`rmsNorm: weight ${shapeToString(weight.shape)} does not match the last axis of ${shapeToString(x.shape)}`);
  }
  const rows = x.size / Math.max(D, 1);
  const { y, rstd } = x.backend.rmsNorm(x.storage, weight.storage, rows, D, eps);
  const rstdT = new Tensor(rstd, [rows]);
  return record('rmsNorm', y, x.shape, [x, weight], (g) => {
    const { dx, dw } = x.backend.rmsNormBackward(g.storage, x.storage, weight.storage, rstdT.storage, rows, D);
    return [new Tensor(dx, x.shape), new Tensor(dw, [D])];
  });
}

/** The same function composed from primitive ops (readable reference; slower). */
export function rmsNormReference(x: Tensor, weight: Tensor, eps: number): Tensor {
  return mul(mul(x, rsqrt(add(mean(pow(x, 2), -1, true), eps))), weight);
}
