// Sampling of the next byte (src/blt/sampling.ts): greedy, temperature, top-k, top-p.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/tensor/random.js';
import { argmax, checkSamplingOptions, sampleNext, samplingDistribution } from '../../../src/blt/sampling.js';

/** Logit rows of 2..300 entries; small integers so that ties (and the lowest-id tie rule) occur. */
const logitsArb = fc.oneof(
  fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 2, maxLength: 300 }),
  fc.array(fc.float({ min: -20, max: 20, noNaN: true }), { minLength: 2, maxLength: 300 }),
);
const temperatureArb = fc.double({ min: 0.05, max: 5, noNaN: true });

const softmax = (l: number[], T = 1): number[] => {
  const m = Math.max(...l);
  const e = l.map((x) => Math.exp((x - m) / T));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

/** Pearson χ² of counts against probabilities for n draws. */
const chiSquare = (counts: number[], probs: number[], n: number): number =>
  counts.reduce((acc, c, i) => acc + (c - n * probs[i]) ** 2 / (n * probs[i]), 0);

describe('greedy limits of the sampled modes', () => {
  it('top-k = 1 is greedy (argmax, lowest id on ties) for every temperature and seed', () => {
    fc.assert(fc.property(logitsArb, temperatureArb, fc.nat(), (logits, T, seed) => {
      expect(sampleNext(logits, { temperature: T, topK: 1 }, new Rng(seed))).toBe(argmax(logits));
    }), { numRuns: 100 });
  });

  it('a tiny top-p is greedy for every temperature and seed', () => {
    fc.assert(fc.property(logitsArb, temperatureArb, fc.nat(), (logits, T, seed) => {
      expect(sampleNext(logits, { temperature: T, topP: 1e-12 }, new Rng(seed))).toBe(argmax(logits));
    }), { numRuns: 100 });
  });

  it('greedy takes the lowest id among tied maxima and draws no random number', () => {
    const rng = new Rng(5), before = rng.getState();
    expect(sampleNext([0, 2, -1, 2, 2], { greedy: true }, rng)).toBe(1);
    expect(rng.getState()).toEqual(before);
    // greedy ignores the temperature, so 0 is allowed there
    expect(sampleNext([0, 2, 3], { greedy: true, temperature: 0 }, rng)).toBe(2);
  });
});

describe('the sampling distribution', () => {
  it('temperature alone gives softmax(ℓ / T) (hand-checkable case)', () => {
    const { ids, probs } = samplingDistribution([0, Math.log(3), Math.log(2)], { temperature: 1 });
    expect(ids).toEqual([1, 2, 0]);
    // float64 arithmetic on three terms: 1e-12 is far above its rounding error (~1e-16)
    [0.5, 1 / 3, 1 / 6].forEach((p, i) => expect(Math.abs(probs[i] - p)).toBeLessThan(1e-12));
    const half = samplingDistribution([0, Math.log(3), Math.log(2)], { temperature: 0.5 }).probs; // ∝ 9, 4, 1
    [9 / 14, 4 / 14, 1 / 14].forEach((p, i) => expect(Math.abs(half[i] - p)).toBeLessThan(1e-12));
  });

  it('top-k keeps the k most likely ids and top-p the shortest prefix reaching p, renormalised', () => {
    // probabilities 0.4, 0.3, 0.2, 0.1 (ids 3, 0, 2, 1)
    const l = [0.3, 0.1, 0.2, 0.4].map(Math.log);
    const k2 = samplingDistribution(l, { topK: 2 });
    expect(k2.ids).toEqual([3, 0]);
    [4 / 7, 3 / 7].forEach((p, i) => expect(Math.abs(k2.probs[i] - p)).toBeLessThan(1e-12));
    const p65 = samplingDistribution(l, { topP: 0.65 }); // 0.4 < 0.65 <= 0.4 + 0.3
    expect(p65.ids).toEqual([3, 0]);
    const p75 = samplingDistribution(l, { topP: 0.75 }); // needs 0.4 + 0.3 + 0.2
    expect(p75.ids).toEqual([3, 0, 2]);
    // top-p applies to the top-k distribution: within {3, 0, 2} (4/9, 3/9, 2/9), 0.75 needs 2 ids (7/9 ≥ 0.75)
    // although without top-k it needs 3 (0.7 < 0.75), and 0.8 needs all three
    expect(samplingDistribution(l, { topK: 3, topP: 0.75 }).ids).toEqual([3, 0]);
    expect(samplingDistribution(l, { topK: 3, topP: 0.8 }).ids).toEqual([3, 0, 2]);
    expect(samplingDistribution(l, { topK: 3, topP: 0.4 }).ids).toEqual([3]);
  });

  it('ids with logit -Infinity are never drawn, and probabilities sum to 1', () => {
    fc.assert(fc.property(logitsArb, fc.array(fc.nat(), { maxLength: 50 }), temperatureArb, fc.option(fc.integer({ min: 1, max: 300 })),
      fc.option(fc.double({ min: 0.01, max: 1, noNaN: true })), fc.nat(), (logits, masked, T, topK, topP, seed) => {
        const l = [...logits];
        for (const m of masked) if (m % l.length !== argmax(l)) l[m % l.length] = -Infinity;
        const s = { temperature: T, topK: topK ?? undefined, topP: topP ?? undefined };
        const { ids, probs } = samplingDistribution(l, s);
        expect(ids.every((v) => l[v] !== -Infinity)).toBe(true);
        expect(Math.abs(probs.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
        expect(l[sampleNext(l, s, new Rng(seed))]).not.toBe(-Infinity);
      }), { numRuns: 100 });
  });

  // Empirical check of the sampler: n independent draws, Pearson χ² against the target probabilities with
  // 5 degrees of freedom (6 ids, every expected count > 250, so the χ² approximation is good).
  // P(χ²_5 > 35.9) ≈ 1e-6: a correct sampler fails one seed in a million. The same counts tested against the
  // wrong temperature must exceed the bound by far, so the test can fail.
  const n = 20_000, BOUND = 35.9;
  const logits = [1.0, 0.5, 0.0, -0.5, -1.0, -1.5];
  it.each([0.7, 1.6])('temperature %s: draws follow softmax(ℓ / T) (χ², false-failure probability 1e-6)', (T) => {
    const rng = new Rng(12345), counts = new Array(logits.length).fill(0);
    for (let i = 0; i < n; i++) counts[sampleNext(logits, { temperature: T }, rng)]++;
    const target = softmax(logits, T);
    expect(Math.min(...target) * n).toBeGreaterThan(250);
    expect(chiSquare(counts, target, n)).toBeLessThan(BOUND);
    expect(chiSquare(counts, softmax(logits, 1.15), n)).toBeGreaterThan(4 * BOUND);
  });

  it('top-k + top-p draws follow the truncated distribution (χ², 2 dof, false-failure probability 1e-6)', () => {
    // softmax(ℓ / 1.3) truncated to top-k = 4 then top-p = 0.8 keeps 3 ids; P(χ²_2 > 27.6) ≈ 1e-6
    const s = { temperature: 1.3, topK: 4, topP: 0.8 };
    const { ids, probs } = samplingDistribution(logits, s);
    expect(ids).toEqual([0, 1, 2]);
    const rng = new Rng(777), counts = new Map<number, number>();
    for (let i = 0; i < n; i++) { const v = sampleNext(logits, s, rng); counts.set(v, (counts.get(v) ?? 0) + 1); }
    expect([...counts.keys()].every((v) => ids.includes(v))).toBe(true);
    expect(chiSquare(ids.map((v) => counts.get(v) ?? 0), probs, n)).toBeLessThan(27.6);
  });
});

describe('invalid sampling input is rejected with a clear Error', () => {
  it.each([
    [{ temperature: 0 }, /temperature/], [{ temperature: -1 }, /temperature/], [{ temperature: NaN }, /temperature/],
    [{ temperature: Infinity }, /temperature/], [{ greedy: true, temperature: NaN }, /temperature/],
    [{ topK: 0 }, /topK/], [{ topK: 1.5 }, /topK/], [{ topK: -3 }, /topK/],
    [{ topP: 0 }, /topP/], [{ topP: 1.5 }, /topP/], [{ topP: -0.1 }, /topP/], [{ topP: NaN }, /topP/],
  ])('options %o', (opts, msg) => {
    expect(() => checkSamplingOptions(opts)).toThrow(msg);
    expect(() => sampleNext([0, 1], opts, new Rng(0))).toThrow(msg);
  });

  it('greedy allows temperature 0 and negative temperatures (ignored)', () => {
    expect(() => checkSamplingOptions({ greedy: true, temperature: 0 })).not.toThrow();
    expect(() => checkSamplingOptions({ greedy: true, temperature: -2 })).not.toThrow();
  });

  it.each([
    [[0, NaN, 1], /id 1 is NaN/], [[Infinity, 0], /id 0 is \+Infinity/], [[-Infinity, -Infinity], /every logit is -Infinity/], [[], /empty/],
  ])('logits %o', (logits, msg) => {
    expect(() => sampleNext(logits, { greedy: true }, new Rng(0))).toThrow(msg);
    expect(() => sampleNext(logits, { temperature: 1 }, new Rng(0))).toThrow(msg);
  });
});
