// Meta's BLT configuration (facebookresearch/blt, package `bytelatent`) <-> this project's BltConfig.
//
// Meta describes a model by `ByteLatentTransformerArgs` (hub `config.json` = {"args": …}, or `params.json →
// model` of a training run), its entropy model by `LMTransformerArgs` (`entropy_model/params.json →
// entropy_model`, or {"args": …} in the Hub's entropy-model folder), and the patching rule by the training run's
// `data.patcher_args`. This file reads only the fields Meta's model code uses, the way it uses them
// (bytelatent/model/blt.py create_local_encoder / create_local_decoder / create_global_transformer,
// local_models.py, base_transformer.py, entropy_model.py load_entropy_model):
//
//   local encoder/decoder  dim_local_*, n_layers_local_*, n_heads_local_*, n_kv_heads, head_dim, norm_eps, rope_theta,
//                          max_encoder_seq_length (RoPE table), sliding window = local_attention_window_len,
//                          always "local_block_causal" (EOS documents + window)
//   global transformer     dim_global, n_layers_global, n_heads_global, n_kv_heads_global, max_seqlen, no window,
//                          EOS documents iff attn_bias_type = "block_causal"
//   every FFN              hidden = multiple_of·⌈int(ffn_dim_multiplier·int(8·dim/3)) / multiple_of⌉
//   cross-attention        cross_attn_k, cross_attn_nheads heads of dim/cross_attn_nheads, no GQA, no window
//   entropy model          load_entropy_model reads only dim, n_layers, n_heads, max_seqlen, ffn_dim_multiplier,
//                          vocab_size and hard-codes window 512, "local_block_causal", rope θ 10000, eps 1e-5,
//                          multiple_of 256, no GQA; the Hub folder form ({"args"}) uses every field it has.
//
// The numbers then run with the "reference" behaviour preset (Meta's masks, N+1 patch lengths, Meta's patch
// rules, zero output for empty cross-attention rows), its windows taken from the files as above. A setting
// Meta's code supports but this model does not implement is refused with an Error naming the file and field,
// rather than silently computing something else.

import type { BltConfig, PatchingMode, TransformerPartConfig } from '../config/types.js';
import { defaultsFor } from '../config/behaviour.js';
import { validateBltConfig } from '../config/validate.js';
import { swigluHidden } from '../config/shapes.js';

type Json = Record<string, unknown>;

/** Window of Meta's entropy model, hard-coded in load_entropy_model. */
export const META_ENTROPY_WINDOW = 512;
/** Meta's calculate_entropies runs the entropy model over independent chunks of this many tokens. */
export const META_ENTROPY_CHUNK = 8192;
/** Hard-coded by load_entropy_model for the params.json form. */
const META_ENTROPY_FIXED = { rope_theta: 10000, norm_eps: 1e-5, multiple_of: 256 };

const PATCHING_MODES: readonly PatchingMode[] = ['entropy', 'byte', 'static', 'space', 'bpe', 'bpe_patcher'];

/** Reads fields of one JSON object, failing with the file and the field's full path. */
class MetaFields {
  constructor(readonly obj: Json, readonly source: string, readonly path: string) {}

  fail(field: string, msg: string): never {
    throw new Error(`Meta config ${this.source}: field "${this.path}${field}" ${msg}`);
  }

  has(field: string): boolean { return field in this.obj; }

  raw(field: string): unknown {
    if (!(field in this.obj)) this.fail(field, 'is missing');
    return this.obj[field];
  }

  int(field: string, min = 1): number {
    const v = this.raw(field);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) this.fail(field, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  }

  optInt(field: string, min = 1): number | null {
    return this.raw(field) === null ? null : this.int(field, min);
  }

  num(field: string): number {
    const v = this.raw(field);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(field, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  optNum(field: string): number | null {
    return this.raw(field) === null ? null : this.num(field);
  }

  bool(field: string): boolean {
    const v = this.raw(field);
    if (typeof v !== 'boolean') this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  optStr(field: string): string | null {
    const v = this.raw(field);
    if (v !== null && typeof v !== 'string') this.fail(field, `must be a string or null, got ${JSON.stringify(v)}`);
    return v as string | null;
  }

  /** A field that must have one value because the model implements only that (absent = Meta's default, if given). */
  expect(field: string, allowed: readonly unknown[], why: string, metaDefault?: unknown): unknown {
    if (!(field in this.obj) && metaDefault === undefined) this.fail(field, 'is missing');
    const v = field in this.obj ? this.obj[field] : metaDefault;
    if (!allowed.some((a) => a === v)) {
      this.fail(field, `is ${JSON.stringify(v)}; this model implements only ${allowed.map((a) => JSON.stringify(a)).join(' or ')} (${why})`);
    }
    return v;
  }

  sub(field: string): MetaFields {
    const v = this.raw(field);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'must be an object');
    return new MetaFields(v as Json, this.source, `${this.path}${field}.`);
  }
}

/** Meta's FFN width for `dim` (base_transformer.FeedForward with hidden_dim = 4·dim). */
function ffnWidth(dim: number, multipleOf: number, multiplier: number | null): number {
  return swigluHidden(dim, multipleOf, multiplier ?? 1);
}

function part(hidden: number, heads: number, kvHeads: number | null, layers: number, ffn: number, eps: number, theta: number,
  maxPos: number): TransformerPartConfig {
  return {
    hiddenSize: hidden, numHeads: heads, numKvHeads: kvHeads ?? heads, headDim: hidden / heads, numLayers: layers,
    intermediateSize: ffn, rmsNormEps: eps, ropeTheta: theta, maxPositionEmbeddings: maxPos,
  };
}

/** head_dim (shared by every part in Meta's args) must be dim / n_heads for each, since that is what this model builds. */
function checkHeads(f: MetaFields, hidden: number, heads: number, kvHeads: number | null, what: string, headsField: string): void {
  if (hidden % heads !== 0) f.fail(headsField, `(${heads}) must divide ${what} dim ${hidden}`);
  if (kvHeads !== null && heads % kvHeads !== 0) f.fail(headsField, `(${heads}) must be a multiple of the kv heads (${kvHeads})`);
  const headDim = f.has('head_dim') ? f.optInt('head_dim') : null;
  if (headDim !== null && headDim !== hidden / heads) {
    f.fail('head_dim', `(${headDim}) differs from the ${what}'s dim / n_heads = ${hidden / heads}; this model needs head_dim = dim / n_heads`);
  }
}

/** What the entropy model of a Meta checkpoint looks like, from either of its two folder forms. */
export interface MetaEntropyModel {
  patcher: BltConfig['patcher'];
  /** its attention window (null: none) */
  window: number | null;
}

/**
 * The entropy model from `entropy_model/params.json` (`params` = that file's JSON), read as load_entropy_model does:
 * only dim, n_layers, n_heads, max_seqlen, ffn_dim_multiplier, vocab_size; the rest is hard-coded there.
 */
export function metaEntropyFromParams(params: unknown, source: string): MetaEntropyModel {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new Error(`Meta config ${source}: not a JSON object`);
  const f = new MetaFields(params as Json, source, '').sub('entropy_model');
  const dim = f.int('dim'), heads = f.int('n_heads'), maxSeq = f.int('max_seqlen');
  if (dim % heads !== 0) f.fail('n_heads', `(${heads}) must divide dim ${dim}`);
  if (maxSeq < META_ENTROPY_CHUNK) {
    f.fail('max_seqlen', `(${maxSeq}) is below ${META_ENTROPY_CHUNK}: Meta's calculate_entropies runs ${META_ENTROPY_CHUNK}-token chunks, ` +
      `so its RoPE table must cover them`);
  }
  const vocab = f.int('vocab_size');
  const { rope_theta, norm_eps, multiple_of } = META_ENTROPY_FIXED;
  return {
    patcher: { ...part(dim, heads, null, f.int('n_layers', 0), ffnWidth(dim, multiple_of, f.optNum('ffn_dim_multiplier')), norm_eps,
      rope_theta, maxSeq), vocabSize: vocab },
    window: META_ENTROPY_WINDOW,
  };
}

/** The entropy model from a Hub entropy folder's config.json ({"args": LMTransformerArgs}): every field counts. */
export function metaEntropyFromArgs(config: unknown, source: string): MetaEntropyModel {
  const f = argsOf(config, source);
  const dim = f.int('dim'), heads = f.int('n_heads'), kv = f.optInt('n_kv_heads');
  checkHeads(f, dim, heads, kv, 'entropy model', 'n_heads');
  f.expect('attn_impl', ['xformers'], "Meta's window and document masks need it; other implementations drop them");
  const bias = f.expect('attn_bias_type', ['local_block_causal', 'block_causal'],
    'the entropy model shares the document mask with the local models');
  f.expect('weight_tying', [false], 'tied output weights are not stored separately', false);
  const window = bias === 'local_block_causal' ? f.optInt('sliding_window') : null;
  if (bias === 'local_block_causal' && window === null) f.fail('sliding_window', 'must be set for attn_bias_type "local_block_causal" (Meta asserts it)');
  return {
    patcher: { ...part(dim, heads, kv, f.int('n_layers', 0), ffnWidth(dim, f.int('multiple_of'), f.optNum('ffn_dim_multiplier')),
      f.num('norm_eps'), f.num('rope_theta'), f.int('max_seqlen')), vocabSize: f.int('vocab_size') },
    window,
  };
}

/** `{"args": {...}}` of a Hub config.json. */
function argsOf(config: unknown, source: string): MetaFields {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error(`Meta config ${source}: not a JSON object`);
  return new MetaFields(config as Json, source, '').sub('args');
}

/** Meta's patching rule (`data.patcher_args` of a training run's params.json; Meta's name for it). */
export interface MetaPatcherArgs {
  patching_mode: string;
  threshold: number;
  threshold_add: number | null;
  monotonicity: boolean;
  max_patch_length: number | null;
  patch_size: number | null;
}

/** `data.patcher_args` of a params.json / train_args.json (JSON already parsed), or null when the file has none. */
export function metaPatcherArgs(params: unknown, source: string): MetaPatcherArgs | null {
  const data = (params as Json | null)?.['data'] as Json | undefined;
  if (data === undefined || data === null || !('patcher_args' in data)) return null;
  const f = new MetaFields(params as Json, source, '').sub('data').sub('patcher_args');
  const mode = f.optStr('patching_mode');
  if (mode === null) f.fail('patching_mode', 'must be set');
  return {
    patching_mode: mode!, threshold: f.num('threshold'), threshold_add: f.optNum('threshold_add'), monotonicity: f.bool('monotonicity'),
    max_patch_length: f.optInt('max_patch_length'), patch_size: f.optNum('patch_size'),
  };
}

/** Patching from the BLT args' own patching_* fields (used when no patcher_args file is found). */
function patchingFromArgs(f: MetaFields): MetaPatcherArgs {
  return {
    patching_mode: f.optStr('patching_mode') ?? '', threshold: f.num('patching_threshold'), threshold_add: f.optNum('patching_threshold_add'),
    monotonicity: f.bool('monotonicity'), max_patch_length: f.optInt('max_patch_length'), patch_size: f.optNum('patch_size'),
  };
}

export interface MetaConfigInput {
  /** ByteLatentTransformerArgs as a JSON object (hub config.json["args"], or params.json["model"]) */
  args: unknown;
  /** file `args` came from, and the path to it inside that file ("args." or "model.") */
  source: string;
  argsPath: string;
  /** patching rule and the file it came from; null: the args' own patching_* fields */
  patching: { args: MetaPatcherArgs; source: string } | null;
  /** the entropy model, or null when the checkpoint has none */
  entropy: MetaEntropyModel | null;
}

/**
 * BltConfig for a Meta checkpoint, with the "reference" behaviour preset and the windows Meta's code uses.
 * Throws naming the file and field for anything missing, inconsistent, or not implemented here.
 */
export function bltConfigFromMeta(input: MetaConfigInput): BltConfig {
  const { source } = input;
  if (input.args === null || typeof input.args !== 'object' || Array.isArray(input.args)) {
    throw new Error(`Meta config ${source}: "${input.argsPath.replace(/\.$/, '')}" is not an object`);
  }
  const f = new MetaFields(input.args as Json, source, input.argsPath);

  // features Meta's code has that this model does not implement (each would change the numbers)
  f.expect('cross_attn_encoder', [true], 'patches come from encoder cross-attention');
  f.expect('cross_attn_decoder', [true], 'the decoder reads patches by cross-attention');
  f.expect('cross_attn_init_by_pooling', [true], 'patch queries start from max-pooled bytes');
  f.expect('downsampling_by_pooling', ['max'], 'the pooled query is a max over the patch');
  f.expect('cross_attn_window_encoder', [null], 'cross-attention has no window');
  f.expect('cross_attn_window_decoder', [null], 'cross-attention has no window');
  f.expect('cross_attn_use_flex_attention', [true], "Meta's cross-attention asserts a flex-attention block mask");
  f.expect('use_local_encoder_transformer', [true], 'the local encoder is a transformer');
  f.expect('dim_token', [null], 'byte embeddings have the local encoder width');
  f.expect('encoder_enable_byte_ngrams', [false], 'n-gram tables other than the hash embeddings', false);
  f.expect('encoder_ngram_to_size_str', [null], 'n-gram tables other than the hash embeddings', null);
  f.expect('use_rope', [true], 'positions are RoPE', true);
  f.expect('non_linearity', ['swiglu'], 'every FFN is SwiGLU', 'swiglu');
  f.expect('pm_size', [0], 'the vocabulary is the 260 byte-level ids', 0);
  f.expect('eos_id', [2], 'EOS is id 2 in the byte tokenizer');
  f.expect('attn_impl', ['xformers'], "Meta's windows and document masks need it; other implementations drop them or fail");
  f.expect('attn_bias_type', ['block_causal'], 'the local models always use EOS document masks and this model shares that switch with the global one');

  const vocab = f.int('vocab_size');
  const dE = f.int('dim_local_encoder'), dD = f.int('dim_local_decoder'), dG = f.int('dim_global');
  const hE = f.int('n_heads_local_encoder'), hD = f.int('n_heads_local_decoder'), hG = f.int('n_heads_global');
  const kvLocal = f.optInt('n_kv_heads'), kvGlobal = f.optInt('n_kv_heads_global');
  checkHeads(f, dE, hE, kvLocal, 'local encoder', 'n_heads_local_encoder');
  checkHeads(f, dD, hD, kvLocal, 'local decoder', 'n_heads_local_decoder');
  checkHeads(f, dG, hG, kvGlobal, 'global transformer', 'n_heads_global');
  const k = f.int('cross_attn_k');
  const crossHeads = f.int('cross_attn_nheads');
  // Meta's cross-attention: cross_attn_nheads heads of dim / cross_attn_nheads, no GQA. This model's
  // cross-attention uses the local part's self-attention heads, so they must coincide.
  for (const [heads, field] of [[hE, 'n_heads_local_encoder'], [hD, 'n_heads_local_decoder']] as const) {
    if (crossHeads !== heads) f.fail('cross_attn_nheads', `(${crossHeads}) differs from ${field} (${heads}); this model's cross-attention uses the local model's heads`);
  }
  if (kvLocal !== null && kvLocal !== crossHeads) {
    f.fail('n_kv_heads', `(${kvLocal}) gives the local models GQA, but Meta's cross-attention has none; this model's cross-attention would share the kv heads`);
  }
  if (dG === dD) f.fail('dim_global', `(${dG}) equals dim_local_decoder: Meta then has no decoder patch projection, which this model always has`);

  const window = f.optInt('local_attention_window_len');
  if (window === null) f.fail('local_attention_window_len', 'must be set: Meta\'s local models use a "local_block_causal" mask, which asserts a window');

  const groupSizes = (() => {
    const v = f.raw('encoder_hash_byte_group_size');
    const list = typeof v === 'string' ? v.split(',').filter((s) => s.length > 0).map(Number) : v; // Meta accepts "3,4,5"
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => Number.isInteger(x) && x >= 1)) {
      f.fail('encoder_hash_byte_group_size', `must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
    }
    return list as number[];
  })();
  const nbFunctions = f.int('encoder_hash_byte_group_nb_functions');
  if (nbFunctions > 11) f.fail('encoder_hash_byte_group_nb_functions', `(${nbFunctions}) exceeds Meta's 11 hash primes`);

  const eps = f.num('norm_eps'), theta = f.num('rope_theta');
  const multipleOf = f.int('multiple_of'), mult = f.optNum('ffn_dim_multiplier');
  const maxLocal = f.int('max_encoder_seq_length'), maxGlobal = f.int('max_seqlen');
  const ffn = (d: number): number => ffnWidth(d, multipleOf, mult);

  const p = input.patching?.args ?? patchingFromArgs(f);
  const pSource = input.patching?.source ?? source;
  const pPath = input.patching ? 'data.patcher_args.' : input.argsPath;
  const failP = (field: string, msg: string): never => { throw new Error(`Meta config ${pSource}: field "${pPath}${field}" ${msg}`); };
  if (p.patching_mode === '') failP('patching_mode', 'is "": Meta then pads with BOE bytes (static patching with nb_boe), which is not implemented');
  if (!PATCHING_MODES.includes(p.patching_mode as PatchingMode)) failP('patching_mode', `is "${p.patching_mode}", expected one of ${PATCHING_MODES.join(', ')}`);

  const beh = defaultsFor('reference');
  const cfg: BltConfig = {
    vocabSize: vocab,
    crossAttnK: k,
    hash: { groupSizes, nbFunctions, vocab: f.int('encoder_hash_byte_group_vocab') },
    patching: {
      mode: p.patching_mode as PatchingMode, threshold: p.threshold, thresholdAdd: p.threshold_add, monotonicity: p.monotonicity,
      // patch_size only sets the stride of static patching; integer there, as HF's converter makes it (int(4.5) = 4,
      // and HF's BltConfig refuses a fraction)
      maxPatchLength: p.max_patch_length, patchSize: p.patch_size === null ? null : Math.trunc(p.patch_size), patchInForward: input.entropy !== null,
    },
    encoder: { ...part(dE, hE, kvLocal, f.int('n_layers_local_encoder'), ffn(dE), eps, theta, maxLocal),
      crossAttnAllLayers: f.bool('cross_attn_all_layers_encoder'), crossAttnK: k, hiddenSizeGlobal: dG },
    decoder: { ...part(dD, hD, kvLocal, f.int('n_layers_local_decoder'), ffn(dD), eps, theta, maxLocal),
      crossAttnAllLayers: f.bool('cross_attn_all_layers_decoder'), crossAttnK: k, hiddenSizeGlobal: dG },
    global: { ...part(dG, hG, kvGlobal, f.int('n_layers_global', 0), ffn(dG), eps, theta, maxGlobal),
      encoderCrossOutputSize: k * dE === dG ? null : k * dE },
    // without an entropy model the patcher part is unused (patchInForward false); the encoder's shapes stand in
    patcher: input.entropy?.patcher ?? { ...part(dE, hE, null, 0, ffn(dE), eps, 10000, maxLocal), vocabSize: vocab },
    behaviour: { ...beh, localWindow: window, patcherWindow: input.entropy?.window ?? beh.patcherWindow },
  };
  validateBltConfig(cfg, source);
  return cfg;
}

// ---------------------------------------------------------------------------------------------------------
// Writing (blt convert --to meta)
// ---------------------------------------------------------------------------------------------------------

/** multiple_of and ffn_dim_multiplier that give each (dim, FFN width) pair by Meta's formula, or null. */
export function metaFfnParams(pairs: readonly [dim: number, ffn: number][], multiples: readonly number[] = [256, 128, 64, 32, 16, 8, 4, 2, 1]):
  { multiple_of: number; ffn_dim_multiplier: number } | null {
  for (const m of multiples) {
    if (pairs.every(([d, w]) => ffnWidth(d, m, 1) === w)) return { multiple_of: m, ffn_dim_multiplier: 1 };
  }
  // one multiplier for every part: try the ratio each pair implies
  for (const [d, w] of pairs) {
    const ratio = w / Math.floor((8 * d) / 3);
    for (const m of multiples) if (pairs.every(([d2, w2]) => ffnWidth(d2, m, ratio) === w2)) return { multiple_of: m, ffn_dim_multiplier: ratio };
  }
  return null;
}

/** Why a config cannot be written as Meta args (null: it can). */
function metaWriteProblem(cfg: BltConfig): string | null {
  const b = cfg.behaviour, E = cfg.encoder, D = cfg.decoder, G = cfg.global;
  if (b.localWindow === null) return 'blt_ts_behaviour.localWindow is null (no local window): Meta\'s local models always have one';
  if (!b.documentMask) return 'blt_ts_behaviour.documentMask is false: Meta\'s local models always use EOS document masks';
  if (b.repoolEachCrossLayer && E.crossAttnAllLayers) return 'blt_ts_behaviour.repoolEachCrossLayer is true: Meta pools once';
  if (b.emptyPatchAttention !== 'none') return 'blt_ts_behaviour.emptyPatchAttention is "uniform-all": Meta gives empty cross-attention rows 0';
  if (b.patchLengthsSumTo !== 'N+1') return 'blt_ts_behaviour.patchLengthsSumTo is "N": Meta patches include the next token';
  if (cfg.patching.patchInForward && b.patcherChunk !== META_ENTROPY_CHUNK) {
    return `blt_ts_behaviour.patcherChunk is ${JSON.stringify(b.patcherChunk)}: Meta's calculate_entropies always runs the entropy model on ${META_ENTROPY_CHUNK}-byte chunks`;
  }
  if (!b.metaPatchRules && (cfg.patching.thresholdAdd !== null || cfg.patching.monotonicity)) {
    return 'blt_ts_behaviour.metaPatchRules is false but the config sets patching_threshold_add or monotonicity, which Meta applies';
  }
  if (E.numHeads !== D.numHeads) return `encoder and decoder heads differ (${E.numHeads}, ${D.numHeads}): Meta has one cross_attn_nheads`;
  if (E.numKvHeads !== D.numKvHeads) return 'encoder and decoder kv heads differ: Meta has one n_kv_heads';
  if (E.numKvHeads !== E.numHeads) return 'the local models use GQA: Meta\'s cross-attention (same heads here) has none';
  for (const [what, v] of [['rms eps', [E, D, G].map((p) => p.rmsNormEps)], ['rope theta', [E, D, G].map((p) => p.ropeTheta)],
    ['local RoPE table size', [E, D].map((p) => p.maxPositionEmbeddings)]] as const) {
    if (new Set(v).size !== 1) return `the parts have different ${what}s (${v.join(', ')}): Meta has one`;
  }
  if (metaFfnParams([[E.hiddenSize, E.intermediateSize], [D.hiddenSize, D.intermediateSize], [G.hiddenSize, G.intermediateSize]]) === null) {
    return `FFN widths ${E.intermediateSize}, ${D.intermediateSize}, ${G.intermediateSize} do not follow Meta's multiple_of / ffn_dim_multiplier formula`;
  }
  if (D.hiddenSize === G.hiddenSize) return 'dim_global equals the decoder width: Meta would drop the decoder patch projection';
  return null;
}

/** ByteLatentTransformerArgs for `cfg` (every field Meta's model code reads), or an Error saying why it cannot be expressed. */
export function metaArgsFromConfig(cfg: BltConfig): Json {
  const problem = metaWriteProblem(cfg);
  if (problem !== null) throw new Error(`cannot write this model in Meta's format: ${problem}`);
  const E = cfg.encoder, D = cfg.decoder, G = cfg.global, p = cfg.patching;
  const ffn = metaFfnParams([[E.hiddenSize, E.intermediateSize], [D.hiddenSize, D.intermediateSize], [G.hiddenSize, G.intermediateSize]])!;
  return {
    vocab_size: cfg.vocabSize, pm_size: 0, eos_id: 2, weight_tying: false, patch_in_forward: false,
    dim: G.hiddenSize, n_layers: G.numLayers, n_heads: G.numHeads, head_dim: null,
    dim_global: G.hiddenSize, dim_local_encoder: E.hiddenSize, dim_local_decoder: D.hiddenSize, dim_token: null,
    n_layers_global: G.numLayers, n_layers_local_encoder: E.numLayers, n_layers_local_decoder: D.numLayers,
    n_heads_global: G.numHeads, n_heads_local_encoder: E.numHeads, n_heads_local_decoder: D.numHeads,
    n_kv_heads: E.numKvHeads === E.numHeads ? null : E.numKvHeads, n_kv_heads_global: G.numKvHeads,
    cross_attn_encoder: true, cross_attn_decoder: true, cross_attn_k: cfg.crossAttnK, cross_attn_nheads: E.numHeads,
    cross_attn_all_layers_encoder: E.crossAttnAllLayers, cross_attn_all_layers_decoder: D.crossAttnAllLayers,
    cross_attn_window_encoder: null, cross_attn_window_decoder: null, cross_attn_use_flex_attention: true,
    cross_attn_init_by_pooling: true, downsampling_by_pooling: 'max', use_local_encoder_transformer: true,
    share_encoder_decoder_emb: true, encoder_enable_byte_ngrams: false, encoder_ngram_to_size_str: null,
    encoder_hash_byte_group_size: [...cfg.hash.groupSizes], encoder_hash_byte_group_vocab: cfg.hash.vocab,
    encoder_hash_byte_group_nb_functions: cfg.hash.nbFunctions,
    norm_eps: E.rmsNormEps, rope_theta: E.ropeTheta, multiple_of: ffn.multiple_of, ffn_dim_multiplier: ffn.ffn_dim_multiplier,
    max_encoder_seq_length: E.maxPositionEmbeddings, max_seqlen: G.maxPositionEmbeddings,
    local_attention_window_len: cfg.behaviour.localWindow, attn_impl: 'xformers', attn_bias_type: 'block_causal',
    non_linearity: 'swiglu', use_rope: true, norm_type: 'rmsnorm',
    patching_mode: p.mode, patching_threshold: p.threshold, patching_threshold_add: p.thresholdAdd, monotonicity: p.monotonicity,
    max_patch_length: p.maxPatchLength, patch_size: p.patchSize,
  };
}

/** Meta's data.patcher_args for `cfg`. */
export function metaPatcherArgsFromConfig(cfg: BltConfig): MetaPatcherArgs {
  const p = cfg.patching;
  return { patching_mode: p.mode, threshold: p.threshold, threshold_add: p.thresholdAdd, monotonicity: p.monotonicity,
    max_patch_length: p.maxPatchLength, patch_size: p.patchSize };
}

/**
 * The entropy model as `entropy_model/params.json` (the form load_entropy_model reads, with its hard-coded values),
 * or null when the model differs from what that loader would build (then use metaEntropyArgs, the {"args"} form).
 */
export function metaEntropyParams(cfg: BltConfig, modelDtype: 'fp32' | 'bf16'): Json | null {
  const P = cfg.patcher;
  const ffn = metaFfnParams([[P.hiddenSize, P.intermediateSize]], [META_ENTROPY_FIXED.multiple_of]);
  const fits = ffn !== null && P.numKvHeads === P.numHeads && P.ropeTheta === META_ENTROPY_FIXED.rope_theta &&
    P.rmsNormEps === META_ENTROPY_FIXED.norm_eps && cfg.behaviour.patcherWindow === META_ENTROPY_WINDOW &&
    P.maxPositionEmbeddings >= META_ENTROPY_CHUNK;
  if (!fits) return null;
  return {
    train_entropy_model: true, model: null,
    entropy_model: {
      dim: P.hiddenSize, n_layers: P.numLayers, n_heads: P.numHeads, n_kv_heads: null, head_dim: null, max_seqlen: P.maxPositionEmbeddings,
      ffn_dim_multiplier: ffn!.ffn_dim_multiplier, multiple_of: META_ENTROPY_FIXED.multiple_of, norm_eps: P.rmsNormEps,
      rope_theta: P.ropeTheta, vocab_size: P.vocabSize, attn_impl: 'xformers', attn_bias_type: 'local_block_causal',
      sliding_window: META_ENTROPY_WINDOW, eos_id: 2, weight_tying: false,
    },
    data: { patcher_args: metaPatcherArgsFromConfig(cfg) },
    distributed: { model_dtype: modelDtype },
  };
}

/** The entropy model as a Hub config.json ({"args": LMTransformerArgs}), which can say everything. */
export function metaEntropyArgs(cfg: BltConfig): Json {
  const P = cfg.patcher;
  const ffn = metaFfnParams([[P.hiddenSize, P.intermediateSize]]);
  if (ffn === null) throw new Error(`cannot write the entropy model in Meta's format: FFN width ${P.intermediateSize} does not follow Meta's formula for dim ${P.hiddenSize}`);
  const window = cfg.behaviour.patcherWindow;
  return {
    args: {
      dim: P.hiddenSize, n_layers: P.numLayers, n_heads: P.numHeads, n_kv_heads: P.numKvHeads === P.numHeads ? null : P.numKvHeads,
      head_dim: null, multiple_of: ffn.multiple_of, ffn_dim_multiplier: ffn.ffn_dim_multiplier, norm_eps: P.rmsNormEps,
      rope_theta: P.ropeTheta, max_seqlen: P.maxPositionEmbeddings, vocab_size: P.vocabSize, weight_tying: false, eos_id: 2,
      attn_impl: 'xformers', attn_bias_type: window === null ? 'block_causal' : 'local_block_causal', sliding_window: window,
    },
  };
}
