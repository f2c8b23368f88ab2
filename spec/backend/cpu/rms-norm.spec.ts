// RMSNorm on the wasm kernels (src/backend/cpu/kernels/wasm/rms-norm-module.ts) against the float64 JS loops of
// rms-norm.ts. Error model: both take the same float64 steps except that the wasm sums over a row (Σ x², Σ w·dy·x)
// are associated differently, which moves them by at most γ_D·Σ|terms| in float64 (γ_D ≈ D·2⁻⁵³); that moves rs
// by half of it relatively, and the stored float32 values by one float32 rounding at most: so
//   rstd, y:   |Δ| ≤ u·|want| + 1e-12·|want|
//   dx:        |Δ| ≤ u·|want| + 1e-12·(|rs·w·dy| + |c·x|)
//   dw:        |Δ| ≤ u·|want| + 1e-12·Σ_rows |dy·x·rs|
// with u = 2⁻²⁴ (one rounding of a float64 value to float32), plus 2⁻¹⁴⁹ for subnormals. Lengths cross the
// chunk edges (rows of D floats per chunk).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rmsNorm, rmsNormBackward, rmsNormBackwardReference, rmsNormReference } from '../../../src/backend/cpu/kernels/rms-norm.js';

const u = 2 ** -24, tiny = 2 ** -149;

function randomF32(n: number, seed: number, amp: number, offset = 0): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = ((s / 2 ** 32) * 2 - 1) * amp + offset; }
  return x;
}

function check(what: string, got: ArrayLike<number>, want: ArrayLike<number>, extra: (i: number) => number): void {
  for (let i = 0; i < want.length; i++) {
    const bound = u * Math.abs(want[i]) + extra(i) + tiny;
    if (!(Math.abs(got[i] - want[i]) <= bound)) throw new Error(`${what}[${i}] = ${got[i]}, want ${want[i]} ± ${bound}`);
  }
}

describe('RMSNorm on wasm (float32)', () => {
  it('forward and backward follow the float64 loops within their error model', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.constantFrom(4, 32, 128, 256, 1028), fc.integer({ min: 1, max: 1 << 30 }),
      fc.constantFrom(1e-3, 1, 100), (rows, D, seed, amp) => {
        const x = randomF32(rows * D, seed, amp), w = randomF32(D, seed ^ 1, 1, 1), dy = randomF32(rows * D, seed ^ 2, 1);
        const y = new Float32Array(rows * D).fill(NaN), rstd = new Float32Array(rows).fill(NaN);
        const wy = new Float64Array(rows * D), wr = new Float32Array(rows);
        rmsNorm(x, w, rows, D, 1e-5, y, rstd);
        rmsNormReference(x, w, rows, D, 1e-5, wy, wr);
        check('rstd', rstd, wr, (r) => 1e-12 * Math.abs(wr[r]));
        check('y', y, wy, (i) => 1e-12 * Math.abs(wy[i]));
        // the backward from the same rstd (the reference's float32 one)
        const dx = new Float32Array(rows * D).fill(NaN), dw = new Float32Array(D).fill(NaN);
        const wdx = new Float64Array(rows * D), wdw = new Float64Array(D);
        rmsNormBackward(dy, x, w, wr, rows, D, dx, dw);
        rmsNormBackwardReference(dy, x, w, wr, rows, D, wdx, wdw);
        const c = new Float64Array(rows);
        for (let r = 0; r < rows; r++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += Math.abs(w[d] * dy[r * D + d] * x[r * D + d]);
          c[r] = (wr[r] ** 3 * dot) / D;
        }
        check('dx', dx, wdx, (i) => {
          const r = Math.floor(i / D);
          return 1e-12 * (Math.abs(wr[r] * w[i % D] * dy[i]) + c[r] * Math.abs(x[i]));
        });
        check('dw', dw, wdw, (d) => {
          let s = 0;
          for (let r = 0; r < rows; r++) s += Math.abs(dy[r * D + d] * x[r * D + d] * wr[r]);
          return 1e-12 * s;
        });
      }), { numRuns: 30 });
  });

  it('sends small, odd-width and float64 rows to the JS loops (the same bits as the reference)', () => {
    for (const [rows, D] of [[3, 8], [2000, 6]]) {
      const x = randomF32(rows * D, 3, 1), w = randomF32(D, 4, 1, 1);
      const y = new Float32Array(rows * D), r1 = new Float32Array(rows), wy = new Float32Array(rows * D), r2 = new Float32Array(rows);
      rmsNorm(x, w, rows, D, 1e-5, y, r1);
      rmsNormReference(x, w, rows, D, 1e-5, wy, r2);
      expect(y).toEqual(wy);
      expect(r1).toEqual(r2);
    }
  });
});
