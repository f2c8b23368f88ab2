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
  forEachBroadcast(outShape, [strides], (o, offs, inner, is) => {
    let ia = base + offs[0];
    for (let j = 0; j < inner; j++, ia += is[0]) out[o + j] = a[ia];
  });
}

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
