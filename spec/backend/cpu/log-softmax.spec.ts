// The CPU log-softmax (src/backend/cpu/kernels/softmax.ts): float32 rows of a multiple of 4 columns take their
// max and Σ exp(x - m) from the wasm sumExpRows (float64 lanes), everything else the plain float64 loop.
//
// Error model: the wasm sum s' = s·(1 + δ) with |δ| ≤ 1e-12 (each exp within ~2e-13 relative of Math.exp, plus
// four-lane reassociation of ≤ 1000 float64 terms, ~1e-13), so m + log s' moves by ≤ 1e-12 absolute, and the
// float32 output, rounded once from a float64 value that moved that little, is the reference's float32 or one
// of its neighbours: |got - want| ≤ ulp(want). Nearly every output is the same float32 (a neighbour needs the
// exact value within 1e-12 of a rounding boundary), which the test also checks.

import { describe, expect, it } from 'vitest';
import { logSoftmaxLast, logSoftmaxLastReference } from '../../../src/backend/cpu/kernels/softmax.js';

/** The spacing of float32 values at |v| (v a float32, not zero). */
const ulp32 = (v: number): number => 2 ** (Math.floor(Math.log2(Math.abs(v))) - 23);

describe('cpu logSoftmaxLast on wasm', () => {
  it('matches the float64 loop within one float32 rounding, with the same float32 nearly everywhere', () => {
    const rows = 41, cols = 260; // the byte vocabulary
    const a = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.77) * 9 + Math.cos(i * 0.1) * 3);
    for (let c = 0; c < cols; c++) a[3 * cols + c] = 2.5; // a row of equal values: exactly -log 260 each
    for (let c = 0; c < cols; c++) a[4 * cols + c] = c % 7 === 0 ? 1e4 : -1e4; // exps that underflow to 0
    a[5 * cols + 17] = -Infinity; // probability 0, log-probability -∞
    const got = new Float32Array(a.length), want = new Float32Array(a.length);
    logSoftmaxLast(a, rows, cols, got);
    logSoftmaxLastReference(a, rows, cols, want);
    let same = 0;
    for (let i = 0; i < a.length; i++) {
      if (Object.is(got[i], want[i])) { same++; continue; }
      expect(Number.isFinite(want[i])).toBe(true);
      expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(ulp32(want[i]));
    }
    expect(got[5 * cols + 17]).toBe(-Infinity);
    expect(same).toBeGreaterThanOrEqual(0.99 * a.length);
  });

  it('rows whose length is not a multiple of 4 take the loop: the same bits', () => {
    const rows = 30, cols = 259;
    const a = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.3) * 5);
    const got = new Float32Array(a.length), want = new Float32Array(a.length);
    logSoftmaxLast(a, rows, cols, got);
    logSoftmaxLastReference(a, rows, cols, want);
    expect(Array.from(got)).toEqual(Array.from(want));
  });
});
