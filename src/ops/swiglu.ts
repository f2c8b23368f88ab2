/**
 * SwiGLU's gate (Shazeer 2020, "GLU Variants Improve Transformer"), the elementwise heart of every feed-forward
 * layer of BLT's transformers (paper §4.7 follows Llama 3):
 *   FFN(x) = W2 (silu(W1 x) ⊙ W3 x),  silu(a) = a σ(a)
 * This op is the ⊙ part, fused: swiglu(a, b) = silu(a) ⊙ b. Unfused, the forward takes two passes over the
 * [tokens, hidden] activations and the backward eight (silu's derivative alone is σ, 1 - σ, a product, + 1, two
 * more products); fused, one each way. Its backward:
 *   ∂/∂b = g ⊙ silu(a)
 *   ∂/∂a = g ⊙ b ⊙ silu'(a),  silu'(a) = σ(a) (1 + a (1 - σ(a)))
 * It equals ops.mul(ops.silu(a), b) (spec/core/swiglu.spec.ts); the gradients are not differentiable again.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { sameShape, shapeToString } from '../tensor/shape.js';
import { checkFloat, checkSameDevice } from './check.js';

// [doc:swiglu-op]
/** silu(gate) ⊙ up for same-shape gate and up (no broadcasting). */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  checkSameDevice('swiglu', gate, up);
  checkFloat('swiglu', gate, up);
  if (!sameShape(gate.shape, up.shape)) {
    throw new Error(`swiglu: gate ${shapeToString(gate.shape)} and up ${shapeToString(up.shape)} must have the same shape`);
  }
  const be = gate.backend;
  return record('swiglu', be.swiglu(gate.storage, up.storage), gate.shape, [gate, up], (g) => {
    const { dGate, dUp } = be.swigluBackward(g.storage, gate.storage, up.storage);
    return [new Tensor(dGate, gate.shape), new Tensor(dUp, up.shape)];
  });
}
