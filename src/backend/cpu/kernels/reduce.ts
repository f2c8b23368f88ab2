// Reductions over the last axis of a [rows, cols] view, and the two gathers/scatters that are their backward.
// Sums run in JS numbers (float64) and are rounded once when stored.

import type { FloatArray } from '../../../tensor/dtype.js';

/** out[r] = Σ_c a[r, c]. */
export function sumLast(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = r * cols;
    for (let c = 0; c < cols; c++) s += a[base + c];
    out[r] = s;
  }
}

/** values[r] = max_c a[r, c], argmax[r] = its first index (NaN wins; -∞ and -1 when cols = 0). */
export function maxLast(a: FloatArray, rows: number, cols: number, values: FloatArray, argmax: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    let best = -Infinity, bi = -1;
    const base = r * cols;
    for (let c = 0; c < cols; c++) {
      const v = a[base + c];
      if (v > best || bi < 0 || Number.isNaN(v)) { best = v; bi = c; if (Number.isNaN(v)) break; }
    }
    values[r] = best;
    argmax[r] = bi;
  }
}

/** out[r, idx[r]] = g[r] (out zero-filled by the caller; idx[r] < 0 writes nothing). */
export function scatterLast(g: FloatArray, idx: Int32Array, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) if (idx[r] >= 0) out[r * cols + idx[r]] = g[r];
}

/** out[r] = a[r, idx[r]] (0 where idx[r] < 0). */
export function pickLast(a: FloatArray, idx: Int32Array, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) out[r] = idx[r] < 0 ? 0 : a[r * cols + idx[r]];
}
