/**
 * Algebraic properties of the core ops (float64 unless stated), checked on random shapes and values.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ops, Rng, Tensor } from '../../src/index.js';
import { broadcastPairArb, shapeArb, seedArb, RUNS } from '../helpers/arbitraries.js';

const f64 = (shape: number[], rng: Rng, lo = -2, hi = 2): Tensor => ops.rand(shape, rng, lo, hi, { dtype: 'float64' });
const maxDiff = (a: Tensor, b: Tensor): number => {
  expect([...a.shape]).toEqual([...b.shape]);
  const x = a.dataSync(), y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
};

describe('softmax / logsumexp', () => {
  it('softmax rows sum to 1 and are invariant to adding a constant per row', () => {
    fc.assert(fc.property(shapeArb(3, 6), seedArb, fc.double({ min: -50, max: 50, noNaN: true }), (shape, seed, c) => {
      const rng = new Rng(seed);
      const x = f64(shape, rng, -10, 10);
      const s = ops.softmax(x);
      const rows = ops.sum(s, -1).dataSync();
      for (const r of rows) expect(Math.abs(r - 1)).toBeLessThan(1e-12);
      const shifted = ops.softmax(ops.add(x, ops.rand([...shape.slice(0, -1), 1], rng, -c, c, { dtype: 'float64' })));
      expect(maxDiff(s, shifted)).toBeLessThan(1e-12);
    }), { numRuns: RUNS });
  });

  it('logsumexp is finite for inputs of magnitude 1e4 and equals max + log(sum exp(x - max))', () => {
    fc.assert(fc.property(shapeArb(2, 6), seedArb, (shape, seed) => {
      const rng = new Rng(seed);
      const x = f64(shape, rng, -1e4, 1e4);
      const l = ops.logsumexp(x, -1).dataSync();
      const m = ops.max(x, -1).dataSync();
      for (let i = 0; i < l.length; i++) {
        expect(Number.isFinite(l[i])).toBe(true);
        expect(l[i]).toBeGreaterThanOrEqual(m[i]);
        expect(l[i]).toBeLessThanOrEqual(m[i] + Math.log(shape[shape.length - 1]) + 1e-9);
      }
      // float32 too: the naive log(sum(exp(x))) would overflow to Infinity here
      const l32 = ops.logsumexp(ops.rand(shape, rng, -1e4, 1e4), -1).dataSync();
      for (const v of l32) expect(Number.isFinite(v)).toBe(true);
    }), { numRuns: RUNS });
  });

  it('logSoftmax == log(softmax) where softmax is not tiny', () => {
    fc.assert(fc.property(shapeArb(3, 5), seedArb, (shape, seed) => {
      const x = f64(shape, new Rng(seed));
      expect(maxDiff(ops.logSoftmax(x), ops.log(ops.softmax(x)))).toBeLessThan(1e-12);
    }), { numRuns: RUNS });
  });
});

describe('matmul and shape ops', () => {
  it('(A B)^T = B^T A^T, and the transpose flags equal explicit transposes', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), seedArb, (M, K, N, seed) => {
      const rng = new Rng(seed);
      const A = f64([2, M, K], rng), B = f64([2, K, N], rng);
      const lhs = ops.transpose(ops.matmul(A, B));
      const rhs = ops.matmul(ops.transpose(B), ops.transpose(A));
      expect(maxDiff(lhs, rhs)).toBeLessThan(1e-12);
      const flags = ops.matmul(ops.transpose(A), ops.transpose(B), { transA: true, transB: true });
      expect(maxDiff(flags, ops.matmul(A, B))).toBeLessThan(1e-12);
    }), { numRuns: RUNS });
  });

  it('broadcasting equals explicit expand', () => {
    fc.assert(fc.property(broadcastPairArb(3, 4), seedArb, ([sa, sb], seed) => {
      const rng = new Rng(seed);
      const a = f64(sa, rng), b = f64(sb, rng);
      expect(maxDiff(ops.mul(a, b), ops.mul(a, ops.expand(b, sa)))).toBe(0);
      expect(maxDiff(ops.sub(b, a), ops.sub(ops.expand(b, sa), a))).toBe(0);
    }), { numRuns: RUNS });
  });

  it('transpose twice is the identity; permute then inverse permute is the identity', () => {
    fc.assert(fc.property(shapeArb(4, 4), seedArb, (shape, seed) => {
      const rng = new Rng(seed);
      const x = f64(shape, rng);
      if (shape.length >= 2) expect(maxDiff(ops.transpose(ops.transpose(x, 0, -1), 0, -1), x)).toBe(0);
      const perm = rng.shuffle([...shape.keys()]);
      expect(maxDiff(ops.permute(ops.permute(x, perm), ops.inversePermutation(perm)), x)).toBe(0);
    }), { numRuns: RUNS });
  });

  it('split then concat is the identity; stack adds an axis', () => {
    fc.assert(fc.property(shapeArb(3, 5), seedArb, (shape, seed) => {
      const rng = new Rng(seed);
      const x = f64(shape, rng);
      const ax = rng.int(shape.length);
      expect(maxDiff(ops.concat(ops.split(x, 2, ax), ax), x)).toBe(0);
      const st = ops.stack([x, x], 0);
      expect(st.shape).toEqual([2, ...shape]);
    }), { numRuns: RUNS });
  });
});

describe('layers', () => {
  it('range-mask attention equals boolean-mask attention (causal, sliding window, random ranges, GQA)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }),
      fc.constantFrom([1, 1], [2, 1], [4, 2], [3, 3]), fc.integer({ min: 1, max: 8 }), fc.constantFrom('causal', 'window', 'random'), seedArb,
      (B, Tq, Tk0, [Hq, Hkv], D, kind, seed) => {
        const rng = new Rng(seed);
        const Tk = kind === 'random' ? Tk0 : Tq;
        const q = f64([B, Tq, Hq, D], rng), k = f64([B, Tk, Hkv, D], rng), v = f64([B, Tk, Hkv, D], rng);
        const start = new Int32Array(B * Tq), end = new Int32Array(B * Tq);
        const mask = new Float64Array(B * Tq * Tk);
        for (let b = 0; b < B; b++) for (let t = 0; t < Tq; t++) {
          const i = b * Tq + t;
          if (kind === 'causal') { start[i] = 0; end[i] = t + 1; }
          else if (kind === 'window') { start[i] = Math.max(0, t - 2); end[i] = t + 1; }
          else { start[i] = rng.int(Tk); end[i] = start[i] + 1 + rng.int(Tk - start[i]); }
          for (let j = start[i]; j < end[i]; j++) mask[i * Tk + j] = 1;
        }
        const fused = ops.attention(q, k, v, { start: ops.tensor(start, [B, Tq]), end: ops.tensor(end, [B, Tq]) });
        const ref = ops.attentionMasked(q, k, v, ops.tensor(mask, [B, Tq, Tk]));
        expect(maxDiff(fused, ref)).toBeLessThan(1e-12);
      }), { numRuns: RUNS });
  });

  it('RMSNorm(c x) = RMSNorm(x) for c > 0 (eps -> 0), and the fused op equals the composed reference', () => {
    fc.assert(fc.property(shapeArb(3, 6), seedArb, fc.double({ min: 0.01, max: 100, noNaN: true }), (shape, seed, c) => {
      const rng = new Rng(seed);
      const x = f64(shape, rng), w = f64([shape[shape.length - 1]], rng);
      expect(maxDiff(ops.rmsNorm(ops.mul(x, c), w, 0), ops.rmsNorm(x, w, 0))).toBeLessThan(1e-12);
      expect(maxDiff(ops.rmsNorm(x, w, 1e-5), ops.rmsNormReference(x, w, 1e-5))).toBeLessThan(1e-12);
    }), { numRuns: RUNS });
  });

  it('RoPE preserves norms and <R_m q, R_n k> depends only on m - n', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: -20, max: 20 }), seedArb, (half, m, n, shift, seed) => {
      const rng = new Rng(seed);
      const Dh = 2 * half;
      const q = f64([1, 1, 1, Dh], rng), k = f64([1, 1, 1, Dh], rng);
      const rot = (x: Tensor, p: number): Tensor => ops.rope(x, ops.tensor(new Int32Array([p]), [1]), 10000);
      const norm = (x: Tensor): number => Math.sqrt(ops.sum(ops.mul(x, x)).item());
      expect(Math.abs(norm(rot(q, m)) - norm(q))).toBeLessThan(1e-9);
      const dot = (a: Tensor, b: Tensor): number => ops.sum(ops.mul(a, b)).item();
      const d1 = dot(rot(q, m), rot(k, n));
      const m2 = Math.max(0, m + shift), n2 = m2 - (m - n);
      if (n2 >= 0) expect(Math.abs(d1 - dot(rot(q, m2), rot(k, n2)))).toBeLessThan(1e-6);
    }), { numRuns: RUNS });
  });

  it('RoPE uses the interleaved-pair convention (src/ops/rope.ts)', () => {
    // x = (1, 0, 0, 1) at position 1 with theta = 100: pair 0 rotates by 1 rad, pair 1 by 100^(-1/2) = 0.1 rad
    const x = ops.tensor([1, 0, 0, 1], [1, 1, 1, 4], { dtype: 'float64' });
    const y = ops.rope(x, ops.tensor(new Int32Array([1]), [1]), 100).dataSync();
    const expected = [Math.cos(1), Math.sin(1), -Math.sin(0.1), Math.cos(0.1)];
    expected.forEach((e, i) => expect(Math.abs(y[i] - e)).toBeLessThan(1e-6));
  });

  it('crossEntropy of uniform logits is ln V, and ignored targets do not count', () => {
    const logits = ops.zeros([3, 7]);
    const ce = ops.crossEntropy(logits, ops.tensor(new Int32Array([1, -100, 6]), [3])).item();
    expect(Math.abs(ce - Math.log(7))).toBeLessThan(1e-6);
  });

  it('segmentMax pools rows per segment, empty segments are 0', () => {
    const x = ops.tensor([[1, 5], [3, 2], [0, 9], [4, 4]]);
    const y = ops.segmentMax(x, ops.tensor(new Int32Array([0, 0, 2, 2]), [4]), 3);
    expect(y.toArray()).toEqual([[3, 5], [0, 0], [4, 9]]);
  });
});
