// Softmax and log-softmax over the last axis of a [rows, cols] view, with the row maximum subtracted first so
// exp never overflows:  softmax(x)_c = exp(x_c - m) / Σ_e exp(x_e - m),  log-softmax(x)_c = x_c - (m + log Σ_e exp(x_e - m)).

import type { FloatArray } from '../../../tensor/dtype.js';

/** The maximum m of row a[base .. base + cols) and Σ_c exp(a_c - m). */
function maxAndSumExp(a: FloatArray, base: number, cols: number): { m: number; s: number } {
  let m = -Infinity;
  for (let c = 0; c < cols; c++) if (a[base + c] > m) m = a[base + c];
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(a[base + c] - m);
  return { m, s };
}

/** out[r, :] = softmax(a[r, :]). */
export function softmaxLast(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const { m, s } = maxAndSumExp(a, base, cols);
    for (let c = 0; c < cols; c++) out[base + c] = Math.exp(a[base + c] - m) / s;
  }
}

/** out[r, :] = log-softmax(a[r, :]). */
export function logSoftmaxLast(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const { m, s } = maxAndSumExp(a, base, cols);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) out[base + c] = a[base + c] - lse;
  }
}
