// Tests for the fused flash-style attention kernel (attention.ts) against the materialising reference
// (attention-reference.ts), the boolean-mask reference, and central finite differences.
//
// Error model (float64 runs): both kernels compute in float64. Scores |s| ≤ S (S ≤ 40 for these inputs:
// |q|,|k| ≤ 2, D ≤ 7, scale ≤ 1.5), so exp(s - m) carries a relative error ≲ (S + 2)·2⁻⁵³ and a softmax over
// Tk ≤ 200 keys adds ≲ Tk·2⁻⁵³; the weighted sum of |v| ≤ 2 adds the same again. That is < 1e-13 relative to
// the magnitudes involved; we allow 1e-11·(1 + |x|), a 100x margin, which still catches any real bug (a missed
// key, a wrong rescale or a wrong head changes results at the 1e-3 level or more).
// Float32 runs: same float64 math, only the final store rounds, so the two kernels differ by at most one float32
// unit: 2⁻²³·|x| (+ the float64 bound above).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attentionBackward, attentionForward } from '../../../src/backend/cpu/kernels/attention.js';
import {
  attentionBackwardReference, attentionReference, attentionReferenceMasked, rangesToMask, type AttentionDims,
} from '../../../src/backend/cpu/kernels/attention-reference.js';
import type { FloatArray } from '../../../src/backend/cpu/kernels/matmul-reference.js';
import { makeRanges, type RangeKind } from '../../helpers/attention-ranges.js';

function randomArray(n: number, f64: boolean, seed: number, amp = 2): FloatArray {
  const arr = f64 ? new Float64Array(n) : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = ((s / 2 ** 32) * 2 - 1) * amp;
  }
  return arr;
}

function expectClose(got: FloatArray, want: FloatArray, rel: number, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (want[i] === -Infinity || got[i] === -Infinity) {
      if (got[i] !== want[i]) throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
      continue;
    }
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= rel * (1 + Math.abs(want[i])))) throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]} (err ${err})`);
  }
}

const shapeArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  Tq: fc.integer({ min: 1, max: 9 }),
  Tk: fc.integer({ min: 1, max: 9 }),
  Hkv: fc.integer({ min: 1, max: 2 }),
  group: fc.integer({ min: 1, max: 3 }),
  D: fc.integer({ min: 1, max: 7 }),
  scale: fc.double({ min: 0.1, max: 1.5, noNaN: true }),
  kind: fc.constantFrom<RangeKind>('random', 'causal', 'window', 'patches', 'empty'),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

function setup(x: { B: number; Tq: number; Tk: number; Hkv: number; group: number; D: number; scale: number; kind: RangeKind; seed: number }, f64: boolean) {
  const dims: AttentionDims = { B: x.B, Tq: x.Tq, Tk: x.Tk, Hq: x.Hkv * x.group, Hkv: x.Hkv, D: x.D, scale: x.scale };
  const q = randomArray(dims.B * dims.Tq * dims.Hq * dims.D, f64, x.seed);
  const k = randomArray(dims.B * dims.Tk * dims.Hkv * dims.D, f64, x.seed + 1);
  const v = randomArray(dims.B * dims.Tk * dims.Hkv * dims.D, f64, x.seed + 2);
  const [start, end] = makeRanges(x.kind, dims.B, dims.Tq, dims.Tk, x.seed + 3);
  return { dims, q, k, v, start, end };
}

function forward(fn: typeof attentionForward, s: ReturnType<typeof setup>, f64: boolean) {
  const { dims } = s;
  const Ctor = f64 ? Float64Array : Float32Array;
  const out = new Ctor(dims.B * dims.Tq * dims.Hq * dims.D).fill(NaN);
  const lse = new Ctor(dims.B * dims.Hq * dims.Tq).fill(NaN);
  fn(s.q, s.k, s.v, s.start, s.end, dims, out, lse);
  return { out, lse };
}

describe('attentionForward (flash-style) vs reference', () => {
  it('matches on random shapes, GQA, and every range kind (float64)', () => {
    fc.assert(fc.property(shapeArb, (x) => {
      const s = setup(x, true);
      const fast = forward(attentionForward, s, true);
      const ref = forward(attentionReference, s, true);
      expectClose(fast.out, ref.out, 1e-11, 'out');
      expectClose(fast.lse, ref.lse, 1e-11, 'lse');
    }), { numRuns: 100 });
  });

  it('matches in float32 within one float32 unit', () => {
    fc.assert(fc.property(shapeArb, (x) => {
      const s = setup(x, false);
      const fast = forward(attentionForward, s, false);
      const ref = forward(attentionReference, s, false);
      expectClose(fast.out, ref.out, 2 ** -23 + 1e-11, 'out');
      expectClose(fast.lse, ref.lse, 2 ** -23 + 1e-11, 'lse');
    }), { numRuns: 50 });
  });

  it('handles many key tiles with a growing running max and large scores (online rescale)', () => {
    // Tk = 200 spans 4 tiles of 64 keys; keys grow with j so each new tile raises the max (rescale path).
    const dims: AttentionDims = { B: 1, Tq: 5, Tk: 200, Hq: 4, Hkv: 2, D: 3, scale: 1.5 };
    const q = randomArray(dims.Tq * dims.Hq * dims.D, true, 5);
    const k = new Float64Array(dims.Tk * dims.Hkv * dims.D);
    for (let i = 0; i < k.length; i++) k[i] = (Math.floor(i / (dims.Hkv * dims.D)) / 20) * Math.sign(q[i % 3] || 1);
    const v = randomArray(k.length, true, 6);
    const start = new Int32Array([0, 10, 63, 64, 199]);
    const end = new Int32Array([200, 190, 65, 200, 200]);
    const s = { dims, q, k, v, start, end };
    const fast = forward(attentionForward, s, true);
    const ref = forward(attentionReference, s, true);
    expectClose(fast.out, ref.out, 1e-11, 'out');
    expectClose(fast.lse, ref.lse, 1e-11, 'lse');
  });

  it('an empty key range gives out = 0 and lse = -Infinity', () => {
    const dims: AttentionDims = { B: 1, Tq: 2, Tk: 3, Hq: 1, Hkv: 1, D: 2, scale: 1 };
    const s = { dims, q: randomArray(4, true, 1), k: randomArray(6, true, 2), v: randomArray(6, true, 3),
      start: new Int32Array([1, 0]), end: new Int32Array([1, 2]) };
    const { out, lse } = forward(attentionForward, s, true);
    expect(Array.from(out.subarray(0, 2))).toEqual([0, 0]);
    expect(lse[0]).toBe(-Infinity);
    expect(Number.isFinite(lse[1])).toBe(true);
  });

  it('a single allowed key copies its value row exactly (softmax of one score is 1)', () => {
    const dims: AttentionDims = { B: 1, Tq: 1, Tk: 4, Hq: 1, Hkv: 1, D: 3, scale: 0.5 };
    const v = new Float64Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const s = { dims, q: new Float64Array([1, 1, 1]), k: randomArray(12, true, 9), v,
      start: new Int32Array([2]), end: new Int32Array([3]) };
    const { out, lse } = forward(attentionForward, s, true);
    expect(Array.from(out)).toEqual([7, 8, 9]);
    const k = s.k;
    expect(lse[0]).toBeCloseTo(0.5 * (k[6] + k[7] + k[8]), 14);
  });

  it('range mask equals the equivalent boolean mask (causal, sliding window, patches)', () => {
    const dims: AttentionDims = { B: 2, Tq: 11, Tk: 11, Hq: 4, Hkv: 2, D: 5, scale: 0.4 };
    const { B, Tq, Tk } = dims;
    const q = randomArray(B * Tq * 4 * 5, true, 21), k = randomArray(B * Tk * 2 * 5, true, 22), v = randomArray(B * Tk * 2 * 5, true, 23);
    const patchOf = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4]; // monotone patch ids; query t sees keys of its own patch
    const rules: Record<string, (t: number, j: number) => boolean> = {
      causal: (t, j) => j <= t,
      window3: (t, j) => j <= t && j > t - 3,
      patches: (t, j) => patchOf[t] === patchOf[j],
    };
    for (const [name, allowed] of Object.entries(rules)) {
      const mask = new Uint8Array(B * Tq * Tk);
      const start = new Int32Array(B * Tq), end = new Int32Array(B * Tq);
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < Tq; t++) {
          let lo = Tk, hi = 0;
          for (let j = 0; j < Tk; j++) {
            if (allowed(t, j)) { mask[(b * Tq + t) * Tk + j] = 1; lo = Math.min(lo, j); hi = j + 1; }
          }
          start[b * Tq + t] = Math.min(lo, hi); end[b * Tq + t] = hi;
        }
      }
      expect(rangesToMask(dims, start, end), name).toEqual(mask);
      const fast = forward(attentionForward, { dims, q, k, v, start, end }, true);
      const outM = new Float64Array(fast.out.length), lseM = new Float64Array(fast.lse.length);
      attentionReferenceMasked(q, k, v, mask, dims, outM, lseM);
      expectClose(fast.out, outM, 1e-11, `${name} out`);
      expectClose(fast.lse, lseM, 1e-11, `${name} lse`);
    }
  });

  it('rejects bad shapes and ranges with clear errors', () => {
    const dims: AttentionDims = { B: 1, Tq: 1, Tk: 2, Hq: 3, Hkv: 2, D: 1, scale: 1 };
    const a = new Float64Array(8);
    expect(() => attentionForward(a, a, a, new Int32Array(1), new Int32Array(1), dims, a, a)).toThrow(/multiple of Hkv/);
    const ok = { ...dims, Hq: 2 };
    expect(() => attentionForward(a, a, a, new Int32Array([0]), new Int32Array([3]), ok, a, a)).toThrow(/outside \[0, Tk=2\)/);
    expect(() => attentionForward(a, new Float64Array(1), a, new Int32Array([0]), new Int32Array([1]), ok, a, a)).toThrow(/k has length 1/);
  });
});

describe('attentionBackward', () => {
  function backward(
    fn: 'fast' | 'ref', s: ReturnType<typeof setup>, dOut: FloatArray, f64: boolean,
  ) {
    const { dims } = s;
    const Ctor = f64 ? Float64Array : Float32Array;
    const dq = new Ctor(s.q.length).fill(NaN), dk = new Ctor(s.k.length).fill(NaN), dv = new Ctor(s.v.length).fill(NaN);
    if (fn === 'fast') {
      const { out, lse } = forward(attentionForward, s, f64);
      attentionBackward(s.q, s.k, s.v, out, lse, dOut, s.start, s.end, dims, dq, dk, dv);
    } else {
      attentionBackwardReference(s.q, s.k, s.v, dOut, s.start, s.end, dims, dq, dk, dv);
    }
    return { dq, dk, dv };
  }

  it('matches the materialising reference backward on random shapes (float64)', () => {
    fc.assert(fc.property(shapeArb, (x) => {
      const s = setup(x, true);
      const dOut = randomArray(s.q.length, true, x.seed + 4);
      const fast = backward('fast', s, dOut, true);
      const ref = backward('ref', s, dOut, true);
      // Gradients are sums over ≤ 9·3 query rows of terms like the forward's, so the same float64 bound applies.
      expectClose(fast.dq, ref.dq, 1e-11, 'dq');
      expectClose(fast.dk, ref.dk, 1e-11, 'dk');
      expectClose(fast.dv, ref.dv, 1e-11, 'dv');
    }), { numRuns: 60 });
  });

  it('matches central finite differences of L = Σ out·W (float64)', () => {
    // Central differences with step h have truncation error ≈ h²/6·|L'''| (≲ 1e-9 here) and round-off
    // ≈ 2⁻⁵³·|L|/h (≲ 1e-10); 1e-6 absolute + relative leaves a wide margin while any wrong gradient term
    // (order 1e-2 or more for these sizes) fails.
    for (const kind of ['causal', 'patches', 'random'] as const) {
      const s = setup({ B: 2, Tq: 4, Tk: 5, Hkv: 1, group: 2, D: 3, scale: 0.7, kind, seed: 77 }, true);
      const W = randomArray(s.q.length, true, 78);
      const loss = () => {
        const { out } = forward(attentionForward, s, true);
        let L = 0;
        for (let i = 0; i < out.length; i++) L += out[i] * W[i];
        return L;
      };
      const grads = backward('fast', s, W, true);
      const h = 1e-5;
      for (const [name, x, g] of [['q', s.q, grads.dq], ['k', s.k, grads.dk], ['v', s.v, grads.dv]] as const) {
        for (let i = 0; i < x.length; i++) {
          const x0 = x[i];
          x[i] = x0 + h; const Lp = loss();
          x[i] = x0 - h; const Lm = loss();
          x[i] = x0;
          const numeric = (Lp - Lm) / (2 * h);
          const err = Math.abs(g[i] - numeric);
          if (!(err <= 1e-6 * (1 + Math.abs(numeric)))) {
            throw new Error(`${kind}: d${name}[${i}] analytic ${g[i]} vs numeric ${numeric}`);
          }
        }
      }
    }
  });

  it('float32 inputs and outputs stay close to the float64 backward', () => {
    // Inputs are the same float32 values in both runs; the float32 run also rounds out and lse to float32
    // before the backward reads them (relative 2⁻²⁴ each), so p = exp(s - lse) moves by ≲ 2⁻²⁴·(|lse| + 1)
    // relative, and the outputs by one float32 unit more. For |lse| ≲ 10 this is ≲ 1e-6 relative; allow 1e-5.
    const s32 = setup({ B: 1, Tq: 7, Tk: 7, Hkv: 2, group: 2, D: 5, scale: 0.5, kind: 'causal', seed: 5 }, false);
    const s64 = { ...s32, q: Float64Array.from(s32.q), k: Float64Array.from(s32.k), v: Float64Array.from(s32.v) };
    const dOut32 = randomArray(s32.q.length, false, 6);
    const g32 = backward('fast', s32, dOut32, false);
    const g64 = backward('ref', s64, Float64Array.from(dOut32), true);
    expectClose(g32.dq, g64.dq, 1e-5, 'dq');
    expectClose(g32.dk, g64.dk, 1e-5, 'dk');
    expectClose(g32.dv, g64.dv, 1e-5, 'dv');
  });
});
