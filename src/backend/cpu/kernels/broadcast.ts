// The broadcast walk shared by the elementwise and movement kernels: visit every innermost row of an output
// shape once, with the offsets of each operand (stride 0 on the axes it is broadcast along).

import { sizeOf, type Shape } from '../../../tensor/shape.js';

/**
 * Visits every index of outShape in row-major order, one innermost row at a time, calling
 * body(o, offs, inner, innerStrides): o is the flat output index of the row's first element, offs[k] the offset
 * of operand k there, inner the row length and innerStrides[k] operand k's stride along it.
 * strides[k] are operand k's strides over outShape (0 on broadcast axes).
 */
export function forEachBroadcast(outShape: Shape, strides: number[][],
  body: (o: number, offs: number[], inner: number, innerStrides: number[]) => void): void {
  const rank = outShape.length;
  const total = sizeOf(outShape);
  if (total === 0) return;
  if (rank === 0) { body(0, strides.map(() => 0), 1, strides.map(() => 0)); return; }
  const inner = outShape[rank - 1];
  const innerStrides = strides.map((s) => s[rank - 1]);
  const idx = new Array<number>(rank - 1).fill(0);
  const offs = strides.map(() => 0);
  for (let o = 0; o < total; o += inner) {
    body(o, offs, inner, innerStrides);
    // odometer increment over the outer axes
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      for (let k = 0; k < strides.length; k++) offs[k] += strides[k][ax];
      if (idx[ax] < outShape[ax]) break;
      for (let k = 0; k < strides.length; k++) offs[k] -= strides[k][ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
}
