/**
 * Ops composed from the primitives below them (movement, reduce, elementwise), so they need no backward of
 * their own: the gradient flows back through the ops they are built from.
 */
import { Tensor } from '../tensor/tensor.js';
import { normAxis, shapeToString, sizeOf } from '../tensor/shape.js';
import { checkSameDevice } from './check.js';
import { pad, reshape, unsqueeze } from './movement.js';
import { max, reducedShape, resolveAxes, sum } from './reduce.js';
import { add, affine, exp, log, sub } from './elementwise.js';

// ---- reductions built from sum and max ------------------------------------------------------------------

/** mean = sum / count */
export function mean(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = resolveAxes(axes, x.rank, 'mean');
  const count = sizeOf(ax.map((a) => x.shape[a]));
  if (count === 0) throw new Error(`mean: reducing over an empty axis of ${shapeToString(x.shape)}`);
  return affine(sum(x, ax, keepdim), 1 / count, 0);
}

/** log(sum(exp(x))) computed stably as m + log(sum(exp(x - m))) with m = max (no gradient through m needed) */
export function logsumexp(x: Tensor, axes?: number | readonly number[], keepdim = false): Tensor {
  const ax = resolveAxes(axes, x.rank, 'logsumexp');
  const m = max(x.detach(), ax, true); // a constant shift: no gradient flows through it
  const lse = add(log(sum(exp(sub(x, m)), ax, true)), m);
  return keepdim ? lse : reshape(lse, reducedShape(x.shape, ax, false));
}

// ---- joining tensors --------------------------------------------------------------------------------------

/** Joins tensors along an existing axis (all other dims equal). Built from pad + add, so it needs no backward. */
export function concat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  checkSameDevice('concat', ...xs);
  const ax = normAxis(axis, xs[0].rank, 'concat');
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      throw new Error(`concat: shapes ${xs.map((x) => shapeToString(x.shape)).join(', ')} differ outside axis ${ax}`);
    }
  }
  const total = xs.reduce((s, t) => s + t.shape[ax], 0);
  const outShape = xs[0].shape.map((d, i) => (i === ax ? total : d));
  let offset = 0;
  let out: Tensor | null = null;
  for (const t of xs) {
    const placed = pad(t, t.shape.map((_, i) => (i === ax ? offset : 0)), outShape);
    out = out === null ? placed : add(out, placed);
    offset += t.shape[ax];
  }
  return out!;
}

/** Stacks equal-shaped tensors along a new axis. */
export function stack(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('stack: needs at least one tensor');
  const ax = axis < 0 ? axis + xs[0].rank + 1 : axis;
  return concat(xs.map((t) => unsqueeze(t, ax)), ax);
}
