// Shared fixtures for the model specs: a micro BLT (fast enough for property tests), token and patch generators.
import fc from 'fast-check';
import { Blt } from '../../../src/blt/blt.js';
import type { BltConfig } from '../../../src/blt/config/types.js';
import { makeBltConfig } from '../../../src/blt/config/shapes.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import * as ops from '../../../src/ops/index.js';

/** A micro BLT with every code path of the real one (k = 2, GQA in the global model, two hash sizes). */
export function microConfig(behaviour: 'hf' | 'reference' = 'hf', over: { encCrossAll?: boolean; decCrossAll?: boolean } = {}): BltConfig {
  return makeBltConfig({
    k: 2,
    encoder: { hidden: 16, heads: 2, layers: 2, ffn: 32, crossAll: over.encCrossAll ?? false },
    decoder: { hidden: 16, heads: 2, layers: 2, ffn: 32, crossAll: over.decCrossAll ?? true },
    global: { hidden: 24, heads: 4, kvHeads: 2, layers: 2, ffn: 48 },
    patcher: { hidden: 16, heads: 2, layers: 1, ffn: 32 },
    hash: { groupSizes: [3, 4], nbFunctions: 1, vocab: 37 },
    behaviour,
  });
}

/**
 * A micro model whose entropy model gives varied patches: its head is scaled up (entropies spread over
 * roughly [0, ln 260], as the golden files do with x3) and the threshold is set near the middle.
 */
export function microModel(seed = 0, cfg = microConfig()): Blt {
  const model = new Blt(cfg, { seed });
  const head = model.model.patcher!.lm_head;
  noGrad(() => {
    const scaled = ops.mul(head.weight, 8);
    head.weight.backend.copyInto(head.weight.storage, scaled.storage);
  });
  cfg.patching.threshold = 0.75;
  return model;
}

/** Token ids: BOS then 0..maxBytes byte ids (a small alphabet too, so repeats happen). */
export const idsArb = (minBytes = 1, maxBytes = 16): fc.Arbitrary<number[]> =>
  fc.oneof(
    fc.array(fc.integer({ min: 4, max: 259 }), { minLength: minBytes, maxLength: maxBytes }),
    fc.array(fc.constantFrom(101, 102, 36), { minLength: minBytes, maxLength: maxBytes }),
  ).map((bytes) => [1, ...bytes]);

/** Patch lengths for T tokens: L0 = 1, random starts among 1..T-1 (1 always), summing to T or T + 1. */
export const lengthsArb = (T: number): fc.Arbitrary<number[]> =>
  fc.tuple(fc.array(fc.boolean(), { minLength: Math.max(0, T - 1), maxLength: Math.max(0, T - 1) }), fc.boolean())
    .map(([isStart, nextToken]) => {
      const starts = [0];
      for (let t = 1; t < T; t++) if (t === 1 || isStart[t - 1]) starts.push(t);
      const end = nextToken ? T + 1 : T;
      return starts.map((s, j) => (j + 1 < starts.length ? starts[j + 1] : end) - s);
    });

/** ids with matching patch lengths. */
export const idsAndLengthsArb = (minBytes = 1, maxBytes = 16): fc.Arbitrary<{ ids: number[]; lengths: number[] }> =>
  idsArb(minBytes, maxBytes).chain((ids) => lengthsArb(ids.length).map((lengths) => ({ ids, lengths })));

/** max |a - b| over the first n rows of two [T, V] arrays. */
export function maxDiffRows(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, V = 260, from = 0): number {
  let m = 0;
  for (let i = from * V; i < rows * V; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
