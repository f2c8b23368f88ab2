/**
 * Every differentiable op: analytic gradient == central finite differences (float64), over random shapes
 * (broadcast shapes, size-1 and odd dims) and random values. Tolerances: see spec/helpers/gradcheck.ts.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ops, Rng, Tensor, noGrad } from '../../src/index.js';
import { gradcheck, randomTensor64 } from '../helpers/gradcheck.js';
import { broadcastPairArb, shapeArb, seedArb, RUNS } from '../helpers/arbitraries.js';
import { attentionGradcheck } from '../properties/checks.js';

type Case = { name: string; f: (...xs: Tensor[]) => Tensor; lo?: number; hi?: number; awayFromZero?: boolean; kinkGap?: (...xs: Tensor[]) => number };

const binaryCases: Case[] = [
  { name: 'add', f: (a, b) => ops.add(a, b) },
  { name: 'sub', f: (a, b) => ops.sub(a, b) },
  { name: 'mul', f: (a, b) => ops.mul(a, b) },
  { name: 'div', f: (a, b) => ops.div(a, b), awayFromZero: true },
  { name: 'maximum', f: (a, b) => ops.maximum(a, b), kinkGap: (a, b) => smallestAbs(ops.sub(a, b)) },
  { name: 'minimum', f: (a, b) => ops.minimum(a, b), kinkGap: (a, b) => smallestAbs(ops.sub(a, b)) },
  { name: 'where', f: (a, b) => ops.where(ops.gt(a, 0), a, b), kinkGap: (a) => smallestAbs(a) },
];

const unaryCases: Case[] = [
  { name: 'neg', f: (x) => ops.neg(x) },
  { name: 'pow(3)', f: (x) => ops.pow(x, 3) },
  { name: 'pow(-0.5)', f: (x) => ops.pow(x, -0.5), lo: 0.5, hi: 2 },
  { name: 'exp', f: (x) => ops.exp(x) },
  { name: 'log', f: (x) => ops.log(x), lo: 0.2, hi: 3 },
  { name: 'sqrt', f: (x) => ops.sqrt(x), lo: 0.2, hi: 3 },
  { name: 'rsqrt', f: (x) => ops.rsqrt(x), lo: 0.2, hi: 3 },
  { name: 'tanh', f: (x) => ops.tanh(x) },
  { name: 'sigmoid', f: (x) => ops.sigmoid(x) },
  { name: 'relu', f: (x) => ops.relu(x), awayFromZero: true },
  { name: 'silu', f: (x) => ops.silu(x) },
  { name: 'abs', f: (x) => ops.abs(x), awayFromZero: true },
  { name: 'affine', f: (x) => ops.affine(x, -1.5, 0.25) },
  { name: 'maskedFill', f: (x) => ops.maskedFill(x, ops.gt(x, 0.5), 7), kinkGap: (x) => smallestAbs(ops.affine(x, 1, -0.5)) },
  { name: 'sum(all)', f: (x) => ops.sum(x) },
  { name: 'sum(0, keepdim)', f: (x) => ops.sum(x, 0, true) },
  { name: 'mean(-1)', f: (x) => ops.mean(x, -1) },
  { name: 'max(-1)', f: (x) => ops.max(x, -1), kinkGap: smallestGap },
  { name: 'max(0, keepdim)', f: (x) => ops.max(x, 0, true), kinkGap: smallestGap },
  { name: 'logsumexp(-1)', f: (x) => ops.logsumexp(x, -1) },
  { name: 'softmax', f: (x) => ops.softmax(x) },
  { name: 'softmax(axis 0)', f: (x) => ops.softmax(x, 0) },
  { name: 'logSoftmax', f: (x) => ops.logSoftmax(x) },
  { name: 'reshape', f: (x) => ops.reshape(x, [-1]) },
  { name: 'transpose', f: (x) => (x.rank >= 2 ? ops.transpose(x, 0, -1) : ops.mul(x, x)) },
  { name: 'narrow', f: (x) => ops.narrow(x, -1, 0, Math.max(1, x.shape[x.rank - 1] - 1)) },
  { name: 'concat', f: (x) => ops.concat([x, ops.mul(x, x)], 0) },
  { name: 'stack', f: (x) => ops.stack([x, ops.exp(x)], -1) },
  { name: 'split', f: (x) => ops.split(x, 1, 0)[0] },
  { name: 'expand', f: (x) => ops.expand(ops.unsqueeze(x, 0), [3, ...x.shape]) },
];

/**
 * A central difference of step h measures neither side's slope where it straddles a kink of f (relu at 0, max at a
 * tie, a mask's edge); draws with an input closer than this to a kink say nothing about the backward and are left
 * out (fc.pre). 1e-3 = 100 h.
 */
const KINK_MARGIN = 1e-3;
function smallestAbs(t: Tensor): number { return Math.min(...noGrad(() => ops.abs(t).dataSync())); }
/** The smallest distance between two elements of x: where max(x) has its kinks, whatever the axis. */
function smallestGap(x: Tensor): number {
  const v = Array.from(x.dataSync()).sort((p, q) => p - q);
  let gap = Infinity;
  for (let i = 1; i < v.length; i++) gap = Math.min(gap, v[i] - v[i - 1]);
  return gap;
}

/** Values at least 0.1 away from 0 (relu, abs, div kinks) and with ties unlikely (max). */
function valuesAwayFromZero(t: Tensor): void {
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) if (Math.abs(d[i]) < 0.1) d[i] += d[i] < 0 ? -0.2 : 0.2;
}

describe('gradients match finite differences (float64)', () => {
  for (const c of unaryCases) {
    it(c.name, () => {
      fc.assert(fc.property(shapeArb(3, 4), seedArb, (shape, seed) => {
        const rng = new Rng(seed);
        const x = randomTensor64(shape, rng, c.lo ?? -2, c.hi ?? 2);
        if (c.awayFromZero) valuesAwayFromZero(x);
        if (c.kinkGap) fc.pre(c.kinkGap(x) > KINK_MARGIN);
        gradcheck(c.f, [x], rng);
      }), { numRuns: RUNS });
    });
  }
  for (const c of binaryCases) {
    it(`${c.name} with broadcasting`, () => {
      fc.assert(fc.property(broadcastPairArb(3, 4), fc.boolean(), seedArb, ([sa, sb], swap, seed) => {
        const rng = new Rng(seed);
        const [s1, s2] = swap ? [sb, sa] : [sa, sb];
        const a = randomTensor64(s1, rng), b = randomTensor64(s2, rng);
        if (c.awayFromZero) valuesAwayFromZero(b);
        if (c.kinkGap) fc.pre(c.kinkGap(a, b) > KINK_MARGIN);
        gradcheck(c.f, [a, b], rng);
      }), { numRuns: RUNS });
    });
  }

  it('matmul (all transposes, broadcast batch)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }),
      fc.constantFrom<number[]>([], [2], [3, 1]), fc.constantFrom('a', 'b', 'both'), fc.boolean(), fc.boolean(), seedArb,
      (M, K, N, batch, which, tA, tB, seed) => {
        const rng = new Rng(seed);
        const aShape = [...(which !== 'b' ? batch : []), ...(tA ? [K, M] : [M, K])];
        const bShape = [...(which !== 'a' ? batch : []), ...(tB ? [N, K] : [K, N])];
        const a = randomTensor64(aShape, rng), b = randomTensor64(bShape, rng);
        gradcheck((x, y) => ops.matmul(x, y, { transA: tA, transB: tB }), [a, b], rng);
      }), { numRuns: RUNS });
  });

  it('matmul with a partial batch broadcast ([2, 1, M, K] @ [1, 3, K, N])', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), seedArb, (M, K, N, seed) => {
      const rng = new Rng(seed);
      const a = randomTensor64([2, 1, M, K], rng), b = randomTensor64([1, 3, K, N], rng);
      const out = ops.matmul(a, b);
      expect(out.shape).toEqual([2, 3, M, N]);
      gradcheck((x, y) => ops.matmul(x, y), [a, b], rng);
    }), { numRuns: 15 });
  });

  it('crossEntropy with ignore index', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 7 }), seedArb, (T, V, seed) => {
      const rng = new Rng(seed);
      const logits = randomTensor64([T, V], rng);
      const tg = new Int32Array(T).map((_, i) => (i === 0 && T > 1 ? -100 : rng.int(V)));
      const targets = ops.tensor(tg, [T]);
      gradcheck((x) => ops.crossEntropy(x, targets), [logits], rng);
    }), { numRuns: RUNS });
  });

  it('embedding (scatter-add backward, repeated ids)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 8 }), seedArb, (V, D, n, seed) => {
      const rng = new Rng(seed);
      const table = randomTensor64([V, D], rng);
      const ids = ops.tensor(new Int32Array(n).map(() => rng.int(V)), [n]);
      gradcheck((t) => ops.embedding(t, ids), [table], rng);
    }), { numRuns: RUNS });
  });

  it('segmentMax (gradient to the arg-max row)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), seedArb, (N, D, S, seed) => {
      const rng = new Rng(seed);
      const x = randomTensor64([N, D], rng);
      const seg = ops.tensor(new Int32Array(N).map(() => rng.int(S)), [N]);
      gradcheck((t) => ops.segmentMax(t, seg, S), [x], rng);
    }), { numRuns: RUNS });
  });

  it('rmsNorm (fused) in x and weight', () => {
    fc.assert(fc.property(shapeArb(3, 5), seedArb, (shape, seed) => {
      const rng = new Rng(seed);
      const x = randomTensor64(shape, rng);
      const w = randomTensor64([shape[shape.length - 1]], rng);
      gradcheck((a, b) => ops.rmsNorm(a, b, 1e-5), [x, w], rng);
    }), { numRuns: RUNS });
  });

  it('rope', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), seedArb, (B, T, H, half, seed) => {
      const rng = new Rng(seed);
      const x = randomTensor64([B, T, H, 2 * half], rng);
      const pos = ops.arange(3, 3 + T);
      gradcheck((a) => ops.rope(a, pos, 10000), [x], rng);
    }), { numRuns: RUNS });
  });

  it('attention (fused, ranges, grouped heads) in q, k and v', async () => {
    await attentionGradcheck.run({ numRuns: RUNS }); // shared with the demo page (spec/properties/checks.ts)
  });

  it('a deep composed graph (x used many times)', () => {
    const rng = new Rng(1);
    const x = randomTensor64([3, 4], rng);
    const w = randomTensor64([4, 4], rng);
    const r = gradcheck((a, b) => {
      let h = a;
      for (let i = 0; i < 5; i++) h = ops.add(ops.tanh(ops.matmul(h, b)), a);
      return ops.logSoftmax(h);
    }, [x, w], rng);
    expect(r.maxAbsErr).toBeLessThan(1e-6);
  });
});
