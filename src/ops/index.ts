/**
 * All tensor ops in one namespace: `import * as ops from './ops/index.js'`.
 */
import { Tensor } from '../tensor/tensor.js';
import { backward as runBackward } from '../autograd/engine.js';
import { add } from './elementwise.js';
import { onesLike } from './creation.js';

// Bottom-up: each file imports only from check.ts (the shared argument checks) and the files above it in
// this list, so the ops can be read in this order (checked by spec/core/ops-imports.spec.ts).
export * from './creation.js';     // tensors from data, constants, random draws
export * from './movement.js';     // reshape, permute, slice, pad, split
export * from './reduce.js';       // sum <-> expand (each other's backward), sumTo, max
export * from './elementwise.js';  // arithmetic, unary functions, comparisons, where (backward via sumTo)
export * from './derived.js';      // mean, logsumexp, concat, stack: composed, no backward of their own
export * from './matmul.js';
export * from './softmax.js';
export * from './indexing.js';
export * from './loss.js';
export * from './norm.js';
export * from './rope.js';
export * from './swiglu.js';    // SwiGLU's gate silu(a) ⊙ b, fused (its own backward)
export * from './attention.js';
export * from './device.js';

/**
 * Back-propagates from `loss` (a scalar, or any tensor with an explicit `seed` gradient) into the `.grad`
 * of every leaf tensor with requiresGrad. Gradients accumulate across calls; clear them with zeroGrad.
 */
export function backward(loss: Tensor, seed: Tensor | null = null): void {
  runBackward(loss, seed, add, onesLike);
}
