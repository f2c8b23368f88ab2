/**
 * The Byte Latent Transformer (paper §3, Fig. 2), read top to bottom in the order
 * of the paper's figure:
 *
 *   bytes x ──► entropy model ──► patch lengths L (global threshold rule, §2.3)
 *           ──► byte + hash n-gram embeddings e                          (eq. 2)        hash-embeddings.ts
 *           ──► local encoder: byte states h, patch vectors              (eqs. 5-8)     local-encoder.ts
 *           ──► global latent transformer over patches: o                (§3.1)         global-transformer.ts
 *           ──► local decoder: byte i reads o_{d(i)}, d(i) = p(i+1) - 1  (eqs. 9-12)    local-decoder.ts
 *           ──► lm_head ──► logits [B, T, 260], logits[t] = distribution of x[t+1]
 *
 * Field names follow Hugging Face's `BltForCausalLM` (`model.local_encoder...`, `model.patcher...`, `lm_head`),
 * so `stateDict()` keys are HF's checkpoint keys.
 *
 * Batches: ids int32 [B, T] (host: a CPU tensor or rows of equal length), rows independent. Each row has its
 * own patch lengths; rows are right-padded with zero-length patches to a common P. All index and range tensors
 * are built on the host from ids and lengths and uploaded to the model's device; activations never leave it
 * (only `patchLengthsFor` reads entropies back, asynchronously, as patching must).
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { noGrad } from '../autograd/grad-mode.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';
import type { BltConfig } from './config/types.js';
import { EntropyModel, localAttentionRanges } from './entropy-model.js';
import { chunkedEntropies, entropyContext } from './entropy-context.js';
import { HashNgramEmbedding } from './hash-embeddings.js';
import { LocalEncoder, encoderCrossRanges } from './local-encoder.js';
import { GlobalTransformer, globalAttentionRanges } from './global-transformer.js';
import { LocalDecoder, decoderCrossRanges } from './local-decoder.js';
import { batchPatchIds } from './patching/patch-ids.js';
import { patchLengths, patchRuleOf, type PatchRule, type PatchRuleOverrides } from './patching/patch-lengths.js';
import { bitsPerByte } from './metrics.js';
import { VOCAB_SIZE } from './tokenizer.js';

/** Token ids of a batch: an int32 CPU tensor [B, T] (or [T] for one row), or rows of equal length. */
export type TokenBatch = Tensor | readonly ArrayLike<number>[];

/** Token ids on the host. */
export interface HostIds {
  data: Int32Array; // [B, T]
  B: number;
  T: number;
}

export interface BltOutput {
  /** [B, T, 260] */
  logits: Tensor;
  /** the patch lengths used, one row per batch row (unpadded) */
  patchLengths: Int32Array[];
  /** named intermediates (the names the golden sets store them under), only when requested */
  intermediates?: Map<string, Tensor>;
}

/** Receives named intermediates (the names the golden sets store them under). */
export type Recorder = (name: string, t: Tensor) => void;

/** A batch with its patches, laid out on the host (Blt.patchedBatch); the tensors are on the model's device. */
export interface PatchedBatch {
  /** host ids [B, T] */
  data: Int32Array;
  B: number;
  T: number;
  /** patches per row (rows right-padded with zero-length patches) */
  P: number;
  /** the checked patch lengths, one unpadded row per batch row */
  rows: Int32Array[];
  /** lengths [B, P], padded with 0 */
  lengths: Int32Array;
  /** [B·T]: b·P + p(i), the encoder's pooling segment of every byte */
  segments: Int32Array;
  /** [B, T]: d(i), the patch whose global output byte i reads */
  decIds: Int32Array;
  /** ids int32 [B, T] */
  ids: Tensor;
  /** RoPE byte positions int32 [T] */
  positions: Tensor;
  /** local self-attention ranges [B, T] (encoder and decoder) */
  localRanges: KeyRanges;
}

export interface BltForwardOptions {
  /** collect named intermediates (encoder.hidden, encoder.patches, global.out, decoder.out, ...) */
  intermediates?: boolean;
}

/** Reads an int32 [B, T] batch (CPU tensor or equal-length rows) to the host; `what` names it in errors. */
function readRows(x: TokenBatch, what: string): HostIds {
  let data: Int32Array, B: number, T: number;
  if (x instanceof Tensor) {
    if (x.dtype !== 'int32') throw new Error(`BLT: ${what} must be int32, got ${x.dtype} [${x.shape}]`);
    if (x.device !== 'cpu') throw new Error(`BLT: ${what} must be a CPU tensor (hashing and patching run on the host), got '${x.device}'`);
    if (x.rank === 1) [B, T] = [1, x.shape[0]];
    else if (x.rank === 2) [B, T] = [x.shape[0], x.shape[1]];
    else throw new Error(`BLT: ${what} must have shape [B, T] or [T], got [${x.shape}]`);
    data = x.dataSync() as Int32Array;
  } else {
    B = x.length;
    T = B > 0 ? x[0].length : 0;
    data = new Int32Array(B * T); // [B, T]
    x.forEach((row, b) => {
      if (row.length !== T) throw new Error(`BLT: ${what} row ${b} has ${row.length} tokens but row 0 has ${T}; rows of a batch must have equal length`);
      for (let t = 0; t < T; t++) data[b * T + t] = row[t];
    });
  }
  if (B < 1 || T < 1) throw new Error(`BLT: ${what} need at least one row of at least one token, got [${B}, ${T}]`);
  return { data, B, T };
}

/** Reads token ids to the host and checks them (ids are inputs, never activations). */
export function hostIds(ids: TokenBatch): HostIds {
  const h = readRows(ids, 'token ids');
  for (let i = 0; i < h.data.length; i++) {
    const v = h.data[i];
    if (v < 0 || v >= VOCAB_SIZE) {
      throw new Error(`BLT: token id ${v} at row ${Math.floor(i / h.T)}, position ${i % h.T} is outside [0, ${VOCAB_SIZE})`);
    }
  }
  return h;
}

/** HF `BltModel`: the parts, with HF field names. */
export class BltModel extends Module {
  encoder_hash_tok_embedding: HashNgramEmbedding;
  local_encoder: LocalEncoder;
  global_transformer: GlobalTransformer;
  local_decoder: LocalDecoder;
  /** the entropy model (frozen), present when `patching.patchInForward` */
  patcher?: EntropyModel;

  constructor(cfg: BltConfig, rng: Rng) {
    super();
    const dE = cfg.encoder.hiddenSize;
    this.encoder_hash_tok_embedding = new HashNgramEmbedding(cfg.hash, dE, rng);
    this.local_encoder = new LocalEncoder(cfg.encoder, cfg.vocabSize, cfg.behaviour.repoolEachCrossLayer, rng);
    this.global_transformer = new GlobalTransformer(cfg.global, cfg.crossAttnK * dE, rng);
    this.local_decoder = new LocalDecoder(cfg.decoder, rng);
    if (cfg.patching.patchInForward) this.patcher = new EntropyModel(cfg.patcher, rng).requiresGrad(false);
  }
}

/** HF `BltForCausalLM`: `model` + `lm_head`, and the forward pass of the paper's Fig. 2. */
export class Blt extends Module {
  model: BltModel;
  lm_head: Linear;

  /** A freshly initialised model (seeded; Meta's init: normal with std in_dim^-1/2); load weights with loadStateDict or checkpoint.ts. */
  constructor(readonly config: BltConfig, opts: { seed?: number; rng?: Rng } = {}) {
    super();
    const rng = opts.rng ?? new Rng(opts.seed ?? 0);
    this.model = new BltModel(config, rng);
    this.lm_head = new Linear(config.decoder.hiddenSize, config.vocabSize, { rng });
  }

  /** The device the weights live on (every index tensor is built there). */
  get device(): Device {
    return this.lm_head.weight.device;
  }

  // ---- 1. entropy model and patching (§2) --------------------------------------------------------------

  // [doc:blt-entropies]
  /**
   * Next-byte entropies H [B·T] (eq. 1, nats, on the host) of the entropy model, every row read as
   * entropyContext says (independent chunks, window, documents): linear in T. `onProgress(done, total)` counts
   * tokens, for progress bars on long texts.
   */
  computeEntropies(ids: TokenBatch, opts: { onProgress?: (done: number, total: number) => void } = {}): Promise<Float32Array> {
    const patcher = this.model.patcher;
    if (!patcher) throw new Error('BLT: this model has no entropy model (config patching.patchInForward is false)');
    const { data, B, T } = hostIds(ids);
    return chunkedEntropies(patcher, data, B, T, entropyContext(this.config), this.device, opts.onProgress);
  }

  // [doc:blt-patch-rule]
  /**
   * The config's patching rule (patchRuleOf: Meta's rules only with `behaviour.metaPatchRules`, max length in
   * every mode), falling back to HF's one byte per patch in entropy mode when the model has no entropy model.
   */
  patchRule(overrides: PatchRuleOverrides = {}): PatchRule {
    const rule = patchRuleOf(this.config, overrides);
    return rule.mode === 'entropy' && !this.model.patcher ? patchRuleOf({ ...this.config,
      patching: { ...this.config.patching, mode: 'byte' } }, overrides) : rule;
  }

  // [doc:blt-patch-lengths]
  /**
   * Patch lengths of every row from host token ids and, in entropy mode, their entropies [B, T] (host; null in
   * the other modes): the one path from a batch to its patches, used by forward, loss, training, generation,
   * the CLI and the golden check (patchLengths in patching/patch-lengths.ts, one row at a time).
   */
  patchLengthsOf(ids: TokenBatch, entropies: ArrayLike<number> | null, overrides: PatchRuleOverrides = {}): Int32Array[] {
    const { data, B, T } = hostIds(ids);
    const rule = this.patchRule(overrides);
    if (rule.mode === 'entropy' && (entropies === null || entropies.length !== B * T))
      throw new Error(`BLT: entropy patching needs ${B}·${T} entropies, got ${entropies === null ? 'none' : entropies.length}`);
    const rows: Int32Array[] = [];
    for (let b = 0; b < B; b++) {
      const ent = rule.mode === 'entropy' ? Array.prototype.slice.call(entropies, b * T, (b + 1) * T) as number[] : null;
      rows.push(patchLengths(rule, data.subarray(b * T, (b + 1) * T), ent));
    }
    return rows;
  }

  /** `patchLengthsOf` with the entropies of the model's own entropy model (read back once, asynchronously). */
  async patchLengthsFor(ids: TokenBatch, overrides: PatchRuleOverrides = {}): Promise<Int32Array[]> {
    if (this.patchRule(overrides).mode !== 'entropy') return this.patchLengthsOf(ids, null, overrides);
    return this.patchLengthsOf(ids, await this.computeEntropies(ids), overrides);
  }

  // ---- 2.-5. the model with given patches (Appendix C.4) -------------------------------------------------

  // [doc:blt-forward]
  /**
   * Logits [B, T, 260] for ids [B, T] and one row of patch lengths per batch row, in the stages of the paper's
   * figure: encode (eqs. 2, 5-8) -> globalStep (§3.1) -> decode (eqs. 9-12 and the byte head).
   */
  forwardWithPatches(ids: TokenBatch, patchLengths: readonly ArrayLike<number>[], opts: BltForwardOptions = {}): BltOutput {
    const batch = this.patchedBatch(ids, patchLengths);
    const inter = opts.intermediates ? new Map<string, Tensor>() : undefined;
    const record = inter ? (name: string, t: Tensor): void => { inter.set(name, t); } : undefined;
    const enc = this.encode(batch, record);
    const o = this.globalStep(batch, enc.patches, record);
    const logits = this.decode(batch, enc.hidden, o, record);
    return { logits, patchLengths: batch.rows, intermediates: inter };
  }

  /**
   * Host-side layout of a batch with given patches: lengths padded to [B, P], encoder ids p(i) and decoder ids
   * d(i) per row (batchPatchIds), plus the byte-level index tensors the encoder and decoder share.
   */
  patchedBatch(ids: TokenBatch, patchLengths: readonly ArrayLike<number>[]): PatchedBatch {
    const { data, B, T } = hostIds(ids);
    const rows = checkPatchLengths(patchLengths, B, T);
    const device = this.device, beh = this.config.behaviour;
    // [doc:blt-ids]
    const { P, lengths, segments, decoderIds: decIds } = batchPatchIds(rows, T); // [B, P], [B·T], [B, T]
    return {
      data, B, T, P, rows, lengths, segments, decIds,
      ids: ops.tensor(data, [B, T], { device }),
      positions: ops.arange(0, T, { device }),
      localRanges: localAttentionRanges(data, B, T, beh.localWindow, beh.documentMask, device),
    };
  }

  /** Eq. 2: byte embedding + hash n-gram embeddings; ids [B, n] on the device, hashIds one host [B, n] per table -> [B, n, dE]. */
  embed(ids: Tensor, hashIds: Int32Array[]): Tensor {
    const m = this.model;
    return m.encoder_hash_tok_embedding.forward(m.local_encoder.embed_tokens.forward(ids), hashIds); // [B, n, dE]
  }

  /** Eq. 2 and eqs. 5-8: byte states hidden [B, T, dE] and patch vectors patches [B, P, k·dE]. */
  encode(batch: PatchedBatch, record?: Recorder): { hidden: Tensor; patches: Tensor } {
    const { data, B, T, P } = batch;
    const device = this.device, m = this.model;
    const e = this.embed(batch.ids, m.encoder_hash_tok_embedding.rowIds(data, B, T)); // [B, T, dE]
    record?.('hash.embeds', e);
    const enc = m.local_encoder.forward(e, {
      positions: batch.positions, selfRanges: batch.localRanges, P,
      segmentIds: ops.tensor(batch.segments, [B * T], { device }),
      crossRanges: encoderCrossRanges(batch.lengths, B, P, T, this.config.crossAttnK,
        this.config.behaviour.emptyPatchAttention, device),
    }, record);
    record?.('encoder.hidden', enc.hidden);
    record?.('encoder.patches', enc.patches);
    return enc;
  }

  /** §3.1: the global transformer over the patch vectors [B, P, k·dE] -> o [B, P, dG]. */
  globalStep(batch: PatchedBatch, patches: Tensor, record?: Recorder): Tensor {
    const { data, B, T, P } = batch;
    const device = this.device;
    const o = this.model.global_transformer.forward(patches, ops.arange(0, P, { device }),
      globalAttentionRanges(data, batch.lengths, B, P, T, this.config.behaviour.documentMask, device), record); // [B, P, dG]
    record?.('global.out', o);
    return o;
  }

  /** Eqs. 9-12: the local decoder on the byte states [B, T, dE] reading o [B, P, dG], then the byte head: logits [B, T, 260]. */
  decode(batch: PatchedBatch, hidden: Tensor, o: Tensor, record?: Recorder): Tensor {
    const { B, T } = batch;
    const dec = this.model.local_decoder;
    const z = dec.forward(hidden, dec.patchKeys(o, record), { // keys [B, P·k, dD]
      positions: batch.positions, selfRanges: batch.localRanges,
      crossRanges: decoderCrossRanges(batch.decIds, B, T, this.config.crossAttnK, this.device),
    }, record); // [B, T, dD]
    record?.('decoder.out', z);
    const logits = this.lm_head.forward(z); // [B, T, 260]
    record?.('logits', logits);
    return logits;
  }

  /** HF `patch_in_forward`: patch lengths from the config's rule (entropy model inside), then the model. */
  async forward(ids: TokenBatch, opts: BltForwardOptions = {}): Promise<BltOutput> {
    return this.forwardWithPatches(ids, await this.patchLengthsFor(ids), opts);
  }

  // ---- training objective and metric (next-byte cross-entropy; bits per byte, paper §4.6, eq. 18) ---------------

  // [doc:blt-loss]
  /**
   * Mean next-byte cross-entropy (nats). `targets` int32 [B, T] (default: ids shifted left by one, the last
   * position ignored); targets < 0 are ignored. With explicit targets every position counts, as in the
   * HF training golden set.
   */
  loss(ids: TokenBatch, patchLengths: readonly ArrayLike<number>[], targets?: TokenBatch | Tensor): Tensor {
    const { logits } = this.forwardWithPatches(ids, patchLengths);
    return ops.crossEntropy(logits, this.targetTensor(ids, targets));
  }

  // [doc:blt-bpb]
  /** Eq. 18: bits per byte = Σ CE / (ln 2 · number of scored targets), with patches from the config's rule when not given. */
  async bitsPerByte(ids: TokenBatch, patchLengths?: readonly ArrayLike<number>[], targets?: TokenBatch | Tensor): Promise<number> {
    const lengths = patchLengths ?? await this.patchLengthsFor(ids);
    const tgt = this.targetArray(ids, targets);
    const count = tgt.data.filter((t) => t >= 0).length;
    const sum = noGrad(() => ops.crossEntropy(this.forwardWithPatches(ids, lengths).logits,
      ops.tensor(tgt.data, [tgt.B, tgt.T], { device: this.device }), { reduction: 'sum' }));
    return bitsPerByte((await sum.data())[0], count);
  }

  /** Targets on the model's device. */
  private targetTensor(ids: TokenBatch, targets?: TokenBatch | Tensor): Tensor {
    const t = this.targetArray(ids, targets);
    return ops.tensor(t.data, [t.B, t.T], { device: this.device });
  }

  /** Host targets [B, T]: the given ones (checked) or the next ids with the last position ignored (-100). */
  private targetArray(ids: TokenBatch, targets?: TokenBatch | Tensor): HostIds {
    const { data, B, T } = hostIds(ids);
    if (targets === undefined) {
      const tgt = new Int32Array(B * T); // [B, T]
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) tgt[b * T + t] = t + 1 < T ? data[b * T + t + 1] : -100;
      return { data: tgt, B, T };
    }
    const h = readRows(targets, 'targets'); // negative targets are ignored
    if (h.B !== B || h.T !== T) throw new Error(`BLT: targets [${h.B}, ${h.T}] do not match ids [${B}, ${T}]`);
    const bad = h.data.findIndex((v) => v >= VOCAB_SIZE);
    if (bad >= 0) throw new Error(`BLT: target ${h.data[bad]} at row ${Math.floor(bad / T)}, position ${bad % T} is outside [0, ${VOCAB_SIZE})`);
    return h;
  }
}

/**
 * Checks one row of patch lengths per batch row: non-negative integers, L_0 = 1 (the BOS patch the decoder
 * shift relies on, see patching/patch-ids.ts), and ΣL = T (HF) or T + 1 (Meta's next-token mode).
 */
export function checkPatchLengths(patchLengths: readonly ArrayLike<number>[], B: number, T: number): Int32Array[] {
  if (patchLengths.length !== B) throw new Error(`BLT: ${patchLengths.length} rows of patch lengths for a batch of ${B} rows`);
  return patchLengths.map((row, b) => {
    const r = Int32Array.from(row as ArrayLike<number>);
    let sum = 0;
    for (let j = 0; j < row.length; j++) {
      if (!Number.isInteger(row[j]) || row[j] < 0) throw new Error(`BLT: patch length ${row[j]} (row ${b}, patch ${j}) is not a non-negative integer`);
      sum += row[j];
    }
    if (r.length === 0 || r[0] !== 1) throw new Error(`BLT: row ${b}: the first patch length must be 1 (the BOS patch), got [${Array.from(r).slice(0, 8)}]`);
    if (sum !== T && sum !== T + 1) throw new Error(`BLT: row ${b}: patch lengths sum to ${sum}, expected ${T} (HF) or ${T + 1} (next-token mode) for ${T} tokens`);
    return r;
  });
}
