/**
 * Reductions along any axes, with keepdim: sum and max (gradient to the arg-max); and broadcasting, expand.
 *
 * sum and expand are each other's backward (summing over axes <-> copying along them), so they live
 * together; sumTo, the "unbroadcast" every broadcasting op's backward needs, is a sum. This file builds
 * only on movement.ts; mean and logsumexp, composed from these and elementwise ops, are in derived.ts.
 *
 * Every reduction is done the same way: move the reduced axes to the end (a permute), view the tensor as
 * [rows, cols] and reduce each row (one backend kernel, sumLast / maxLast).
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { broadcastAxes, broadcastShapes, normAxis, sameShape, shapeToString, sizeOf, type Shape } from '../tensor/shape.js';
import { checkFloat, checkNotHalf } from './check.js';
import { reshape, permute, inversePermutation } from './movement.js';

/** Normalised, sorted, de-duplicated axes (all axes when undefined). */
export function resolveAxes(axes: number | readonly number[] | undefined, rank: number, op: string): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = [...new Set(list.map((a) => normAxis(a, rank, op)))].sort((a, b) => a - b);
  return out;
}

/** Shape after reducing `axes` (kept as size 1 when keepdim). */
export function reducedShape(shape: Shape, axes: number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** Views x as [rows, cols] with the reduced axes last; returns the moved tensor and the permutation used. */
function toRowsCols(x: Tensor, axes: number[]): { moved: Tensor; perm: number[] | null; rows: number; cols: number } {
  const kept = [...Array(x.rank).keys()].filter((i) => !axes.includes(i));
  const perm = [...kept, ...axes];
  const identity = perm.every((p, i) => p === i);
  const moved = identity ? x : permute(x, perm);
  const cols = sizeOf(axes.map((a) => x.shape[a]));
  return { moved, perm: identity ? null : perm, rows: sizeOf(kept.map((a) => x.shape[a])), cols };
}

/** sum over axes ; backward: broadcast the gradient back over the reduced axes */
export function sum(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  checkFloat('sum', x);
  const ax = resolveAxes(axes, x.rank, 'sum');
  const { moved, rows, cols } = toRowsCols(x, ax);
  const outShape = reducedShape(x.shape, ax, keepdim);
  const keptShape = reducedShape(x.shape, ax, true);
  return record('sum', x.backend.sumLast(moved.storage, rows, cols), outShape, [x],
    (g) => [expand(reshape(g, keptShape), x.shape)]);
}

/** Sums a broadcast gradient back to `shape` (the "unbroadcast" of binary-op backward). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const axes = broadcastAxes(shape, g.shape);
  return reshape(sum(g, axes, true), shape);
}

/** Broadcasts x to `shape` (materialised). Backward: sum over the broadcast axes. */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkNotHalf('expand', x);
  const out = broadcastShapes(x.shape, shape, 'expand');
  if (!sameShape(out, shape)) throw new Error(`expand: cannot expand [${x.shape}] to [${shape}]`);
  return record('expand', x.backend.expand(x.storage, x.shape, shape), shape, [x], (g) => [sumTo(g, x.shape)]);
}

/** max over axes ; the gradient flows to the (first) arg-max element of each reduced group only */
export function max(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  checkFloat('max', x);
  const ax = resolveAxes(axes, x.rank, 'max');
  const { moved, perm, rows, cols } = toRowsCols(x, ax);
  if (cols === 0) throw new Error(`max: reducing over an empty axis of ${shapeToString(x.shape)}`);
  const { values, argmax } = x.backend.maxLast(moved.storage, rows, cols);
  const outShape = reducedShape(x.shape, ax, keepdim);
  const argmaxT = new Tensor(argmax, [rows]);
  return record('max', values, outShape, [x], (g) => {
    const scattered = new Tensor(x.backend.scatterLast(g.storage, argmaxT.storage, rows, cols), moved.shape); // [..kept, ..reduced]
    return [perm === null ? scattered : permute(scattered, inversePermutation(perm))];
  });
}
