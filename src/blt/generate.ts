/**
 * Text generation with the BLT (spec §2.10, §2.11, §12.7 props 58 and 61, Appendix C.5).
 *
 *   1. Sampling the next byte from logits ℓ [260] (greedy, temperature, top-k, top-p), seeded by our Rng.
 *   2. `generate`: the no-cache reference of C.5: for every new byte, recompute the entropies and patch
 *      lengths of the whole prefix and run the full forward pass; sample from the last position's logits.
 *   3. `generateCached`: the same bytes, with every model run only on what is new.
 *
 * Why a cache is exact (spec §1.4, §2.1, property 58): every byte-level model (entropy model, local encoder,
 * local decoder) is causal, so its rows 0..N-2 do not change when byte N-1 arrives: their keys/values are kept
 * and only the new row is computed. Byte i reads the global output o_{d(i)} of the last COMPLETE patch
 * d(i) = p(i+1) - 1; with an incremental patching rule the patches of the prefix never change, a complete
 * patch's bytes never change, and the global model is causal over patches, so o_j is fixed from the moment
 * patch j completes. Patch j completes exactly when the next position N becomes a patch start (spec §2.11,
 * property 61): the global model then runs once, on that one patch, with a key/value cache of the earlier ones.
 *
 * Floating point: the cached path applies the same ops to the same rows as the reference (TransformerLayer,
 * LocalEncoder, LocalDecoder, op for op), and the CPU kernels compute a row from that row's inputs alone
 * (matmul rows, attention queries over key tiles of 64 starting at the first key of their 4-query block), so
 * the logits agree bit for bit, except where the tiling of a query's keys depends on its block neighbours: a
 * sliding window beyond 512 bytes (reference config), an EOS document boundary next to a multiple of 64, or a
 * patch longer than ~60 bytes in the encoder cross-attention. There the two may differ by float rounding
 * (~1e-7 relative), which flips a byte only on a near-tie.
 *
 * The model pieces come from the model itself: `TransformerLayer.forwardCached` with a `KvCache` per stack
 * (src/nn/transformer.ts), the cached forwards of the entropy model, local encoder, global transformer and local
 * decoder, the encoder's `crossStep` and the decoder's `patchKeys` (the same methods the full forward calls), and
 * `Blt.embed` (eq. 2). This file holds the caching logic: which rows and patches are new at each step.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { scopeAsync } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';
import { KvCache, appendKept } from '../nn/transformer.js';
import { Blt, hostIds } from './blt.js';
import type { Device } from '../tensor/dtype.js';
import { entropyOfLogits, localAttentionRanges } from './entropy-model.js';
import { chunkAttention, chunkStart, entropyContext } from './entropy-context.js';
import { encoderCrossRanges } from './local-encoder.js';
import { globalAttentionRanges } from './global-transformer.js';
import { decoderCrossRanges } from './local-decoder.js';
import { decoderPatchIdsFromLengths, patchIdsFromLengths, patchStartsFromLengths } from './patch-ids.js';
import { encode, idsToBytes, utf8Decode, EOS_ID } from './tokenizer.js';

// =============================================================================================================
// 1. Sampling
// =============================================================================================================

/**
 * How the next byte is chosen from the last position's logits.
 *   greedy: argmax (lowest id on ties); the other fields are ignored and no random number is drawn.
 *   otherwise: p ∝ exp(ℓ / T), restricted to the k most likely ids (topK), then to the smallest set of most
 *   likely ids whose probability reaches topP (nucleus), renormalised; exactly one uniform draw per byte.
 */
export interface SamplingOptions {
  greedy?: boolean;
  /** T > 0 (default 1) */
  temperature?: number;
  /** integer k ≥ 1 (default: all 260) */
  topK?: number;
  /** p in (0, 1] (default 1) */
  topP?: number;
}

/** Checks sampling options; throws an Error naming the bad field and value. */
export function checkSamplingOptions(s: SamplingOptions): void {
  const { greedy = false, temperature, topK, topP } = s;
  if (typeof greedy !== 'boolean') throw new Error(`sampling: greedy must be true or false, got ${String(greedy)}`);
  if (temperature !== undefined && (typeof temperature !== 'number' || Number.isNaN(temperature) || (!greedy && !(temperature > 0 && Number.isFinite(temperature))))) {
    throw new Error(`sampling: temperature must be a finite number > 0 (or set greedy: true), got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new Error(`sampling: topK must be an integer >= 1, got ${topK}`);
  }
  if (topP !== undefined && !(typeof topP === 'number' && topP > 0 && topP <= 1)) {
    throw new Error(`sampling: topP must lie in (0, 1], got ${topP}`);
  }
}

/** Checks one row of logits: no NaN, no +∞, at least one finite value (-∞ = "never"). */
function checkLogits(logits: ArrayLike<number>, where: string): void {
  if (logits.length === 0) throw new Error(`sampling: empty logits ${where}`);
  let finite = 0;
  for (let v = 0; v < logits.length; v++) {
    const x = logits[v];
    if (Number.isNaN(x)) throw new Error(`sampling: logit of id ${v} is NaN ${where}`);
    if (x === Infinity) throw new Error(`sampling: logit of id ${v} is +Infinity ${where}`);
    if (x !== -Infinity) finite++;
  }
  if (finite === 0) throw new Error(`sampling: every logit is -Infinity ${where}`);
}

/** argmax_v ℓ_v, the lowest id on ties. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
  return best;
}

/**
 * The distribution sampling draws from, as (id, probability) pairs in decreasing probability (ties: lower id
 * first). Greedy gives the single argmax with probability 1. Computed in float64.
 *   q_v = exp((ℓ_v - max ℓ) / T) / Σ_u exp((ℓ_u - max ℓ) / T)          softmax(ℓ / T)
 *   top-k: keep the k largest q, renormalise; top-p: keep the shortest prefix (largest first) with Σ q ≥ p,
 *   renormalise (top-p acts on the top-k distribution, as HF's logits processors chain them).
 */
export function samplingDistribution(logits: ArrayLike<number>, s: SamplingOptions = {}, where = ''): { ids: number[]; probs: number[] } {
  checkSamplingOptions(s);
  checkLogits(logits, where);
  if (s.greedy) return { ids: [argmax(logits)], probs: [1] };
  const T = s.temperature ?? 1;
  const order = Array.from({ length: logits.length }, (_, v) => v)
    .sort((a, b) => (logits[b] - logits[a]) || (a - b)); // decreasing logit, lower id first on ties
  const k = Math.min(s.topK ?? order.length, order.length);
  const kept = order.slice(0, k);
  const top = logits[kept[0]];
  let probs = kept.map((v) => Math.exp((logits[v] - top) / T)); // -∞ logits give 0
  let total = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / total);
  // nucleus: the shortest prefix of the (sorted) kept ids whose mass reaches topP (at least one id)
  const p = s.topP ?? 1;
  if (p < 1) {
    let mass = 0, n = 0;
    while (n < probs.length && (n === 0 || mass < p)) mass += probs[n++];
    probs = probs.slice(0, n);
    kept.length = n;
    total = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((q) => q / total);
  }
  // drop ids with probability 0 (-∞ logits) so they can never be drawn
  const ids: number[] = [], out: number[] = [];
  kept.forEach((v, i) => { if (probs[i] > 0) { ids.push(v); out.push(probs[i]); } });
  return { ids, probs: out };
}

/**
 * One next-byte id from logits [V] (spec §2.11: greedy by default in Meta's code; temperature, top-k, top-p).
 * Sampled modes draw exactly one `rng.uniform()` u and return the first id whose cumulative probability
 * exceeds u; greedy draws nothing.
 */
export function sampleNext(logits: ArrayLike<number>, s: SamplingOptions, rng: Rng, where = ''): number {
  const { ids, probs } = samplingDistribution(logits, s, where);
  if (s.greedy) return ids[0];
  const u = rng.uniform();
  let cdf = 0;
  for (let i = 0; i < ids.length; i++) {
    cdf += probs[i];
    if (u < cdf) return ids[i];
  }
  return ids[ids.length - 1]; // u within rounding of 1
}

// =============================================================================================================
// 2. Generation
// =============================================================================================================

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

/** Work done by the global transformer during one generation (spec §12.7 property 61). */
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

function promptIds(prompt: Prompt): number[] {
  const ids = typeof prompt === 'string' || prompt instanceof Uint8Array ? Array.from(encode(prompt, { addBos: true, addEos: false }))
    : Array.from(prompt.ids);
  if (ids.length === 0) throw new Error('generate: the prompt has no tokens (pass text, bytes, or at least one id)');
  return ids;
}

function checkGenerateOptions(opts: GenerateOptions): void {
  if (!Number.isInteger(opts.maxNewBytes) || opts.maxNewBytes < 0) {
    throw new Error(`generate: maxNewBytes must be an integer >= 0, got ${opts.maxNewBytes}`);
  }
  checkSamplingOptions(opts.sampling ?? { greedy: true });
}

function result(prompt: number[], ids: number[], stoppedAtEos: boolean, global: GlobalModelStats): GenerateResult {
  const bytes = idsToBytes(ids);
  return { promptIds: prompt, ids, bytes, text: utf8Decode(bytes, 'replace'), stoppedAtEos, global };
}

/**
 * The no-cache reference (Appendix C.5, spec §2.11 `generate_nocache`): for every new byte, recompute the
 * entropies and patch lengths of the whole sequence with the config's rule, run the full forward pass, and
 * sample from logits[N-1].
 */
export async function generate(model: Blt, prompt: Prompt, opts: GenerateOptions): Promise<GenerateResult> {
  checkGenerateOptions(opts);
  const sampling = opts.sampling ?? { greedy: true };
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const start = promptIds(prompt);
  const ids = [...start], out: number[] = [];
  const V = model.config.vocabSize;
  const stats: GlobalModelStats = { calls: 0, positions: 0 };
  let eos = false;
  while (out.length < opts.maxNewBytes && !eos) {
    const N = ids.length;
    const next = await scopeAsync(async () => {
      const lengths = await model.patchLengthsFor([ids]);
      const { logits } = noGrad(() => model.forwardWithPatches([ids], lengths)); // [1, N, V]
      stats.calls++;
      stats.positions += lengths[0].length; // the global model ran over all P patches
      const last = (await logits.data()).subarray((N - 1) * V, N * V);
      return sampleNext(last, sampling, rng, `(generate, position ${N - 1})`);
    });
    ids.push(next);
    out.push(next);
    eos = next === EOS_ID && (opts.stopAtEos ?? true);
  }
  return result(start, out, eos, stats);
}

// ---- the cached generator -----------------------------------------------------------------------------------

/** Rows [from, to) of host-built key ranges [1, T] (built on the CPU), uploaded to `device` as [1, to - from]. */
function rowsOf(r: KeyRanges, from: number, to: number, device: Device): KeyRanges {
  const pick = (t: Tensor): Tensor => ops.tensor((t.dataSync() as Int32Array).slice(from, to), [1, to - from], { device });
  return { start: pick(r.start), end: pick(r.end) };
}

/**
 * Everything generation keeps between steps. Rows of the byte-level models are positions 0..N-1; rows of the
 * global model are complete patches.
 */
class GenerationCache {
  /** entropies H_0..H_{N-1} of the entropy model (host), when it runs */
  entropies: number[] = [];
  entropyKv: KvCache;
  encoderKv: KvCache;
  /** outputs [1, N, dE] of every encoder layer that has cross-attention (the last one is h, the decoder input) */
  encoderStates: (Tensor | null)[];
  globalKv: KvCache;
  /** D_C(o) of the complete patches, split into k keys each: [1, C·k, dD] (the decoder's cross-attention keys) */
  decoderKeys: Tensor | null = null;
  decoderKv: KvCache;
  /** d(i) of the rows the decoder has processed */
  decoderIds: number[] = [];
  /** distinct patch starts at the previous step */
  starts: number[] = [];
  readonly stats: GlobalModelStats = { calls: 0, positions: 0 };

  constructor(readonly model: Blt) {
    const m = model.model;
    this.entropyKv = new KvCache(m.patcher?.layers.length ?? 0);
    this.encoderKv = new KvCache(m.local_encoder.layers.length);
    this.encoderStates = m.local_encoder.layers.map(() => null);
    this.globalKv = new KvCache(m.global_transformer.layers.length);
    this.decoderKv = new KvCache(m.local_decoder.layers.length);
  }

  dispose(): void {
    for (const c of [this.entropyKv, this.encoderKv, this.globalKv, this.decoderKv]) c.dispose();
    for (const t of [...this.encoderStates, this.decoderKeys]) t?.dispose();
  }
}

/** Whether the model's patch lengths come from its entropy model. */
function usesEntropyModel(model: Blt): boolean {
  return model.patchRule().mode === 'entropy';
}

/**
 * Eq. 1 for the new positions t0..N-1: the entropy model on those rows only, with the key/value cache of the
 * earlier rows of their chunk (entropy-context.ts: chunks are independent, so the cache restarts with each).
 */
async function newEntropies(model: Blt, cache: GenerationCache, data: Int32Array, t0: number): Promise<number[]> {
  const device = model.device, ctx = entropyContext(model.config), N = data.length, out: number[] = [];
  for (let from = t0; from < N;) {
    const cs = chunkStart(from, ctx), to = Math.min(N, cs + ctx.chunk);
    if (from === cs) cache.entropyKv.truncate(0); // a new chunk: nothing before it is seen
    const { ranges } = chunkAttention(data.subarray(cs, to), 1, to - cs, ctx, 'cpu');
    const ids = ops.tensor(data.slice(from, to), [1, to - from], { device }); // [1, n]
    const ent = noGrad(() => entropyOfLogits(model.model.patcher!.forwardCached(ids, ops.arange(from - cs, to - cs, { device }),
      rowsOf(ranges, from - cs, to - cs, device), cache.entropyKv))); // [1, n]
    out.push(...await ent.data());
    from = to;
  }
  return out;
}

/** Eq. 2 and the encoder layers for the new positions t0..N-1; saves the layer outputs cross-attention reads. */
function encodeNewBytes(model: Blt, cache: GenerationCache, data: Int32Array, t0: number): void {
  const m = model.model, device = model.device, beh = model.config.behaviour, N = data.length, n = N - t0;
  const hashIds = m.encoder_hash_tok_embedding.rowIds(data, 1, N).map((r) => r.slice(t0)); // one host [1, n] per table
  const e = model.embed(ops.tensor(data.slice(t0), [1, n], { device }), hashIds); // [1, n, dE]
  const ranges = rowsOf(localAttentionRanges(data, 1, N, beh.localWindow, beh.documentMask, 'cpu'), t0, N, device);
  const states = m.local_encoder.layersCached(e, ops.arange(t0, N, { device }), ranges, cache.encoderKv);
  states.forEach((h, l) => { if (h) cache.encoderStates[l] = appendKept(cache.encoderStates[l], h); }); // [1, N, dE]
}

/**
 * Eqs. 5-8 for the newly complete patches C..C'-1 only, exactly as LocalEncoder.forward computes their rows:
 * the same cross-attention steps, on the saved layer outputs, with only these patches as pooling segments and
 * queries. Returns the patch vectors [1, C'-C, k·dE].
 */
function encodeNewPatches(model: Blt, cache: GenerationCache, lengths: Int32Array, N: number, C: number, upTo: number): Tensor {
  const enc = model.model.local_encoder, device = model.device, k = model.config.crossAttnK, n = upTo - C;
  const p = patchIdsFromLengths(lengths, N);
  const seg = ops.tensor(Int32Array.from(p, (j) => (j >= C && j < upTo ? j - C : -1)), [N], { device }); // pooling segment of each byte (-1: none)
  const all = encoderCrossRanges(lengths, 1, lengths.length, N, k, model.config.behaviour.emptyPatchAttention, 'cpu');
  const ranges = rowsOf(all, C * k, upTo * k, device); // query (j, r) -> the bytes of patch j
  let state: Tensor | null = null; // [1, n·k, dE]
  for (const [l, h] of cache.encoderStates.entries()) if (h) state = enc.crossStep(l, state, h, seg, ranges, n);
  if (state === null) throw new Error('generateCached: the local encoder has no cross-attention layer');
  return enc.mergeK(state, 1, n); // [1, n, k·dE]
}

/**
 * §3.1 for the newly complete patches C..C'-1: global layers on their vectors with the key/value cache of the
 * earlier patches (ranges: globalAttentionRanges of the complete prefix, causal or block-causal by documents),
 * then D_C of the new outputs appended to the decoder's keys.
 */
function globalNewPatches(model: Blt, cache: GenerationCache, data: Int32Array, lengths: Int32Array, C: number, upTo: number, patches: Tensor): void {
  const device = model.device;
  const all = globalAttentionRanges(data, lengths.subarray(0, upTo), 1, upTo, data.length, model.config.behaviour.documentMask, 'cpu');
  const ranges = rowsOf(all, C, upTo, device);
  const positions = ops.arange(C, upTo, { device }); // RoPE patch positions
  const o = model.model.global_transformer.forwardCached(patches, positions, ranges, cache.globalKv); // [1, n, dG]
  cache.decoderKeys = appendKept(cache.decoderKeys, model.model.local_decoder.patchKeys(o)); // [1, upTo·k, dD]
}

/**
 * Eqs. 9-12 and the byte head for decoder rows r..N-1 (the rows not yet decoded, or whose d(i) changed), with the
 * key/value cache of rows < r: logits of position N-1 only, [1, 1, V].
 */
function decodeRows(model: Blt, cache: GenerationCache, data: Int32Array, d: Int32Array, r: number): Tensor {
  const device = model.device, beh = model.config.behaviour, N = data.length, n = N - r;
  cache.decoderKv.truncate(r);
  const h = cache.encoderStates[cache.encoderStates.length - 1]!; // encoder output [1, N, dE] (dE = dD)
  const z = model.model.local_decoder.forwardCached(ops.narrow(h, 1, r, n), cache.decoderKeys!, { // [1, n, dD]
    positions: ops.arange(r, N, { device }),
    selfRanges: rowsOf(localAttentionRanges(data, 1, N, beh.localWindow, beh.documentMask, 'cpu'), r, N, device),
    crossRanges: decoderCrossRanges(d.slice(r), 1, n, model.config.crossAttnK, device), // byte i -> the k keys of patch d(i)
  }, cache.decoderKv);
  cache.decoderIds = Array.from(d);
  return model.lm_head.forward(ops.narrow(z, 1, n - 1, 1)); // [1, 1, V]
}

/** The distinct patch starts below `limit` of a row of lengths (zero-length patches repeat a start). */
function startsBelow(lengths: Int32Array, limit: number): number[] {
  return [...new Set(patchStartsFromLengths(lengths))].filter((s) => s < limit);
}

/**
 * One step of cached generation: process positions t0..N-1 (the whole prompt at the first step, then the byte
 * generated last) and return the logits of position N-1.
 */
async function cachedStep(model: Blt, cache: GenerationCache, ids: number[]): Promise<Tensor> {
  const data = Int32Array.from(ids), N = data.length, t0 = cache.encoderKv.rows;
  // §2.3: patch lengths from the entropies of all positions; only those of t0..N-1 are computed now
  if (usesEntropyModel(model)) {
    cache.entropies.push(...await newEntropies(model, cache, data, t0));
  }
  const [lengths] = model.patchLengthsOf([ids], usesEntropyModel(model) ? cache.entropies : null); // static / space / byte need no model
  // incremental rule (spec §2.1): the starts at positions 0..t0-1, known at the previous step, are unchanged
  const now = startsBelow(lengths, t0), before = cache.starts.filter((s) => s < t0);
  if (now.length !== before.length || now.some((s, j) => s !== before[j])) {
    throw new Error(`generateCached: the patching rule changed the patch starts of the prefix at length ${N} ` +
      `(was [${before}], now [${now}]); cached generation needs an incremental rule (spec §2.1)`);
  }
  cache.starts = startsBelow(lengths, N + 1);
  // byte N-1 reads o_{d(N-1)}; d is non-decreasing, so the global outputs needed are o_0 .. o_{d(N-1)}: the
  // complete patches, one more than at the previous step exactly when position N starts a patch (property 61)
  const d = decoderPatchIdsFromLengths(lengths, N);
  const complete = d[N - 1] + 1, C = cache.globalKv.rows;
  // the decoder resumes at its first row whose d(i) is new (HF's trimming of a trailing zero-length patch under
  // max_patch_length hides the start N, so d(N-1) can grow one step later; such a row is decoded again)
  let r = Math.min(cache.decoderKv.rows, N - 1);
  for (let i = 0; i < r; i++) if (cache.decoderIds[i] !== d[i]) { r = i; break; }
  return noGrad(() => {
    encodeNewBytes(model, cache, data, t0);
    if (complete > C) {
      cache.stats.calls++;
      cache.stats.positions += complete - C;
      globalNewPatches(model, cache, data, lengths, C, complete, encodeNewPatches(model, cache, lengths, N, C, complete));
    }
    return decodeRows(model, cache, data, d, r);
  });
}

/**
 * Cached generation: the same ids as `generate` for the same prompt, options and seed (see the header for why,
 * and for the float caveat). Per new byte it runs the entropy model, the local encoder and the local decoder
 * on that byte only (key/value caches), and the global transformer only when a patch completes, on that patch
 * only (property 61): one call for the complete patches of the prompt, then one call with one position per new
 * patch. Throws if the patching rule changes a start of the prefix (it must be incremental, spec §2.1; top-k
 * patching is not).
 */
export async function generateCached(model: Blt, prompt: Prompt, opts: GenerateOptions): Promise<GenerateResult> {
  checkGenerateOptions(opts);
  const sampling = opts.sampling ?? { greedy: true };
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const start = promptIds(prompt);
  hostIds([start]); // checks the prompt ids
  const ids = [...start], out: number[] = [];
  const cache = new GenerationCache(model);
  let eos = false;
  try {
    while (out.length < opts.maxNewBytes && !eos) {
      const N = ids.length;
      const next = await scopeAsync(async () => {
        const logits = await cachedStep(model, cache, ids); // [1, 1, V]
        return sampleNext(await logits.data(), sampling, rng, `(generateCached, position ${N - 1})`);
      });
      ids.push(next);
      out.push(next);
      eos = next === EOS_ID && (opts.stopAtEos ?? true);
      if ((await opts.onToken?.(next, out.length - 1)) === false) break;
    }
  } finally {
    cache.dispose();
  }
  return result(start, out, eos, cache.stats);
}
