// Softmax and log-softmax over the last axis of a [rows, cols] view, with the row maximum subtracted first so
// exp never overflows:  softmax(x)_c = exp(x_c - m) / Σ_e exp(x_e - m),  log-softmax(x)_c = x_c - (m + log Σ_e exp(x_e - m)).

import type { FloatArray } from '../../../tensor/dtype.js';
import { wasmForFloat32, wasmMemoryAtLeast } from './wasm/module.js';

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

/** Below this many floats log-softmax stays in JS (staging the rows in wasm memory costs more than it saves). */
const WASM_MIN = 4096;

/**
 * out[r, :] = log-softmax(a[r, :]). Float32 rows of a multiple of 4 columns (and at least WASM_MIN floats in all)
 * take m and Σ exp(x - m) from the wasm sumExpRows (wasm/softmax-module.ts: float64 lanes, its sum within ~1e-13
 * relative of this loop's, so an output moves by at most one float32 rounding), the rest from
 * logSoftmaxLastReference.
 */
export function logSoftmaxLast(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
  const n = rows * cols;
  const wasm = cols % 4 === 0 && n >= WASM_MIN ? wasmForFloat32(a, out) : null;
  if (!wasm) { logSoftmaxLastReference(a, rows, cols, out); return; }
  const msOff = 4 * n + ((8 - ((4 * n) % 8)) % 8); // byte offset of the (m, s) pairs, 8-aligned
  const mem = wasmMemoryAtLeast(wasm, msOff + 16 * rows);
  mem.set(a.subarray(0, n), 0);
  wasm.sumExpRows(0, rows, cols, msOff);
  const ms = new Float64Array(wasm.memory.buffer, msOff, 2 * rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols, lse = ms[2 * r] + Math.log(ms[2 * r + 1]);
    for (let c = 0; c < cols; c++) out[base + c] = a[base + c] - lse;
  }
}

/** logSoftmaxLast as the plain float64 JS loop, rounded on store. */
export function logSoftmaxLastReference(a: FloatArray, rows: number, cols: number, out: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const { m, s } = maxAndSumExp(a, base, cols);
    const lse = m + Math.log(s);
    for (let c = 0; c < cols; c++) out[base + c] = a[base + c] - lse;
  }
}
