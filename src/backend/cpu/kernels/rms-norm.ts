// RMSNorm (Zhang & Sennrich 2019) over the last axis of a [rows, D] view, forward and backward.
//
//   y_d = w_d · (x_d · rs),   rs = (mean_d x_d² + eps)^-1/2
//   dx_d = rs · w_d · dy_d - rs³ · x_d / D · Σ_e w_e · dy_e · x_e,   dw_d = Σ_rows dy_d · x_d · rs

import type { FloatArray } from '../../../tensor/dtype.js';

/** y [rows, D] and rstd [rows] (the rs of each row, stored for the backward). */
export function rmsNorm(x: FloatArray, w: FloatArray, rows: number, D: number, eps: number,
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
