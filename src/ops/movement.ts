/**
 * Shape ops: reshape, permute/transpose, slice/narrow, pad, split, squeeze/unsqueeze.
 * Storage is always contiguous, so reshape is free (shared storage) and the others copy.
 *
 * The bottom layer of the ops: every backward here is another op of this file. Broadcasting (`expand`)
 * is in reduce.ts beside `sum`, its backward; concat and stack, built from pad + add, are in derived.ts.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { normAxis, sizeOf, shapeToString, type Shape } from '../tensor/shape.js';
import { checkNotHalf } from './check.js';

/** Same values, new shape (one dim may be -1 = inferred). Free: shares storage. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const resolved = [...shape];
  const neg = resolved.indexOf(-1);
  if (neg >= 0) {
    const known = sizeOf(resolved.filter((_, i) => i !== neg));
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`reshape: cannot reshape ${shapeToString(x.shape)} to ${shapeToString(shape)}`);
    }
    resolved[neg] = x.size / known;
  }
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot reshape ${shapeToString(x.shape)} (${x.size} elements) to ${shapeToString(shape)}`);
  }
  // Shares x's storage (reference-counted), recorded like any op so the gradient is reshaped back.
  return record('reshape', x.sharedStorage(), resolved, [x], (g) => [reshape(g, x.shape)]);
}

/** Reorders axes: out.shape[i] = x.shape[perm[i]]. Backward: the inverse permutation. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkNotHalf('permute', x);
  if (perm.length !== x.rank || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
    throw new Error(`permute: [${perm}] is not a permutation of the ${x.rank} axes of ${shapeToString(x.shape)}`);
  }
  const outShape = perm.map((p) => x.shape[p]);
  return record('permute', x.backend.permute(x.storage, x.shape, perm), outShape, [x],
    (g) => [permute(g, inversePermutation(perm))]);
}

/** The permutation that undoes `perm`: permute(permute(x, perm), inversePermutation(perm)) = x. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => { inv[p] = i; });
  return inv;
}

/** Swaps two axes. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const ia = normAxis(a, x.rank, 'transpose'), ib = normAxis(b, x.rank, 'transpose');
  const perm = [...Array(x.rank).keys()];
  [perm[ia], perm[ib]] = [perm[ib], perm[ia]];
  return permute(x, perm);
}

/** x[..., start:start+length, ...] along one axis. Backward: pad the gradient with zeros. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const ax = normAxis(axis, x.rank, 'narrow');
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > x.shape[ax]) {
    throw new Error(`narrow: range [${start}, ${start + length}) is out of bounds for axis ${ax} of ${shapeToString(x.shape)}`);
  }
  const starts = x.shape.map((_, i) => (i === ax ? start : 0));
  const outShape = x.shape.map((d, i) => (i === ax ? length : d));
  return sliceBox(x, starts, outShape);
}

/** A box of x: starts[i] .. starts[i] + outShape[i] on every axis. */
export function sliceBox(x: Tensor, starts: readonly number[], outShape: Shape): Tensor {
  checkNotHalf('slice', x);
  starts.forEach((s, i) => {
    if (s < 0 || s + outShape[i] > x.shape[i]) {
      throw new Error(`slice: box at [${starts}] of shape ${shapeToString(outShape)} exceeds ${shapeToString(x.shape)}`);
    }
  });
  return record('slice', x.backend.slice(x.storage, x.shape, starts, outShape), outShape, [x],
    (g) => [pad(g, starts, x.shape)]);
}

/** Zeros of `outShape` with x placed at `starts`. Backward: slice the box back out. */
export function pad(x: Tensor, starts: readonly number[], outShape: Shape): Tensor {
  checkNotHalf('pad', x);
  return record('pad', x.backend.pad(x.storage, x.shape, starts, outShape), outShape, [x],
    (g) => [sliceBox(g, starts, x.shape)]);
}

/** Splits along an axis into pieces of the given sizes (or equal pieces of size `sizes`). */
export function split(x: Tensor, sizes: number | number[], axis = 0): Tensor[] {
  const ax = normAxis(axis, x.rank, 'split');
  const n = x.shape[ax];
  const list = typeof sizes === 'number' ? Array.from({ length: Math.ceil(n / sizes) }, (_, i) => Math.min(sizes, n - i * sizes)) : sizes;
  if (list.reduce((a, b) => a + b, 0) !== n) throw new Error(`split: sizes [${list}] do not sum to ${n} (axis ${ax} of ${shapeToString(x.shape)})`);
  let start = 0;
  return list.map((len) => { const t = narrow(x, ax, start, len); start += len; return t; });
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const ax = axis < 0 ? axis + x.rank + 1 : axis;
  if (ax < 0 || ax > x.rank) throw new Error(`unsqueeze: axis ${axis} out of range for ${shapeToString(x.shape)}`);
  const s = [...x.shape];
  s.splice(ax, 0, 1);
  return reshape(x, s);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const ax = normAxis(axis, x.rank, 'squeeze');
  if (x.shape[ax] !== 1) throw new Error(`squeeze: axis ${ax} of ${shapeToString(x.shape)} has size ${x.shape[ax]}, not 1`);
  return reshape(x, x.shape.filter((_, i) => i !== ax));
}
