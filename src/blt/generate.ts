/**
 * Text generation with a key/value cache: every new byte costs the same whatever the length of the prefix (up to
 * the attention itself, which reads the earlier keys). Sampling is in sampling.ts.
 *
 * Why caching is exact. Every byte-level model (entropy model, local encoder, local decoder) is causal, so its
 * rows 0..N-2 do not change when byte N-1 arrives: their keys and values are kept and only the new row is
 * computed. The patching rules are incremental (paper §2.4: the starts of a prefix are the prefix of the starts),
 * so the starts are decided once, position by position, with the same start tests and max-length splits as
 * patchLengths (patching/patch-lengths.ts). Byte i reads the global output o_{d(i)} of the last COMPLETE patch, d(i) = p(i+1) - 1;
 * a complete patch's bytes never change and the global model is causal over patches, so o_j is fixed once patch j
 * completes, which is exactly when its successor's start is decided: the global model then runs once, on the new
 * patch only, with a key/value cache of the earlier ones (paper §2.4; the maintainers' description of generation).
 *
 * What one step does, for the n new tokens (the prompt at the first step, then one byte):
 *   1. entropies of the new positions (entropy model with its cache; a new chunk of entropy-context.ts restarts it)
 *   2. decide the starts of the positions that became candidates (scanStarts)
 *   3. hash n-gram embeddings of the new positions (from the last few bytes) and the encoder layers on them
 *   4. for each newly complete patch: its patch vector (cross-attention over its own bytes only), the global model
 *      on it, and its decoder keys D_C(o)
 *   5. the decoder on the rows whose d(i) is new, and the byte head on the last: the logits of the next byte.
 * The key ranges of new rows are built from the positions' document starts and the windows (O(1) per row, the
 * same values localAttentionRanges / globalAttentionRanges give for the whole sequence), and caches drop the rows
 * no later query reads (windows, documents), so windowed models run in constant memory.
 *
 * Floating point: the cached path applies the same ops to the same rows as a forward over the whole sequence, and
 * the CPU kernels compute a row from that row's inputs alone (matmul rows, attention queries over key tiles of 64
 * starting at the first key of their 4-query block; caches drop rows in multiples of 4, so keys are grouped alike),
 * so the logits agree bit for bit, except where the tiling of a query's keys depends on its block neighbours: a
 * sliding window longer than 64 bytes once the sequence is longer than it (reference config), an EOS document
 * boundary next to a multiple of 64, or patches longer than ~60 bytes in the encoder cross-attention. There the two
 * may differ by float rounding (~1e-7 relative), which flips a byte only on a near-tie.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { scopeAsync } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import * as ops from '../ops/index.js';
import { KvCache } from '../nn/transformer.js';
import { RowBuffer } from '../nn/row-buffer.js';
import { DecoderCache } from './local-decoder.js';
import { Blt, hostIds } from './blt.js';
import { entropyOfLogits, localKeyStart } from './entropy-model.js';
import { chunkStart, entropyContext, type EntropyContext } from './entropy-context.js';
import type { StartTest } from './patching/rules.js';
import { lastCandidateOf, scanStarts, startTestOf, type PatchRule } from './patching/patch-lengths.js';
import { checkSamplingOptions, sampleNext, type SamplingOptions } from './sampling.js';
import { encode, idsToBytes, utf8Decode, EOS_ID } from './tokenizer.js';

export type { SamplingOptions } from './sampling.js';

export interface GenerateOptions {
  /** stop after this many new tokens (EOS included), an integer >= 0 */
  maxNewBytes: number;
  /** default { greedy: true } (Meta's generate_nocache default) */
  sampling?: SamplingOptions;
  /** seed of the sampling Rng (default 0); ignored when `rng` is given */
  seed?: number;
  /** the sampling Rng (advanced by one draw per sampled byte) */
  rng?: Rng;
  /** stop when EOS is generated (default true) */
  stopAtEos?: boolean;
  /**
   * Called with every new token as soon as it is chosen (streaming output); awaiting it lets the caller's
   * event loop run between tokens. Returning false stops generation there (a stop button).
   */
  onToken?: (id: number, index: number) => boolean | void | Promise<boolean | void>;
}

/** Work done by the global transformer during one generation (one position per patch, once: see the header). */
export interface GlobalModelStats {
  /** forward calls of the global transformer */
  calls: number;
  /** patch positions processed, summed over calls */
  positions: number;
}

export interface GenerateResult {
  /** prompt ids: BOS + (UTF-8 bytes + 4), or the ids given */
  promptIds: number[];
  /** generated ids, EOS included when generation stopped there */
  ids: number[];
  /** generated byte values (ids >= 4 minus 4; special ids dropped) */
  bytes: Uint8Array;
  /** `bytes` decoded as UTF-8; invalid pieces become U+FFFD (they survive, visibly, instead of vanishing) */
  text: string;
  /** true when generation stopped at EOS */
  stoppedAtEos: boolean;
  global: GlobalModelStats;
}

/** A prompt: text (UTF-8 encoded), raw bytes, or token ids ({ ids }). Text and bytes get a BOS, never an EOS. */
export type Prompt = string | Uint8Array | { ids: ArrayLike<number> };

/** The prompt's token ids (shared with the no-cache test oracle in spec/blt/generate). */
export function promptIds(prompt: Prompt): number[] {
  const ids = typeof prompt === 'string' || prompt instanceof Uint8Array ? Array.from(encode(prompt, { addBos: true, addEos: false }))
    : Array.from(prompt.ids);
  if (ids.length === 0) throw new Error('generate: the prompt has no tokens (pass text, bytes, or at least one id)');
  return ids;
}

export function checkGenerateOptions(opts: GenerateOptions): void {
  if (!Number.isInteger(opts.maxNewBytes) || opts.maxNewBytes < 0) {
    throw new Error(`generate: maxNewBytes must be an integer >= 0, got ${opts.maxNewBytes}`);
  }
  checkSamplingOptions(opts.sampling ?? { greedy: true });
}

export function generationResult(prompt: number[], ids: number[], stoppedAtEos: boolean, global: GlobalModelStats): GenerateResult {
  const bytes = idsToBytes(ids);
  return { promptIds: prompt, ids, bytes, text: utf8Decode(bytes, 'replace'), stoppedAtEos, global };
}


// ---- what generation keeps between steps ---------------------------------------------------------------------

/** Document start of every position: 1 + the last EOS before it (0 without document masks). */
function docStartOf(ids: readonly number[], t: number, prev: number, documentMask: boolean): number {
  return documentMask && t > 0 && ids[t - 1] === EOS_ID ? t : prev;
}

class Generation {
  readonly ids: number[];
  readonly rule: PatchRule;
  readonly isStart: StartTest;
  readonly entropyCtx: EntropyContext;
  /** H_0..H_{N-1} (entropy mode) */
  readonly entropies: number[] = [];
  /** document start of every position (byte-level document masks) */
  readonly docStarts: number[] = [];
  /** the patch starts decided so far (positions 0..decided) */
  readonly starts: number[] = [0];
  decided = 0;
  readonly entropyKv: KvCache;
  readonly encoderKv: KvCache;
  /** the rows still read of every encoder layer output a cross-attention reads: [1, ·, dE] (null elsewhere) */
  readonly encoderStates: (RowBuffer | null)[];
  /** the global model: complete patches processed, and the patch where the current document begins */
  readonly globalKv: KvCache;
  complete = 0;
  globalDocStart = 0;
  /** the decoder's self-attention rows, and its cross-attention keys and values of D_C(o), k per complete patch */
  readonly decoderKv: DecoderCache;
  /** decoder rows whose d(i) was final when they were decoded */
  decoderFinal = 0;
  readonly stats: GlobalModelStats = { calls: 0, positions: 0 };

  constructor(readonly model: Blt, prompt: number[]) {
    const m = model.model;
    this.ids = [...prompt];
    this.rule = model.patchRule();
    this.isStart = startTestOf(this.rule, this.ids, this.rule.mode === 'entropy' ? this.entropies : null);
    this.entropyCtx = entropyContext(model.config);
    this.entropyKv = new KvCache(m.patcher?.layers.length ?? 0);
    this.encoderKv = new KvCache(m.local_encoder.layers.length);
    this.encoderStates = m.local_encoder.layers.map(() => null);
    this.globalKv = new KvCache(m.global_transformer.layers.length);
    this.decoderKv = new DecoderCache(m.local_decoder);
  }

  dispose(): void {
    for (const c of [this.entropyKv, this.encoderKv, this.globalKv, this.decoderKv]) c.dispose();
    for (const b of this.encoderStates) b?.dispose();
  }

  /** One past the last position of patch j (a complete patch; the BOS patch always ends at 1, decided or not). */
  patchEnd(j: number): number {
    return this.starts[j + 1] ?? 1;
  }

  /** d(i) = p(i+1) - 1 = (number of starts ≤ i + 1) - 2, at least 0 (decoderPatchIdsFromLengths on the starts decided). */
  decoderId(i: number): number {
    let lo = 0, hi = this.starts.length; // first index with starts[idx] > i + 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= i + 1) lo = mid + 1; else hi = mid;
    }
    return Math.max(0, lo - 2);
  }
}

// ---- one step ---------------------------------------------------------------------------------------------------

/** Key ranges of rows [from, to) for `cache`: [localKeyStart, t + 1) with a floor (the start of the chunk), after dropping rows none of them reads. */
function localRanges(g: Generation, cache: KvCache, from: number, to: number, window: number | null, floor = 0) {
  const start: number[] = [], end: number[] = [];
  for (let t = from; t < to; t++) {
    start.push(localKeyStart(t, window, Math.max(floor, g.docStarts[t])));
    end.push(t + 1);
  }
  cache.dropBefore(start[0]); // starts are non-decreasing in t, and so is every later row's
  return cache.ranges(start, end, g.model.device);
}

/** 1. Eq. 1 for positions t0..N-1: the entropy model on those rows only, with the cache of the earlier rows of their chunk. */
async function newEntropies(g: Generation, t0: number): Promise<void> {
  const model = g.model, device = model.device, ctx = g.entropyCtx, N = g.ids.length;
  for (let from = t0; from < N;) {
    const cs = chunkStart(from, ctx), to = Math.min(N, cs + ctx.chunk);
    if (from === cs) g.entropyKv.restartAt(cs); // a new chunk sees nothing before it
    const ranges = localRanges(g, g.entropyKv, from, to, ctx.window, cs);
    const ids = ops.tensor(Int32Array.from(g.ids.slice(from, to)), [1, to - from], { device }); // [1, n]
    const ent = noGrad(() => entropyOfLogits(model.model.patcher!.forward(ids, ops.arange(from - cs, to - cs, { device }),
      ranges, g.entropyKv))); // [1, n]
    g.entropies.push(...await ent.data());
    from = to;
  }
}

/** 3. Eq. 2 and the encoder layers for positions t0..N-1; appends the layer outputs the cross-attention reads. */
function encodeNewBytes(g: Generation, t0: number): void {
  const model = g.model, m = model.model, device = model.device, N = g.ids.length, n = N - t0;
  // hash n-grams of positions t0.. need the bytes from t0 - (n_max - 1) on
  const s = Math.max(0, t0 - (Math.max(...model.config.hash.groupSizes) - 1));
  const hashIds = m.encoder_hash_tok_embedding.rowIds(Int32Array.from(g.ids.slice(s, N)), 1, N - s) // one host [1, N-s] per table
    .map((r) => r.slice(t0 - s)); // [1, n]
  const e = model.embed(ops.tensor(Int32Array.from(g.ids.slice(t0, N)), [1, n], { device }), hashIds); // [1, n, dE]
  const ranges = localRanges(g, g.encoderKv, t0, N, model.config.behaviour.localWindow);
  const states = m.local_encoder.byteStates(e, ops.arange(t0, N, { device }), ranges, undefined, g.encoderKv);
  states.forEach((h, l) => { if (h) (g.encoderStates[l] ??= new RowBuffer()).append(h); }); // [1, n, dE] after the rows held
}

/**
 * 4. Eqs. 5-8 and §3.1 for the newly complete patches C..upTo-1: their patch vectors from their own bytes only
 * (the same cross-attention steps as the encoder's forward, with only these patches as queries and pooling
 * segments), the global layers on them with the cache of the earlier patches. Returns D_C of their outputs: the
 * decoder keys of these patches, [1, n·k, dD].
 */
function newPatches(g: Generation, upTo: number): Tensor {
  const model = g.model, m = model.model, device = model.device, k = model.config.crossAttnK;
  const C = g.complete, n = upTo - C, S = g.starts;
  const from = S[C] & ~3, to = g.patchEnd(upTo - 1); // state rows [from, to): the new patches' bytes (from a multiple of 4)
  const states = g.encoderStates.map((b) => (b ? b.rows(from, to) : null)); // [1, to - from, dE]
  const seg = new Int32Array(to - from).fill(-1); // pooling segment of each byte (-1: none)
  const qs = new Int32Array(n * k), qe = new Int32Array(n * k); // [1, n·k]: query (j, r) -> the bytes of patch j
  for (let j = C; j < upTo; j++) {
    for (let i = S[j]; i < g.patchEnd(j); i++) seg[i - from] = j - C;
    qs.fill(S[j] - from, (j - C) * k, (j - C + 1) * k);
    qe.fill(g.patchEnd(j) - from, (j - C) * k, (j - C + 1) * k);
  }
  const patches = m.local_encoder.patchVectors(states, ops.tensor(seg, [to - from], { device }),
    { start: ops.tensor(qs, [1, n * k], { device }), end: ops.tensor(qe, [1, n * k], { device }) }, n); // [1, n, k·dE]
  // global ranges (globalAttentionRanges): patch j sees [document start, j]; a patch holding an EOS ends its document
  const gs: number[] = [], ge: number[] = [];
  for (let j = C; j < upTo; j++) {
    gs.push(g.globalDocStart);
    ge.push(j + 1);
    if (model.config.behaviour.documentMask && g.ids.slice(S[j], g.patchEnd(j)).includes(EOS_ID)) g.globalDocStart = j + 1;
  }
  const out = m.global_transformer.forward(patches, ops.arange(C, upTo, { device }), g.globalKv.ranges(gs, ge, device),
    undefined, g.globalKv); // [1, n, dG]
  g.complete = upTo;
  g.stats.calls++;
  g.stats.positions += n;
  return m.local_decoder.patchKeys(out); // [1, n·k, dD]
}

/**
 * 5. Eqs. 9-12 and the byte head for decoder rows r..N-1: the logits of position N-1, [1, 1, V]. `newKeys` are the
 * decoder keys of the patches completed at this step (null: none), added to the cross-attention's cache.
 */
function decodeRows(g: Generation, r: number, newKeys: Tensor | null): Tensor {
  const model = g.model, device = model.device, k = model.config.crossAttnK, N = g.ids.length, n = N - r;
  g.decoderKv.self.truncate(r); // rows ≥ r were decoded with a d(i) that was not final
  const selfRanges = localRanges(g, g.decoderKv.self, r, N, model.config.behaviour.localWindow);
  const d = Array.from({ length: n }, (_, i) => g.decoderId(r + i));
  const cross = { start: ops.tensor(Int32Array.from(d, (j) => j * k), [1, n], { device }),
    end: ops.tensor(Int32Array.from(d, (j) => j * k + k), [1, n], { device }) }; // byte i -> the k keys of patch d(i)
  const h = g.encoderStates[g.encoderStates.length - 1]!; // the encoder output rows still read (dE = dD)
  const z = model.model.local_decoder.forward(h.rows(r, N), newKeys, { // [1, n, dE]
    positions: ops.arange(r, N, { device }), selfRanges, crossRanges: cross,
  }, undefined, g.decoderKv); // [1, n, dD]
  return model.lm_head.forward(ops.narrow(z, 1, n - 1, 1)); // [1, 1, V]
}

/** One step: everything for positions t0..N-1 (the whole prompt at the first step, then the byte generated last). */
async function step(g: Generation): Promise<Tensor> {
  const N = g.ids.length, t0 = g.encoderKv.end, beh = g.model.config.behaviour;
  for (let t = g.docStarts.length; t < N; t++) g.docStarts.push(docStartOf(g.ids, t, t > 0 ? g.docStarts[t - 1] : 0, beh.documentMask));
  if (g.rule.mode === 'entropy') await newEntropies(g, t0);
  // 2. the positions that became candidates are decided, in order (patchLengths does the same over a whole row)
  const last = lastCandidateOf(g.rule, N);
  scanStarts(g.rule, g.isStart, g.starts, g.decided + 1, last);
  g.decided = Math.max(g.decided, last);
  return noGrad(() => {
    encodeNewBytes(g, t0);
    // byte N-1 reads o_{d(N-1)}; d is non-decreasing, so the complete patches are 0..d(N-1)
    const upTo = g.decoderId(N - 1) + 1;
    const newKeys = upTo > g.complete ? newPatches(g, upTo) : null;
    const logits = decodeRows(g, g.decoderFinal, newKeys);
    // rows i whose position i + 1 is decided have their final d(i) (under HF's "N" with a max length, N is decided
    // one step later, so the last row is decoded again then)
    g.decoderFinal = Math.min(N, g.decided);
    // later steps read encoder states from the first incomplete patch (cross-attention) and the first undecoded row on
    const keepFrom = Math.min(g.starts[g.complete], g.decoderFinal) & ~3;
    for (const b of g.encoderStates) b?.dropBefore(keepFrom);
    return logits;
  });
}

// [doc:generate]
/**
 * Continues a prompt: per new byte the entropy model, the local encoder and the local decoder run on that byte
 * only (key/value caches), and the global transformer only when a patch completes, on that patch only: one call
 * for the complete patches of the prompt, then one call with one position per new patch. Stops after
 * `maxNewBytes` or at EOS (when `stopAtEos`, default true).
 */
export async function generate(model: Blt, prompt: Prompt, opts: GenerateOptions): Promise<GenerateResult> {
  checkGenerateOptions(opts);
  const sampling = opts.sampling ?? { greedy: true };
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const start = promptIds(prompt);
  hostIds([start]); // checks the prompt ids
  const g = new Generation(model, start), out: number[] = [];
  let eos = false;
  try {
    while (out.length < opts.maxNewBytes && !eos) {
      const N = g.ids.length;
      const next = await scopeAsync(async () => {
        const logits = await step(g); // [1, 1, V]
        return sampleNext(await logits.data(), sampling, rng, `(generate, position ${N - 1})`);
      });
      g.ids.push(next);
      out.push(next);
      eos = next === EOS_ID && (opts.stopAtEos ?? true);
      if ((await opts.onToken?.(next, out.length - 1)) === false) break;
    }
  } finally {
    g.dispose();
  }
  return generationResult(start, out, eos, g.stats);
}
