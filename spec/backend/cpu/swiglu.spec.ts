// Tests for SwiGLU's fused gate on the CPU (src/backend/cpu/kernels/swiglu.ts and wasm/swiglu-module.ts):
// the wasm forward has the bits of the unfused wasm silu followed by the product; forward and backward follow the
// float64 loops within their error model; the threaded job gives the same bits on any thread count; bad lengths
// are refused.
//
// Error model (backward): both versions evaluate the same float64 formulas and round once to float32. They differ
// only through exp (the wasm exp's relative error is < 1e-12, Math.exp's ~1e-16): a relative change δ of e^-x
// moves s by at most δ·s and 1 + x(1 - s) by at most δ·|x|·s, so |Δ| ≤ u·|want| + 1e-11·(1 + |x|)·|g·up·s|
// (dGate) and u·|want| + 1e-11·|g·x·s| (dUp), u = 2⁻²⁴, plus 2⁻¹⁴⁹ for subnormal results.

import '../../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binaryWasm, unaryWasm } from '../../../src/backend/cpu/kernels/wasm/elementwise-wasm.js';
import { wasmKernels } from '../../../src/backend/cpu/kernels/wasm/module.js';
import {
  swiglu, swigluBackward, swigluBackwardReference, swigluReference,
} from '../../../src/backend/cpu/kernels/swiglu.js';
import { getCpuThreads, setCpuThreads } from '../../../src/backend/cpu/kernels/thread-pool.js';

const u = 2 ** -24;

function randomF32(n: number, seed: number, amp = 4): Float32Array {
  const x = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = ((s / 2 ** 32) * 2 - 1) * amp; }
  return x;
}

/** a and b hold the same float32 bit patterns (a plain loop: toEqual on 300k elements takes seconds). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe('fused SwiGLU gate (CPU)', () => {
  it('the wasm forward has the bits of wasm silu then the product, and is within one rounding of the JS loop', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(1, 10, 100),
      (n, seed, amp) => {
        const gate = randomF32(n, seed, amp), up = randomF32(n, seed ^ 0x9e3779b9, 2);
        const fused = new Float32Array(n).fill(NaN);
        swiglu(gate, up, fused);
        const silu = new Float32Array(n), unfused = new Float32Array(n);
        unaryWasm(wasmKernels()!, 'silu', gate, silu);
        binaryWasm(wasmKernels()!, 'mul', silu, up, unfused);
        expect(fused).toEqual(unfused);
        // against float64 silu · up: wasm rounds silu to float32 (u relative, or 2⁻¹⁵⁰ absolute where it is
        // subnormal), may land on the neighbouring float32 (see wasm-elementwise.spec.ts), then rounds the product
        const want = new Float64Array(n);
        swigluReference(gate, up, want);
        for (let i = 0; i < n; i++) {
          const bound = 2 * u * Math.abs(want[i]) + (1 + Math.abs(up[i])) * 2 ** -149;
          if (!(Math.abs(fused[i] - want[i]) <= bound)) throw new Error(`swiglu(${gate[i]}, ${up[i]}): got ${fused[i]}, want ${want[i]}`);
        }
      }), { numRuns: 20 });
  });

  it('the wasm backward follows the float64 loop within its error model', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(1, 10, 100),
      (n, seed, amp) => {
        const gate = randomF32(n, seed, amp), up = randomF32(n, seed ^ 0x9e3779b9, 2), g = randomF32(n, seed ^ 0x85ebca6b, 1);
        const dGate = new Float32Array(n).fill(NaN), dUp = new Float32Array(n).fill(NaN);
        swigluBackward(g, gate, up, dGate, dUp);
        const wantGate = new Float64Array(n), wantUp = new Float64Array(n);
        swigluBackwardReference(g, gate, up, wantGate, wantUp);
        for (let i = 0; i < n; i++) {
          const x = gate[i], s = 1 / (1 + Math.exp(-x));
          const bGate = u * Math.abs(wantGate[i]) + 1e-11 * (1 + Math.abs(x)) * Math.abs(g[i] * up[i] * s) + 2 ** -149;
          const bUp = u * Math.abs(wantUp[i]) + 1e-11 * Math.abs(g[i] * x * s) + 2 ** -149;
          if (!(Math.abs(dGate[i] - wantGate[i]) <= bGate) || !(Math.abs(dUp[i] - wantUp[i]) <= bUp)) {
            throw new Error(`swigluBackward at x=${x}, up=${up[i]}, g=${g[i]}: got ${dGate[i]}, ${dUp[i]}; want ${wantGate[i]}, ${wantUp[i]}`);
          }
        }
      }), { numRuns: 20 });
  });

  it('keeps NaN and saturates for large |gate| like the JS loop', () => {
    const gate = Float32Array.from([NaN, 0, -0, 1e30, -1e30, 88, -88, 3.4e38]), up = new Float32Array(8).fill(2), g = new Float32Array(8).fill(1);
    const out = new Float32Array(8), want = new Float32Array(8);
    swiglu(gate, up, out);
    swigluReference(gate, up, want);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(Array.from(out.subarray(1))).toEqual(Array.from(want.subarray(1)));
    const dGate = new Float32Array(8), dUp = new Float32Array(8), wGate = new Float32Array(8), wUp = new Float32Array(8);
    swigluBackward(g, gate, up, dGate, dUp);
    swigluBackwardReference(g, gate, up, wGate, wUp);
    expect(Number.isNaN(dGate[0]) && Number.isNaN(dUp[0])).toBe(true);
    // x = 1e30: s = 1, dGate = 2 (1 + 1e30·0) = 2, dUp = 1e30; x = -1e30: both 0 (e^-x saturates)
    expect(Array.from(dGate.subarray(1, 7))).toEqual(Array.from(wGate.subarray(1, 7)));
    expect(Array.from(dUp.subarray(1, 7))).toEqual(Array.from(wUp.subarray(1, 7)));
  });

  it('gives the same bits on 1, 2 and 3 threads (a tensor large enough for the pool)', () => {
    const initial = getCpuThreads();
    const n = 300007; // ragged: not a multiple of the work unit or of the lanes
    const gate = randomF32(n, 1), up = randomF32(n, 2), g = randomF32(n, 3);
    const run = () => {
      const out = new Float32Array(n).fill(NaN), dGate = new Float32Array(n).fill(NaN), dUp = new Float32Array(n).fill(NaN);
      swiglu(gate, up, out);
      swigluBackward(g, gate, up, dGate, dUp);
      return [out, dGate, dUp];
    };
    try {
      setCpuThreads(1);
      const single = run();
      expect(single.every((a) => a.every(Number.isFinite))).toBe(true);
      for (const threads of [2, 3]) {
        setCpuThreads(threads);
        const got = run();
        for (let k = 0; k < 3; k++) expect(sameBits(got[k], single[k]), `output ${k} on ${threads} threads`).toBe(true);
      }
    } finally {
      setCpuThreads(initial);
    }
  });

  it('refuses operands of different lengths, naming them', () => {
    expect(() => swiglu(new Float32Array(4), new Float32Array(3), new Float32Array(4)))
      .toThrow('swiglu: operands of different lengths (gate 4, up 3, out 4)');
    expect(() => swigluBackward(new Float32Array(4), new Float32Array(4), new Float32Array(4), new Float32Array(5), new Float32Array(4)))
      .toThrow('swigluBackward: operands of different lengths (g 4, gate 4, up 4, dGate 5, dUp 4)');
  });
});
