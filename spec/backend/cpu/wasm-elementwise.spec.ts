// Tests for the float32 sigmoid, SiLU and same-shape binary ops on WebAssembly SIMD
// (src/backend/cpu/kernels/wasm/elementwise-wasm.ts) against the float64 loops of elementwise.ts
// (unaryReference, binarySameShapeReference), and for the dispatch in elementwise.unary and elementwise.binary.
//
// Error model: both compute in float64 (the wasm exp's truncation error is < 1e-12 relative, Math.exp's about
// 1e-16) and round once to float32, so they differ by at most one float32 rounding plus ~1e-12 relative:
// |Δ| ≤ (u + 1e-11)·|y|, u = 2⁻²⁴ (the reference is kept in float64 here), plus 2⁻¹⁴⁹ where y is subnormal.

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { binary, binarySameShapeReference, unary, unaryReference } from '../../../src/backend/cpu/kernels/elementwise.js';
import { binaryWasm, unaryWasm } from '../../../src/backend/cpu/kernels/wasm/elementwise-wasm.js';
import { setWasmKernels, wasmKernels } from '../../../src/backend/cpu/kernels/wasm/module.js';

const u = 2 ** -24;

afterAll(() => setWasmKernels(true));

describe('wasm SIMD exp, sigmoid and SiLU (float32, in float64 lanes)', () => {
  for (const op of ['sigmoid', 'silu', 'exp'] as const) {
    it(`${op} is within one float32 rounding of the float64 loop, over lengths that cross chunk and lane edges`, () => {
      fc.assert(fc.property(
        fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(1, 10, 100),
        (n, seed, amp) => {
          const x = new Float32Array(n);
          let s = seed;
          for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; x[i] = ((s / 2 ** 32) * 2 - 1) * amp; }
          const got = new Float32Array(n).fill(NaN), want = new Float64Array(n);
          unaryWasm(wasmKernels()!, op === 'exp' ? 'exp64' : op, x, got);
          unaryReference(op, x, want);
          for (let i = 0; i < n; i++) {
            const bound = (u + 1e-11) * Math.abs(want[i]) + 2 ** -149;
            if (!Number.isFinite(Math.fround(want[i]))) { // past float32's range: both overflow to the same infinity
              if (got[i] !== Math.fround(want[i])) throw new Error(`${op}(${x[i]}): got ${got[i]}, want ${want[i]}`);
            } else if (!(Math.abs(got[i] - want[i]) <= bound)) throw new Error(`${op}(${x[i]}): got ${got[i]}, want ${want[i]}`);
          }
        }), { numRuns: 30 });
    });
  }

  it('keeps NaN, ±0 and large inputs right', () => {
    const x = Float32Array.from([NaN, 0, -0, 1e30, -1e30, 88, -88, 3.4e38]);
    const got = new Float32Array(x.length);
    unaryWasm(wasmKernels()!, 'sigmoid', x, got);
    expect(Array.from(got.subarray(0, 3))).toEqual([NaN, 0.5, 0.5]);
    expect(got[3]).toBe(1);
    expect(got[4]).toBeLessThan(1e-37);
    unaryWasm(wasmKernels()!, 'silu', x, got);
    expect(Number.isNaN(got[0])).toBe(true);
    expect(got[1]).toBe(0);
    expect(got[3]).toBe(Math.fround(1e30));
    expect(got[7]).toBe(Math.fround(3.4e38));
  });

  it('unary() sends float32 sigmoid/SiLU to wasm, float64 and the switch-off case to the JS loop', () => {
    const x32 = Float32Array.from({ length: 37 }, (_, i) => (i - 18) / 3);
    const viaUnary = new Float32Array(37), viaWasm = new Float32Array(37), viaJs = new Float32Array(37);
    unary('silu', x32, viaUnary);
    unaryWasm(wasmKernels()!, 'silu', x32, viaWasm);
    unaryReference('silu', x32, viaJs);
    expect(viaUnary).toEqual(viaWasm);
    setWasmKernels(false);
    unary('silu', x32, viaUnary);
    expect(viaUnary).toEqual(viaJs);
    setWasmKernels(true);
    const x64 = Float64Array.from(x32), out64 = new Float64Array(37), ref64 = new Float64Array(37);
    unary('sigmoid', x64, out64);
    unaryReference('sigmoid', x64, ref64);
    expect(out64).toEqual(ref64);
  });
});

describe('wasm SIMD same-shape add, sub, mul, div (float32)', () => {
  // Special values mixed in: NaN, ±Infinity, ±0, subnormals, the largest float32 (overflow to ±Infinity).
  const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -3e-42, 3.4028234663852886e38, -1.5];
  const fill = (n: number, seed: number, amp: number): Float32Array => {
    const x = new Float32Array(n);
    let s = seed;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      x[i] = s % 17 === 0 ? specials[s % specials.length] : ((s / 2 ** 32) * 2 - 1) * amp;
    }
    return x;
  };
  /** float32 bit patterns, with every NaN written as one pattern (NaN payloads are not specified). */
  const bits = (x: Float32Array): number[] => Array.from(new Uint32Array(x.buffer), (w, i) => (Number.isNaN(x[i]) ? -1 : w));

  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    it(`${op} has the bits of the float64 JS loop, over lengths that cross chunk and lane edges`, () => {
      fc.assert(fc.property(
        fc.integer({ min: 0, max: 140000 }), fc.integer({ min: 1, max: 1 << 30 }), fc.constantFrom(1e-3, 1, 1e30),
        (n, seed, amp) => {
          const a = fill(n, seed, amp), b = fill(n, seed ^ 0x5bd1e995, amp);
          const got = new Float32Array(n).fill(7), want = new Float32Array(n);
          binaryWasm(wasmKernels()!, op, a, b, got);
          binarySameShapeReference(op, a, b, want, n);
          expect(bits(got)).toEqual(bits(want));
        }), { numRuns: 12 });
    });
  }

  it('binary() sends large float32 same-shape ops to wasm and leaves float64 and small ones to JS', () => {
    const n = 5000;
    const a = fill(n, 3, 1), b = fill(n, 4, 1);
    const viaBinary = new Float32Array(n), viaWasm = new Float32Array(n);
    binary('mul', a, [n], b, [n], [n], viaBinary);
    binaryWasm(wasmKernels()!, 'mul', a, b, viaWasm);
    expect(bits(viaBinary)).toEqual(bits(viaWasm));
    // float64 operands keep their float64 products (a float32 kernel would round them)
    const a64 = Float64Array.from(a, (v) => v / 3), b64 = Float64Array.from(b, (v) => v / 7), out64 = new Float64Array(n);
    binary('mul', a64, [n], b64, [n], [n], out64);
    for (let i = 0; i < n; i += 97) if (Number.isFinite(out64[i])) expect(out64[i]).toBe(a64[i] * b64[i]);
  });
});
