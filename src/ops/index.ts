/**
 * All tensor ops in one namespace: `import * as ops from './ops/index.js'`.
 */
import { Tensor } from '../tensor/tensor.js';
import { backward as runBackward } from '../autograd/engine.js';
import { add } from './elementwise.js';
import { onesLike } from './creation.js';

export * from './creation.js';
export * from './elementwise.js';
export * from './reduce.js';
export * from './movement.js';
export * from './matmul.js';
export * from './softmax.js';
export * from './loss.js';
export * from './indexing.js';
export * from './norm.js';
export * from './rope.js';
export * from './attention.js';
export * from './device.js';

/**
 * Back-propagates from `loss` (a scalar, or any tensor with an explicit `seed` gradient) into the `.grad`
 * of every leaf tensor with requiresGrad. Gradients accumulate across calls; clear them with zeroGrad.
 */
export function backward(loss: Tensor, seed: Tensor | null = null): void {
  runBackward(loss, seed, add, onesLike);
}
