// RMSNorm (Zhang & Sennrich 2019) over the last axis of a [rows, D] view, forward and backward.
//
//   y_d = w_d · (x_d · rs),   rs = (mean_d x_d² + eps)^-1/2
//   dx_d = rs · w_d · dy_d - rs³ · x_d / D · Σ_e w_e · dy_e · x_e,   dw_d = Σ_rows dy_d · x_d · rs

//
// Float32 tensors with D a multiple of 4 run on the wasm kernels of wasm/rms-norm-module.ts (the same float64
// steps; only the sums over a row are associated differently), streamed through wasm memory a chunk of rows at a
// time; the plain loops below are the readable version, and the float64 path.

import type { FloatArray } from '../../../tensor/dtype.js';
import { wasmForFloat32, wasmMemoryAtLeast, type KernelInstance } from './wasm/module.js';

/** Floats of each row-chunk array in wasm memory (64 KiB), and below which the JS loops are faster. */
const CHUNK_FLOATS = 1 << 14;
const WASM_MIN = 4096;

const wasmFor = (D: number, n: number, ...arrays: FloatArray[]): KernelInstance | null =>
  (D % 4 === 0 && n >= WASM_MIN ? wasmForFloat32(...arrays) : null);

/**
 * Rows per chunk, the wasm memory layout (byte offsets) for rows of length D: w | dwAcc | 3 row arrays | rstd, and
 * a view of the memory grown to hold it.
 */
function layout(wasm: KernelInstance, D: number): { R: number; acc: number; a: number; b: number; c: number; rs: number; mem: Float32Array } {
  const R = Math.max(1, Math.floor(CHUNK_FLOATS / D));
  const acc = Math.ceil((4 * D) / 16) * 16, a = acc + 8 * D, b = a + 4 * R * D, c = b + 4 * R * D, rs = c + 4 * R * D;
  return { R, acc, a, b, c, rs, mem: wasmMemoryAtLeast(wasm, rs + 4 * R) };
}

/** y [rows, D] and rstd [rows] (the rs of each row, stored for the backward). */
export function rmsNorm(x: FloatArray, w: FloatArray, rows: number, D: number, eps: number,
  y: FloatArray, rstd: FloatArray): void {
  const wasm = wasmFor(D, rows * D, x, w, y, rstd);
  if (!wasm) { rmsNormReference(x, w, rows, D, eps, y, rstd); return; }
  const L = layout(wasm, D), mem = L.mem;
  mem.set(w.subarray(0, D), 0);
  for (let r0 = 0; r0 < rows; r0 += L.R) {
    const n = Math.min(L.R, rows - r0);
    mem.set(x.subarray(r0 * D, (r0 + n) * D), L.a / 4);
    wasm.rmsNormRows(L.a, 0, L.c, L.rs, n, D, eps);
    y.set(mem.subarray(L.c / 4, L.c / 4 + n * D), r0 * D);
    rstd.set(mem.subarray(L.rs / 4, L.rs / 4 + n), r0);
  }
}

/** rmsNorm in plain float64 JS, rounded on store. */
export function rmsNormReference(x: FloatArray, w: FloatArray, rows: number, D: number, eps: number,
  y: FloatArray, rstd: FloatArray): void {
  for (let r = 0; r < rows; r++) {
    const base = r * D;
    let ss = 0;
    for (let d = 0; d < D; d++) ss += x[base + d] * x[base + d];
    // HF computes in float32: round the reciprocal root to the storage precision before use.
    const rs = 1 / Math.sqrt(ss / D + eps);
    rstd[r] = rs;
    const rsq = rstd[r];
    // HF: w * (x * rstd).to(dtype): the normalised value is rounded once, then scaled.
    for (let d = 0; d < D; d++) y[base + d] = w[d] * (x[base + d] * rsq);
  }
}

/** dx [rows, D] and dw [D] from dy, the forward's x, w and rstd. dw is summed in float64 and rounded once. */
export function rmsNormBackward(dy: FloatArray, x: FloatArray, w: FloatArray, rstd: FloatArray, rows: number,
  D: number, dx: FloatArray, dw: FloatArray): void {
  const wasm = wasmFor(D, rows * D, dy, x, w, rstd, dx, dw);
  if (!wasm) { rmsNormBackwardReference(dy, x, w, rstd, rows, D, dx, dw); return; }
  const L = layout(wasm, D), mem = L.mem;
  mem.set(w.subarray(0, D), 0);
  new Float64Array(wasm.memory.buffer, L.acc, D).fill(0);
  for (let r0 = 0; r0 < rows; r0 += L.R) {
    const n = Math.min(L.R, rows - r0);
    mem.set(dy.subarray(r0 * D, (r0 + n) * D), L.a / 4);
    mem.set(x.subarray(r0 * D, (r0 + n) * D), L.b / 4);
    mem.set(rstd.subarray(r0, r0 + n), L.rs / 4);
    wasm.rmsNormBackwardRows(L.a, L.b, 0, L.rs, L.c, L.acc, n, D);
    dx.set(mem.subarray(L.c / 4, L.c / 4 + n * D), r0 * D);
  }
  dw.set(new Float64Array(wasm.memory.buffer, L.acc, D));
}

/** rmsNormBackward in plain float64 JS, rounded on store. */
export function rmsNormBackwardReference(dy: FloatArray, x: FloatArray, w: FloatArray, rstd: FloatArray, rows: number,
  D: number, dx: FloatArray, dw: FloatArray): void {
  const dwAcc = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const base = r * D, rs = rstd[r];
    let dot = 0;
    for (let d = 0; d < D; d++) dot += w[d] * dy[base + d] * x[base + d];
    const c = (rs * rs * rs * dot) / D;
    for (let d = 0; d < D; d++) {
      dx[base + d] = rs * w[d] * dy[base + d] - c * x[base + d];
      dwAcc[d] += dy[base + d] * x[base + d] * rs;
    }
  }
  dw.set(dwAcc);
}
