// The float32 AdamW update on WebAssembly (src/backend/cpu/kernels/wasm/adamw-module.ts, float32 arithmetic)
// against the float64 JS loop of adamw.ts, over lengths that cross chunk and lane edges and over
// hyper-parameters; and the dispatch (float64 and short arrays stay in JS).
//
// Error model (u = 2⁻²⁴; the reference rounds each stored value once, the kernel every operation, and its
// scalars arrive rounded to float32):
//   m: three products and a sum of two terms: |Δm| ≤ Em = 4u(|β1 m| + |(1-β1) g'|) + u|m|
//   v: likewise with positive terms:          |Δv| ≤ Ev = 5u(β2 v + (1-β2) g'²) + u v
//   p = p·decay - U, U = lr·m̂ / (√v̂ + eps): U moves by (lr/bc1)·Em / (√v̂ + eps) through m, by at most
//   U·(Ev/v)/2 through v (the root halves a relative error), and by ~8u·U through its own operations; p·decay by
//   2u|p|; and the result rounds once more.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adamwStep, adamwStepReference, adamwStepWasm, sumSquares, sumSquaresReference } from '../../../src/backend/cpu/kernels/adamw.js';
import { wasmKernels } from '../../../src/backend/cpu/kernels/wasm/module.js';
import type { AdamWHyper } from '../../../src/backend/backend.js';

function randomF32(n: number, seed: number, amp: number, positive = false): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s / 2 ** 32;
    x[i] = positive ? r * r * amp : (r * 2 - 1) * amp;
    if (s % 29 === 0) x[i] = 0; // exact zeros: g = 0, v = 0 (the update is then -lr·m̂/eps-sized or zero)
  }
  return x;
}

const bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
const u = 2 ** -24, tiny = 2 ** -149;

describe('AdamW on wasm (float32)', () => {
  it('updates p, m and v within a few float32 roundings of the float64 JS loop', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 40000 }), fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 1, max: 5000 }),
      fc.constantFrom(1, 0.37), fc.constantFrom(0, 0.1), fc.constantFrom(1e-2, 4e-4), fc.constantFrom(1e-3, 1, 1e3),
      (n, seed, step, gradScale, weightDecay, lr, gAmp) => {
        const h: AdamWHyper = { lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay, step, gradScale };
        const p = randomF32(n, seed, 1), g = randomF32(n, seed ^ 1, gAmp), m = randomF32(n, seed ^ 2, 0.1);
        const v = randomF32(n, seed ^ 3, 0.01, true);
        const [p0, m0, v0] = [p.slice(), m.slice(), v.slice()];
        const [p2, m2, v2] = [p.slice(), m.slice(), v.slice()];
        adamwStepWasm(wasmKernels()!, p, g, m, v, h);
        adamwStepReference(p2, g, m2, v2, h);
        const bc1 = 1 - 0.9 ** step, bc2 = 1 - 0.95 ** step;
        for (let i = 0; i < n; i++) {
          const gi = g[i] * gradScale;
          const Em = 4 * u * (Math.abs(0.9 * m0[i]) + Math.abs(0.1 * gi)) + u * Math.abs(m2[i]);
          const Ev = 5 * u * (0.95 * v0[i] + 0.05 * gi * gi) + u * v2[i];
          const den = Math.sqrt(v2[i] / bc2) + 1e-8, U = (lr * Math.abs(m2[i]) / bc1) / den;
          const Ep = 2 * u * Math.abs(p0[i]) + (lr / bc1) * Em / den + (v2[i] > 0 ? U * Ev / v2[i] : 0) + 8 * u * U + u * Math.abs(p2[i]);
          if (!(Math.abs(m[i] - m2[i]) <= Em + tiny) || !(Math.abs(v[i] - v2[i]) <= Ev + tiny) || !(Math.abs(p[i] - p2[i]) <= Ep + tiny)) {
            throw new Error(`AdamW at ${i} (p ${p0[i]}, g ${g[i]}, m ${m0[i]}, v ${v0[i]}): got p ${p[i]} m ${m[i]} v ${v[i]}, want p ${p2[i]} m ${m2[i]} v ${v2[i]}`);
          }
        }
      }), { numRuns: 25 });
  });

  it('adamwStep sends large float32 updates to wasm, float64 and short ones to the JS loop', () => {
    const h: AdamWHyper = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3, gradScale: 0.5 };
    const n = 5001;
    const g = randomF32(n, 7, 1);
    const viaStep = [randomF32(n, 8, 1), randomF32(n, 9, 0.1), randomF32(n, 10, 0.01, true)];
    const viaWasm = viaStep.map((a) => a.slice());
    adamwStep(viaStep[0], g, viaStep[1], viaStep[2], h);
    adamwStepWasm(wasmKernels()!, viaWasm[0], g, viaWasm[1], viaWasm[2], h);
    for (let k = 0; k < 3; k++) expect(bits(viaStep[k])).toEqual(bits(viaWasm[k]));
    // float64 state keeps its float64 values (no float32 rounding of m on the way)
    const p64 = Float64Array.from(randomF32(n, 8, 1), (x) => x / 3), m64 = new Float64Array(n), v64 = new Float64Array(n);
    const g64 = Float64Array.from(g, (x) => x / 7);
    adamwStep(p64, g64, m64, v64, h);
    expect(m64[1]).toBe((1 - 0.9) * (g64[1] * 0.5));
    expect(m64[1]).not.toBe(Math.fround(m64[1]));
  });
});

describe('sumSquares on wasm (float32 input, float64 sum)', () => {
  it('equals the one-by-one float64 sum up to the order of the additions', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(1e-3, 1, 1e6),
      (n, seed, amp) => {
        const a = randomF32(n, seed, amp);
        const got = sumSquares(a), want = sumSquaresReference(a);
        let abs = 0;
        for (let i = 0; i < n; i++) abs += a[i] * a[i];
        // float64 sums of n positive terms in two orders: each within γ_n·Σ of the exact sum
        expect(Math.abs(got - want)).toBeLessThanOrEqual(2 * n * 2 ** -53 * abs + 1e-300);
        if (n > 0 && amp === 1) expect(got).toBeGreaterThan(0);
      }), { numRuns: 25 });
  });
});
