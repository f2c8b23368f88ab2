// What the entropy model sees of a long row (src/blt/entropy-context.ts): independent chunks with RoPE positions
// restarting at 0, a window inside each chunk (reference preset), so patching a text costs time linear in its
// length. The old path ran the whole row at once (quadratic, and HF's positions beyond max_position_embeddings).
import { describe, expect, it } from 'vitest';
import '../../../src/index.js';
import type { Blt } from '../../../src/blt/blt.js';
import { chunkAttention, entropyContext } from '../../../src/blt/entropy-context.js';
import { entropyOfLogits } from '../../../src/blt/entropy-model.js';
import { causalRanges } from '../../../src/nn/transformer.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import type { KeyRanges } from '../../../src/ops/attention.js';
import * as ops from '../../../src/ops/index.js';
import { microConfig, microModel } from './fixtures.js';

/** Token ids: BOS, then bytes from a fixed pseudo-random stream (EOS = 2 at the given positions). */
function row(T: number, eosAt: number[] = []): number[] {
  return Array.from({ length: T }, (_, t) => (t === 0 ? 1 : eosAt.includes(t) ? 2 : 4 + ((t * 97 + 13) % 251)));
}

/** Entropies of ids [1, n] run alone: plain causal attention (window W if given), RoPE positions p0..p0+n-1. */
function alone(m: Blt, ids: number[], window: number | null = null, p0 = 0): Float32Array {
  const n = ids.length;
  return noGrad(() => entropyOfLogits(m.model.patcher!.forward(ops.tensor(Int32Array.from(ids), [1, n]), ops.arange(p0, p0 + n),
    causalRanges(1, n, window))))
    .dataSync() as Float32Array;
}

/** Records the rows, tokens and widest key range of every entropy-model run. */
function spyRuns(m: Blt): { rows: number; n: number; widest: number }[] {
  const runs: { rows: number; n: number; widest: number }[] = [];
  const patcher = m.model.patcher!;
  const forward = patcher.forward.bind(patcher);
  patcher.forward = (ids: Tensor, positions: Tensor, ranges: KeyRanges): Tensor => {
    const s = ranges.start.dataSync(), e = ranges.end.dataSync();
    let widest = 0;
    for (let i = 0; i < s.length; i++) widest = Math.max(widest, e[i] - s[i]);
    runs.push({ rows: ids.shape[0], n: ids.shape[1], widest });
    return forward(ids, positions, ranges);
  };
  return runs;
}

describe('the entropy model on long rows', () => {
  it('HF preset: up to max_position_embeddings exactly the whole-row causal run; beyond, independent chunks', async () => {
    const cfg = microConfig('hf');
    cfg.patcher.maxPositionEmbeddings = 16;
    const m = microModel(3, cfg);
    expect(entropyContext(cfg)).toEqual({ chunk: 16, window: null, documentMask: false });
    const short = row(16);
    expect(Array.from(await m.computeEntropies([short]))).toEqual(Array.from(alone(m, short)));
    const ids = row(53); // chunks [0, 16), [16, 32), [32, 48), [48, 53)
    const ent = await m.computeEntropies([ids]);
    for (const [s, e] of [[0, 16], [16, 32], [32, 48], [48, 53]]) {
      const want = alone(m, ids.slice(s, e));
      for (let t = s; t < e; t++) expect(Math.abs(ent[t] - want[t - s]), `position ${t}`).toBeLessThanOrEqual(1e-6);
    }
    // the chunks' context really is cut: position 16 differs from the whole-row run (the old behaviour)
    expect(Math.abs(ent[16] - alone(m, ids)[16])).toBeGreaterThan(1e-4);
  });

  it('reference preset: a window inside chunks; documents restart at an EOS', async () => {
    const cfg = microConfig('reference');
    cfg.behaviour.patcherChunk = 24;
    cfg.behaviour.patcherWindow = 5;
    const m = microModel(4, cfg);
    const ids = row(60, [30]);
    const ent = await m.computeEntropies([ids]);
    // chunk [24, 48) holds an EOS at 30, so a new document starts at 31 (its RoPE positions go on from 7)
    for (const [s, e, p0] of [[0, 24, 0], [24, 31, 0], [31, 48, 7], [48, 60, 0]]) {
      const want = alone(m, ids.slice(s, e), 5, p0);
      for (let t = s; t < e; t++) expect(Math.abs(ent[t] - want[t - s]), `position ${t}`).toBeLessThanOrEqual(1e-6);
    }
  });

  it('runs in bounded pieces: every run is within one chunk and no query reads more than min(chunk, window) keys', async () => {
    for (const [preset, chunk, window] of [['hf', 32, null], ['reference', 64, 8]] as const) {
      const cfg = microConfig(preset);
      cfg.patcher.maxPositionEmbeddings = chunk;
      if (preset === 'reference') { cfg.behaviour.patcherChunk = chunk; cfg.behaviour.patcherWindow = window; }
      const m = microModel(5, cfg);
      const runs = spyRuns(m);
      const T = 1000, progress: number[] = [];
      await m.computeEntropies([row(T), row(T)], { onProgress: (done, total) => { expect(total).toBe(2 * T); progress.push(done); } });
      expect(runs.reduce((a, r) => a + r.rows * r.n, 0)).toBe(2 * T);
      for (const r of runs) {
        expect(r.n).toBeLessThanOrEqual(chunk);
        expect(r.widest).toBeLessThanOrEqual(Math.min(chunk, window ?? chunk));
      }
      expect(progress[progress.length - 1]).toBe(2 * T);
      expect(progress.every((d, i) => i === 0 || d > progress[i - 1])).toBe(true);
    }
  });

  it('training and evaluation rows must fit in one chunk', () => {
    const ctx = entropyContext(microConfig('hf'));
    expect(() => chunkAttention(new Int32Array(ctx.chunk + 1), 1, ctx.chunk + 1, ctx, 'cpu')).toThrow(/longer than its chunk of 1024 tokens/);
  });
});
