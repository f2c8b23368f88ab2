// Properties of the whole BLT on micro random models (fixtures.ts).
//
// Tolerances: a logit that must be "unchanged" is computed by exactly the same float32 operations on the same
// inputs (the changed bytes are outside every key range and segment it reads), so it is compared with a tight
// 1e-6; each such test also asserts that something DID change (> 1e-4), so it cannot pass vacuously.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../../../src/index.js';
import * as ops from '../../../src/ops/index.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { Blt } from '../../../src/blt/blt.js';
import { generate } from '../../../src/blt/generate.js';
import { localAttentionRanges } from '../../../src/blt/entropy-model.js';
import { decoderCrossRanges } from '../../../src/blt/local-decoder.js';
import { globalAttentionRanges } from '../../../src/blt/global-transformer.js';
import { decoderPatchIdsFromLengths, patchStartsFromLengths } from '../../../src/blt/patching/patch-ids.js';
import { AdamW } from '../../../src/optim/adamw.js';
import { Rng } from '../../../src/tensor/random.js';
import { crossEntropySum } from '../../../src/blt/metrics.js';
import { idsAndLengthsArb, idsArb, maxDiffRows, microConfig, microModel } from './fixtures.js';

const V = 260;
const SAME = 1e-6;
const CHANGED = 1e-4;
const model = microModel(0);

const logitsOf = (m: Blt, ids: number[], lengths: number[]): Float32Array =>
  noGrad(() => m.forwardWithPatches([ids], [lengths]).logits.dataSync() as Float32Array);

/** Re-runs global transformer (optionally on edited inputs) and decoder from the encoder outputs. */
function decodeWith(m: Blt, ids: number[], lengths: number[],
  edit: { patches?: (p: Tensor) => Tensor; globalOut?: (o: Tensor) => Tensor }): Float32Array {
  return noGrad(() => {
    const T = ids.length, P = lengths.length, host = Int32Array.from(ids);
    const inter = m.forwardWithPatches([ids], [lengths], { intermediates: true }).intermediates!;
    const patches = edit.patches ? edit.patches(inter.get('encoder.patches')!) : inter.get('encoder.patches')!;
    let o = m.model.global_transformer.forward(patches, ops.arange(0, P),
      globalAttentionRanges(host, Int32Array.from(lengths), 1, P, T, false, 'cpu'));
    if (edit.globalOut) o = edit.globalOut(o);
    const z = m.model.local_decoder.forward(inter.get('encoder.hidden')!, m.model.local_decoder.patchKeys(o), {
      positions: ops.arange(0, T), selfRanges: localAttentionRanges(host, 1, T, null, false, 'cpu'),
      crossRanges: decoderCrossRanges(decoderPatchIdsFromLengths(lengths, T), 1, T, m.config.crossAttnK, 'cpu'),
    });
    return m.lm_head.forward(z).dataSync() as Float32Array;
  });
}

/** Adds `delta` to row j of x [1, P, D]. */
function bumpRow(x: Tensor, j: number, delta = 0.5): Tensor {
  const [, P, D] = x.shape;
  const mask = new Float32Array(P * D);
  mask.fill(delta, j * D, (j + 1) * D);
  return ops.add(x, ops.tensor(mask, [1, P, D]));
}

describe('causality', () => {
  it('changing a future byte never changes earlier logits (fixed patches)', () => {
    fc.assert(fc.property(idsAndLengthsArb(2, 16), fc.nat(), fc.integer({ min: 4, max: 259 }), ({ ids, lengths }, jr, b) => {
      const j = 1 + (jr % (ids.length - 1));
      fc.pre(ids[j] !== b);
      const changed = [...ids];
      changed[j] = b;
      const a = logitsOf(model, ids, lengths), c = logitsOf(model, changed, lengths);
      expect(maxDiffRows(a, c, j)).toBeLessThanOrEqual(SAME);
      expect(maxDiffRows(a, c, ids.length, V, j)).toBeGreaterThan(CHANGED); // byte j itself is read at position j
    }), { numRuns: 40 });
  });

  it('changing a future byte never changes earlier logits (re-patching with the entropy model)', async () => {
    await fc.assert(fc.asyncProperty(idsArb(2, 16), fc.nat(), fc.integer({ min: 4, max: 259 }), async (ids, jr, b) => {
      const j = 1 + (jr % (ids.length - 1));
      fc.pre(ids[j] !== b);
      const changed = [...ids];
      changed[j] = b;
      const [a, c] = await Promise.all([model.forward([ids]), model.forward([changed])]);
      const la = a.logits.dataSync(), lc = c.logits.dataSync();
      expect(maxDiffRows(la, lc, j)).toBeLessThanOrEqual(SAME);
      expect(maxDiffRows(la, lc, ids.length, V, j)).toBeGreaterThan(CHANGED);
      // the patch starts before j agree too (incremental patching)
      const starts = (L: Int32Array) => Array.from(patchStartsFromLengths(L)).filter((s) => s <= j);
      expect(starts(c.patchLengths[0])).toEqual(starts(a.patchLengths[0]));
    }), { numRuns: 30 });
  });

  it('prefix consistency: logits of a prefix equal the first logits of the full sequence', async () => {
    await fc.assert(fc.asyncProperty(idsArb(1, 16), fc.nat(), async (ids, nr) => {
      const n = 1 + (nr % ids.length);
      const full = (await model.forward([ids])).logits.dataSync();
      const prefix = (await model.forward([ids.slice(0, n)])).logits.dataSync();
      expect(maxDiffRows(full, prefix, n)).toBeLessThanOrEqual(SAME);
    }), { numRuns: 30 });
  });
});

describe("causality in Meta's reference mode (windows, EOS documents, ΣL = T + 1)", () => {
  const cfg = microConfig('reference');
  cfg.behaviour.localWindow = 3;
  cfg.behaviour.patcherWindow = 4;
  const ref = microModel(1, cfg);
  const withEos = idsArb(2, 16).chain((ids) => fc.array(fc.nat(ids.length - 1), { maxLength: 3 })
    .map((eos) => ids.map((x, i) => (i > 0 && eos.includes(i) ? 2 : x))));

  it('re-patched logits before a changed byte are unchanged, and the lengths sum to T + 1', async () => {
    await fc.assert(fc.asyncProperty(withEos, fc.nat(), fc.integer({ min: 4, max: 259 }), async (ids, jr, b) => {
      const j = 1 + (jr % (ids.length - 1));
      fc.pre(ids[j] !== b);
      const changed = [...ids];
      changed[j] = b;
      const [a, c] = await Promise.all([ref.forward([ids]), ref.forward([changed])]);
      expect(a.patchLengths[0].reduce((x, y) => x + y, 0)).toBe(ids.length + 1);
      expect(maxDiffRows(a.logits.dataSync(), c.logits.dataSync(), j)).toBeLessThanOrEqual(SAME);
      expect(maxDiffRows(a.logits.dataSync(), c.logits.dataSync(), ids.length, V, j)).toBeGreaterThan(CHANGED);
    }), { numRuns: 25 });
  });
});

describe('patch-level structure', () => {
  it('rebuilding global + decoder from the encoder outputs reproduces the logits exactly', () => {
    fc.assert(fc.property(idsAndLengthsArb(1, 12), ({ ids, lengths }) => {
      const a = logitsOf(model, ids, lengths), b = decodeWith(model, ids, lengths, {});
      expect(maxDiffRows(a, b, ids.length)).toBe(0);
    }), { numRuns: 15 });
  });

  it('perturbing o_j leaves logits before S_{j+1} - 1 unchanged and changes logits from there on', () => {
    fc.assert(fc.property(idsAndLengthsArb(2, 16), fc.nat(), ({ ids, lengths }, jr) => {
      const P = lengths.length, T = ids.length;
      fc.pre(P >= 2);
      const j = jr % (P - 1); // o_{P-1} is never read
      const S = patchStartsFromLengths(lengths);
      const first = S[j + 1] - 1; // the last byte of patch j, the first to read o_j
      const base = logitsOf(model, ids, lengths);
      const bumped = decodeWith(model, ids, lengths, { globalOut: (o) => bumpRow(o, j) });
      expect(maxDiffRows(base, bumped, Math.min(first, T))).toBeLessThanOrEqual(SAME);
      if (first < T) expect(maxDiffRows(base, bumped, T, V, first)).toBeGreaterThan(CHANGED);
    }), { numRuns: 40 });
  });

  it("changing the last patch's global input changes no logit", () => {
    fc.assert(fc.property(idsAndLengthsArb(1, 16), ({ ids, lengths }) => {
      const P = lengths.length;
      fc.pre(P >= 2);
      const base = logitsOf(model, ids, lengths);
      const bumped = decodeWith(model, ids, lengths, { patches: (p) => bumpRow(p, P - 1, 3) });
      expect(maxDiffRows(base, bumped, ids.length)).toBeLessThanOrEqual(SAME);
    }), { numRuns: 30 });
  });

  it('one-byte patches: byte i decodes from o_i (d(i) = i), o_i changes logits[i] and nothing before', () => {
    fc.assert(fc.property(idsArb(1, 12), fc.nat(), (ids, ir) => {
      const T = ids.length, ones = new Array(T + 1).fill(1);
      expect(Array.from(decoderPatchIdsFromLengths(ones, T))).toEqual([...Array(T).keys()]);
      const i = ir % T;
      const base = logitsOf(model, ids, ones);
      const bumped = decodeWith(model, ids, ones, { globalOut: (o) => bumpRow(o, i) });
      expect(maxDiffRows(base, bumped, i)).toBeLessThanOrEqual(SAME);
      expect(maxDiffRows(base, bumped, i + 1, V, i)).toBeGreaterThan(CHANGED);
    }), { numRuns: 25 });
  });
});

describe('batches', () => {
  it('rows of a batch are independent: batched logits and entropies equal each row run alone', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: 4, max: 259 }), { minLength: 36, maxLength: 36 }),
      async (n, pool) => {
        const rows = [0, 1, 2].map((r) => [1, ...pool.slice(r * 12, r * 12 + n)]);
        const out = await model.forward(rows);
        const batched = out.logits.dataSync(), ent = await model.computeEntropies(rows);
        expect(out.logits.shape).toEqual([3, n + 1, V]);
        for (let r = 0; r < 3; r++) {
          const alone = await model.forward([rows[r]]);
          expect(Array.from(alone.patchLengths[0])).toEqual(Array.from(out.patchLengths[r]));
          const la = alone.logits.dataSync();
          const slice = batched.subarray(r * (n + 1) * V, (r + 1) * (n + 1) * V);
          // same per-row arithmetic; 1e-5 leaves room for a batched matmul that reassociates sums
          expect(maxDiffRows(slice, la, n + 1)).toBeLessThanOrEqual(1e-5);
          const ea = await model.computeEntropies([rows[r]]);
          for (let t = 0; t <= n; t++) expect(Math.abs(ent[r * (n + 1) + t] - ea[t])).toBeLessThanOrEqual(1e-5);
        }
      }), { numRuns: 15 });
  });

  it('rejects ragged rows, bad ids and bad patch lengths with clear errors', () => {
    expect(() => model.forwardWithPatches([[1, 5], [1]], [[1, 1], [1]])).toThrow(/token ids row 1 has 1 tokens/);
    expect(() => model.forwardWithPatches([[1, 300]], [[1, 1]])).toThrow(/token id 300/);
    expect(() => model.forwardWithPatches([[1, 5, 6]], [[2, 1]])).toThrow(/first patch length must be 1/);
    expect(() => model.forwardWithPatches([[1, 5, 6]], [[1, 1]])).toThrow(/sum to 2, expected 3/);
    expect(() => model.forwardWithPatches([[1, 5, 6]], [[1, 2], [1, 2]])).toThrow(/2 rows of patch lengths for a batch of 1/);
  });
});

describe('probabilities and entropies', () => {
  it('softmax of every logit row sums to 1 and entropies lie in [0, ln 260]', async () => {
    await fc.assert(fc.asyncProperty(idsArb(1, 16), async (ids) => {
      const logits = (await model.forward([ids])).logits;
      const p = ops.softmax(logits).dataSync();
      for (let t = 0; t < ids.length; t++) {
        let s = 0;
        for (let v = 0; v < V; v++) s += p[t * V + v];
        expect(Math.abs(s - 1)).toBeLessThanOrEqual(1e-5); // 260 float32 terms of size ~1/260: error ~ 260 * 6e-8
      }
      for (const h of await model.computeEntropies([ids])) {
        expect(h).toBeGreaterThanOrEqual(-1e-6);
        expect(h).toBeLessThanOrEqual(Math.log(260) + 1e-5);
      }
    }), { numRuns: 30 });
  });
});

describe('cross-attention and config switches', () => {
  const zero = (t: Tensor): void => noGrad(() => t.backend.copyInto(t.storage, ops.zerosLike(t).storage));

  it('double residual: with W_o = 0 a block returns its queries, and the encoder doubles them (P = 2 q_in)', () => {
    const m = new Blt(microConfig(), { seed: 2 });
    const ca = m.model.local_decoder.cross_attn_layers[0];
    zero(ca.o_proj.weight);
    const x = ops.randn([1, 3, 16], new Rng(1)), ctx = ops.randn([1, 4, 16], new Rng(2));
    const ranges = { start: ops.tensor(Int32Array.from([0, 0, 2]), [1, 3]), end: ops.tensor(Int32Array.from([2, 4, 4]), [1, 3]) };
    expect(Array.from(noGrad(() => ca.forward(x, ctx, ranges)).dataSync())).toEqual(Array.from(x.dataSync()));

    zero(m.model.local_encoder.cross_attn_layers[0].o_proj.weight);
    const inter = noGrad(() => m.forwardWithPatches([[1, 70, 71, 72, 73]], [[1, 2, 2]], { intermediates: true }).intermediates!);
    const q = inter.get('encoder.cross0.query_in')!.dataSync(), patches = inter.get('encoder.patches')!.dataSync();
    expect(patches.length).toBe(q.length); // [P·k, dE] and [P, k·dE] hold the same values in the same order
    expect(Array.from(patches)).toEqual(Array.from(q, (v) => 2 * v));
  });

  it('empty patches: HF attends uniformly, Meta gives zeros; logits agree because the decoder never reads them', () => {
    const hf = new Blt(microConfig('hf'), { seed: 4 }), ref = new Blt(microConfig('reference'), { seed: 4 });
    const ids = [1, 72, 105, 33, 36, 98], ones = new Array(ids.length + 1).fill(1); // the last patch holds no byte
    const run = (m: Blt) => noGrad(() => m.forwardWithPatches([ids], [ones], { intermediates: true }).intermediates!);
    const a = run(hf), b = run(ref);
    const lastRow = (t: Tensor) => Array.from(t.dataSync().subarray((ones.length - 1) * 32));
    expect(lastRow(b.get('encoder.patches')!).every((v) => v === 0)).toBe(true);
    expect(lastRow(a.get('encoder.patches')!).some((v) => Math.abs(v) > CHANGED)).toBe(true);
    expect(maxDiffRows(a.get('logits')!.dataSync(), b.get('logits')!.dataSync(), ids.length)).toBe(0);
  });

  it('re-pooling at each encoder cross layer (HF) differs from pooling once (Meta) only with several cross layers', () => {
    const ids = [[1, 72, 105, 33, 36, 98, 99]], lengths = [[1, 2, 3, 1]];
    const patchesOf = (encCrossAll: boolean, repool: boolean): Float32Array => {
      const cfg = microConfig('hf', { encCrossAll });
      cfg.behaviour.repoolEachCrossLayer = repool;
      const m = new Blt(cfg, { seed: 6 });
      return noGrad(() => m.forwardWithPatches(ids, lengths, { intermediates: true }).intermediates!.get('encoder.patches')!.dataSync() as Float32Array);
    };
    expect(maxDiffRows(patchesOf(false, true), patchesOf(false, false), 4, 32)).toBe(0);
    expect(maxDiffRows(patchesOf(true, true), patchesOf(true, false), 4, 32)).toBeGreaterThan(CHANGED);
  });

  it('local attention ranges: causal, window of W keys, EOS closes a document', () => {
    const ids = Int32Array.from([1, 70, 2, 71, 72, 73]);
    const r = localAttentionRanges(ids, 1, 6, 2, true, 'cpu');
    expect(Array.from(r.start.dataSync())).toEqual([0, 0, 1, 3, 3, 4]);
    expect(Array.from(r.end.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    const plain = localAttentionRanges(ids, 1, 6, null, false, 'cpu');
    expect(Array.from(plain.start.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('training', () => {
  it('a few dozen AdamW steps on a fixed text lower the loss', () => {
    const m = new Blt(microConfig(), { seed: 5 });
    const text = 'the cat sat on the mat. the cat sat on the mat.';
    const ids = [1, ...Array.from(new TextEncoder().encode(text), (b) => b + 4)];
    const lengths = [1];
    for (let left = ids.length - 1; left > 0; left -= 4) lengths.push(Math.min(4, left));
    const opt = new AdamW(m.parameters(), { lr: 1e-2, weightDecay: 0 });
    const losses: number[] = [];
    for (let step = 0; step < 30; step++) {
      m.zeroGrad();
      const loss = m.loss([ids], [lengths]);
      losses.push(loss.item());
      ops.backward(loss);
      opt.step();
    }
    expect(losses[0]).toBeGreaterThan(4.5); // about ln 260 = 5.56 at init
    expect(losses[losses.length - 1]).toBeLessThan(0.5 * losses[0]);
  }, 30_000);
});

describe('patching modes, metrics and masks', () => {
  it('patchLengthsFor follows the config: entropy rule, byte (N+1 ones), static strides after a BOS patch', async () => {
    const ids = [[1, 72, 101, 108, 108, 111, 36, 119]];
    const ent = await model.computeEntropies(ids);
    expect(Array.from((await model.patchLengthsFor(ids))[0])).toEqual(Array.from(model.patchLengthsOf(ids, ent)[0]));
    const cfg = microConfig();
    const m = new Blt(cfg, { seed: 1 });
    cfg.patching.mode = 'byte';
    expect(Array.from((await m.patchLengthsFor(ids))[0])).toEqual(new Array(9).fill(1));
    cfg.patching.mode = 'static';
    cfg.patching.patchSize = 3;
    expect(Array.from((await m.patchLengthsFor(ids))[0])).toEqual([1, 3, 3, 1]);
  });

  it('an entropy model with window 1 sees one token: equal tokens get equal entropies at any position', async () => {
    const cfg = microConfig('reference');
    cfg.behaviour.patcherWindow = 1;
    const m = new Blt(cfg, { seed: 9 });
    const ent = await m.computeEntropies([[1, 70, 80, 70, 90, 80, 70]]);
    expect(Math.abs(ent[1] - ent[3])).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(ent[1] - ent[6])).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(ent[2] - ent[5])).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(ent[1] - ent[2])).toBeGreaterThan(CHANGED);
  });

  it('global ranges: causal, and with documents a patch after an EOS-holding patch starts a new block', () => {
    const ids = Int32Array.from([1, 70, 2, 71, 72]), lengths = Int32Array.from([1, 2, 2]);
    expect(Array.from(globalAttentionRanges(ids, lengths, 1, 3, 5, true, 'cpu').start.dataSync())).toEqual([0, 0, 2]);
    expect(Array.from(globalAttentionRanges(ids, lengths, 1, 3, 5, false, 'cpu').start.dataSync())).toEqual([0, 0, 0]);
  });

  it('bits per byte: Σ CE / (ln 2 · n) of the logits, and log2(260) for a uniform predictor', async () => {
    const ids = [[1, 72, 101, 108, 108, 111]], lengths = [[1, 2, 3]];
    const logits = logitsOf(model, ids[0], lengths[0]);
    const { sumNats, count } = crossEntropySum(logits.subarray(0, 5 * V), 5, V, ids[0].slice(1)); // position 5 has no target
    expect(count).toBe(5);
    expect(Math.abs(await model.bitsPerByte(ids, lengths) - sumNats / (Math.LN2 * 5))).toBeLessThanOrEqual(1e-5);
    const m = new Blt(microConfig(), { seed: 1 });
    noGrad(() => m.lm_head.weight.backend.copyInto(m.lm_head.weight.storage, ops.zerosLike(m.lm_head.weight).storage));
    expect(Math.abs(await m.bitsPerByte(ids, lengths) - Math.log2(260))).toBeLessThanOrEqual(1e-6);
  });
});

describe('generation', () => {
  it('greedy generation appends argmax of the last logits of the re-patched prefix, step by step', async () => {
    const prompt = [1, 72, 105, 32];
    const r = await generate(model, { ids: prompt }, { maxNewBytes: 4, stopAtEos: false });
    const out = [...r.promptIds, ...r.ids];
    expect(out.length).toBe(8);
    expect(out.slice(0, 4)).toEqual(prompt);
    for (let n = 4; n < 8; n++) {
      const logits = (await model.forward([out.slice(0, n)])).logits.dataSync().subarray((n - 1) * V, n * V);
      expect(out[n]).toBe(logits.indexOf(Math.max(...logits)));
    }
  });
});
