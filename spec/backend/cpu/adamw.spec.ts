// The float32 AdamW update on WebAssembly (src/backend/cpu/kernels/wasm/adamw-module.ts) against the float64 JS loop
// of adamw.ts: the same operations in the same order, so the same bits for p, m and v, over lengths that cross
// chunk and lane edges and over hyper-parameters; and the dispatch (float64 and short arrays stay in JS).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adamwStep, adamwStepReference, adamwStepWasm } from '../../../src/backend/cpu/kernels/adamw.js';
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

describe('AdamW on wasm (float32)', () => {
  it('updates p, m and v with the bits of the float64 JS loop', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 40000 }), fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 1, max: 5000 }),
      fc.constantFrom(1, 0.37), fc.constantFrom(0, 0.1), fc.constantFrom(1e-2, 4e-4), fc.constantFrom(1e-3, 1, 1e3),
      (n, seed, step, gradScale, weightDecay, lr, gAmp) => {
        const h: AdamWHyper = { lr, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay, step, gradScale };
        const p = randomF32(n, seed, 1), g = randomF32(n, seed ^ 1, gAmp), m = randomF32(n, seed ^ 2, 0.1);
        const v = randomF32(n, seed ^ 3, 0.01, true);
        const [p2, m2, v2] = [p.slice(), m.slice(), v.slice()];
        adamwStepWasm(wasmKernels()!, p, g, m, v, h);
        adamwStepReference(p2, g, m2, v2, h);
        expect(bits(p)).toEqual(bits(p2));
        expect(bits(m)).toEqual(bits(m2));
        expect(bits(v)).toEqual(bits(v2));
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
