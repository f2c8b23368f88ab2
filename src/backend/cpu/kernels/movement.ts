// Movement kernels: permute, expand and slice are one strided read each (only the strides differ); pad is the
// matching strided write.

import type { TypedArray } from '../../../tensor/dtype.js';
import { stridesOf, type Shape } from '../../../tensor/shape.js';
import { forEachBroadcast } from './broadcast.js';

/**
 * out[i] = a[base + Σ_j index_j · strides[j]] for every index of outShape (row-major): a contiguous copy of a
 * strided view of a. permute (permuted strides), expand (0 on broadcast axes) and slice (an offset box) use it.
 */
export function stridedGather(a: TypedArray, outShape: Shape, strides: number[], base: number, out: TypedArray): void {
  const r = outShape.length;
  if (r >= 2 && outShape[r - 1] < SHORT_ROW) {
    // a short last axis (e.g. a transpose onto a few columns): one visit per row of the two innermost axes, not
    // per few elements (the walk's per-row cost dominated: ~10 ns per element)
    const last = outShape[r - 1], sLast = strides[r - 1];
    forEachBroadcast(outShape.slice(0, -1), [strides.slice(0, -1)], (row, offs, inner, is) => {
      const ia = base + offs[0], o = row * last, sj = is[0];
      for (let k = 0; k < last; k++) { // column k of the rows: strided writes close together, reads along a stride
        for (let j = 0, i = ia + k * sLast, w = o + k; j < inner; j++, i += sj, w += last) out[w] = a[i];
      }
    });
    return;
  }
  forEachBroadcast(outShape, [strides], (o, offs, inner, is) => {
    const ia = base + offs[0];
    if (is[0] === 1 && inner >= SHORT_ROW) out.set(a.subarray(ia, ia + inner), o); // a contiguous run: memcpy
    else for (let j = 0, i = ia; j < inner; j++, i += is[0]) out[o + j] = a[i];
  });
}

/** Rows shorter than this are copied element by element (a subarray per row costs more than the copy). */
const SHORT_ROW = 16;

/** Writes a (of `shape`) into the box of out (of outShape, zero-filled by the caller) that starts at `starts`. */
export function pad(a: TypedArray, shape: Shape, starts: readonly number[], outShape: Shape, out: TypedArray): void {
  const st = stridesOf(outShape);
  let base = 0;
  for (let i = 0; i < starts.length; i++) base += starts[i] * st[i];
  forEachBroadcast(shape, [st], (o, offs, inner, is) => {
    let io = base + offs[0];
    for (let j = 0; j < inner; j++, io += is[0]) out[io] = a[o + j];
  });
}
