/**
 * softmax and logSoftmax along the last axis, numerically stable (the row maximum is subtracted first).
 *
 *   y = softmax(x):     dx = y * (g - sum(g * y))
 *   y = logSoftmax(x):  dx = g - softmax(x) * sum(g)
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { checkFloat } from './check.js';
import { mul, sub, exp } from './elementwise.js';
import { sum } from './reduce.js';
import { normAxis } from '../tensor/shape.js';
import { transpose } from './movement.js';

function lastAxis(x: Tensor, axis: number, op: string): number {
  checkFloat(op, x);
  if (x.rank === 0) throw new Error(`${op}: needs rank >= 1`);
  return normAxis(axis, x.rank, op);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  const ax = lastAxis(x, axis, 'softmax');
  if (ax !== x.rank - 1) return transpose(softmax(transpose(x, ax, -1)), ax, -1);
  const cols = x.shape[x.rank - 1], rows = x.size / Math.max(cols, 1);
  const y: Tensor = record('softmax', x.backend.softmaxLast(x.storage, rows, cols), x.shape, [x],
    (g) => [mul(y, sub(g, sum(mul(g, y), -1, true)))]);
  return y;
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const ax = lastAxis(x, axis, 'logSoftmax');
  if (ax !== x.rank - 1) return transpose(logSoftmax(transpose(x, ax, -1)), ax, -1);
  const cols = x.shape[x.rank - 1], rows = x.size / Math.max(cols, 1);
  const y: Tensor = record('logSoftmax', x.backend.logSoftmaxLast(x.storage, rows, cols), x.shape, [x],
    (g) => [sub(g, mul(exp(y), sum(g, -1, true)))]);
  return y;
}
