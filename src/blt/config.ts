// BLT configuration: parse / validate / write a Hugging Face `BltConfig` config.json (spec §9.2, §9.6;
// golden README §3), plus the behaviour switches where Meta's reference code and HF differ (spec §9.5,
// golden README §7).
//
// HF layout: top level (vocab, cross_attn_k, hash tables, patching fields) and four nested sub-configs
// `encoder_config`, `decoder_config`, `global_config`, `patcher_config` (entropy model). Resolution of
// per-part values, as in HF (spec §9.6):
//   rope θ       rope_parameters.rope_theta → rope_theta → default (500 000 encoder/decoder/global, 10 000 patcher)
//   eps          rms_norm_eps → norm_eps → 1e-5
//   kv heads     num_key_value_heads ?? num_attention_heads
//   FFN width    intermediate_size ?? ⌊8·hidden/3⌋
//   head dim     hidden / heads (a stored head_dim must agree)
// HF reads cross_attn_k in two places (encoder/decoder sub-configs for the modules, top level for the
// masks and the global input width) and does not sync them; they are kept separately here and a
// mismatch is rejected.
//
// Required fields: by default every field that shapes the model must be present (missing ⇒ Error
// naming field and file). `{ useHfDefaults: true }` fills missing fields with HF's BLT-1B defaults
// instead (Hub files saved with `use_diff=True` omit default values).

export type PatchingMode = "entropy" | "byte" | "static" | "space" | "bpe" | "bpe_patcher";
const PATCHING_MODES: readonly PatchingMode[] = ["entropy", "byte", "static", "space", "bpe", "bpe_patcher"];

/** Fields shared by the four transformer stacks. */
export interface TransformerPartConfig {
  hiddenSize: number;
  numHeads: number;
  /** GQA: query head j uses kv head ⌊j / (numHeads / numKvHeads)⌋ */
  numKvHeads: number;
  /** hiddenSize / numHeads */
  headDim: number;
  numLayers: number;
  /** SwiGLU hidden width */
  intermediateSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** informational (RoPE tables are computed on the fly) */
  maxPositionEmbeddings: number;
}

/** Local encoder / decoder. */
export interface LocalPartConfig extends TransformerPartConfig {
  /** cross-attention at every layer (true) or only at the last (encoder) / first (decoder) layer */
  crossAttnAllLayers: boolean;
  /** the module's own `cross_attn_k` (sub-config) */
  crossAttnK: number;
  /** d_G as seen by this part (`hidden_size_global`) */
  hiddenSizeGlobal: number;
}

export interface GlobalPartConfig extends TransformerPartConfig {
  /** k·d_E when it differs from d_G (then a Linear k·d_E → d_G exists), else null (identity) */
  encoderCrossOutputSize: number | null;
}

export interface HashConfig {
  /** n-gram sizes, e.g. [3, 4, 5, 6, 7, 8] */
  groupSizes: number[];
  /** number of hash functions F (tables = F · groupSizes.length, function-major) */
  nbFunctions: number;
  /** rows per table V_h */
  vocab: number;
}

export interface PatchingConfig {
  mode: PatchingMode;
  /** global entropy threshold θ (nats) */
  threshold: number;
  /** Meta combined rule θ_add (HF stores it, does not use it) */
  thresholdAdd: number | null;
  /** Meta approximate-monotonic rule (HF stores it, does not use it) */
  monotonicity: boolean;
  maxPatchLength: number | null;
  /** HF: only has to be non-null in entropy mode; Meta: static stride / top-k patch size */
  patchSize: number | null;
  /** HF: run the entropy model inside forward when no patch lengths are given */
  patchInForward: boolean;
}

// [doc:behaviour]
/** Where HF and Meta's reference code differ (spec §9.5). */
export interface BltBehaviour {
  /** local encoder/decoder self-attention window W (attend iff 0 ≤ q-k ≤ W-1); null = plain causal (HF) */
  localWindow: number | null;
  /** entropy-model attention window; null = plain causal (HF), 512 in Meta's code */
  patcherWindow: number | null;
  /**
   * the entropy model runs on independent chunks of this many tokens (RoPE positions restart at 0 in each); null =
   * the entropy model's max_position_embeddings (HF runs the whole row: identical up to that length), 8192 in
   * Meta's code. See entropy-context.ts.
   */
  patcherChunk: number | null;
  /** block attention at EOS-delimited documents (local, entropy and global models; Meta) */
  documentMask: boolean;
  /** HF re-pools the encoder patch queries at every cross-attention layer; Meta pools once and accumulates */
  repoolEachCrossLayer: boolean;
  /** "N" = HF lengths (ΣL = N, maybe a trailing 0); "N+1" = Meta next-token mode */
  patchLengthsSumTo: "N" | "N+1";
  /** a query row with no allowed key: HF eager = uniform over all keys; Meta FlexAttention = zero output */
  emptyPatchAttention: "uniform-all" | "none";
  /** apply `monotonicity` / `patching_threshold_add` from the config (Meta); HF stores but ignores them */
  metaPatchRules: boolean;
}

export interface BltConfig {
  vocabSize: number;
  /** top-level cross_attn_k (masks, global input width) */
  crossAttnK: number;
  hash: HashConfig;
  patching: PatchingConfig;
  encoder: LocalPartConfig;
  decoder: LocalPartConfig;
  global: GlobalPartConfig;
  /** entropy model */
  patcher: TransformerPartConfig & { vocabSize: number };
  behaviour: BltBehaviour;
}

// [doc:behaviour-presets]
/** Behaviour presets: "hf" reproduces transformers' BLT, "reference" Meta's bytelatent code. */
export function defaultsFor(flavour: "hf" | "reference"): BltBehaviour {
  if (flavour === "hf")
    return {
      localWindow: null,
      patcherWindow: null,
      patcherChunk: null,
      documentMask: false,
      repoolEachCrossLayer: true,
      patchLengthsSumTo: "N",
      emptyPatchAttention: "uniform-all",
      metaPatchRules: false,
    };
  if (flavour === "reference")
    return {
      localWindow: 512,
      patcherWindow: 512,
      patcherChunk: 8192,
      documentMask: true,
      repoolEachCrossLayer: false,
      patchLengthsSumTo: "N+1",
      emptyPatchAttention: "none",
      metaPatchRules: true,
    };
  throw new Error(`defaultsFor: unknown flavour "${flavour as string}" (expected "hf" or "reference")`);
}

/** SwiGLU width of Meta's code: 256·⌈⌊8d/3⌋/256⌉ (spec §6.5). */
export function swigluHidden(dim: number, multipleOf = 256, ffnDimMultiplier = 1.0): number {
  const h0 = Math.floor(ffnDimMultiplier * Math.floor((2 * 4 * dim) / 3));
  return multipleOf * Math.ceil(h0 / multipleOf);
}

// ---------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

export interface ParseOptions {
  /** file name used in error messages */
  source?: string;
  /** fill missing fields with HF's BLT-1B defaults instead of failing (default false) */
  useHfDefaults?: boolean;
  /** behaviour preset when the file carries no `blt_ts_behaviour` (default "hf") */
  behaviour?: "hf" | "reference";
}

/** HF defaults (configuration_blt.py, mirroring BLT-1B), used only with `useHfDefaults`. */
const HF_TOP_DEFAULTS: Json = {
  vocab_size: 260,
  cross_attn_k: 2,
  encoder_hash_byte_group_size: [3, 4, 5, 6, 7, 8],
  encoder_hash_byte_group_vocab: 500002,
  encoder_hash_byte_group_nb_functions: 1,
  patching_mode: "entropy",
  patching_threshold: 1.335442066192627,
};
const HF_PART_DEFAULTS: Record<string, Json> = {
  encoder_config: { hidden_size: 1024, num_attention_heads: 16, num_hidden_layers: 1, intermediate_size: 2816, cross_attn_all_layers: false, cross_attn_k: 2, hidden_size_global: 2048 },
  decoder_config: { hidden_size: 1024, num_attention_heads: 16, num_hidden_layers: 9, intermediate_size: 2816, cross_attn_all_layers: true, cross_attn_k: 2, hidden_size_global: 2048 },
  global_config: { hidden_size: 2048, num_attention_heads: 16, num_hidden_layers: 25, intermediate_size: 5632 },
  patcher_config: { hidden_size: 768, num_attention_heads: 12, num_hidden_layers: 14, intermediate_size: 2048 },
};
const DEFAULT_THETA: Record<string, number> = {
  encoder_config: 500000,
  decoder_config: 500000,
  global_config: 500000,
  patcher_config: 10000,
};
const DEFAULT_MAX_POS: Record<string, number> = {
  encoder_config: 24576,
  decoder_config: 24576,
  global_config: 4096,
  patcher_config: 8192,
};

class FieldReader {
  constructor(
    private readonly obj: Json,
    private readonly path: string,
    private readonly source: string,
    private readonly defaults: Json | null,
  ) {}

  private fail(field: string, msg: string): never {
    throw new Error(`BLT config ${this.source}: field "${this.path}${field}" ${msg}`);
  }

  raw(field: string): unknown {
    if (this.obj[field] !== undefined && this.obj[field] !== null) return this.obj[field];
    return this.defaults?.[field] ?? null;
  }

  has(field: string): boolean {
    return this.raw(field) !== null;
  }

  private required(field: string): unknown {
    const v = this.raw(field);
    if (v === null) this.fail(field, "is missing (pass { useHfDefaults: true } to fill in HF defaults)");
    return v;
  }

  int(field: string, min = 1): number {
    const v = this.required(field);
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) this.fail(field, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  }

  optInt(field: string, min = 1): number | null {
    return this.has(field) ? this.int(field, min) : null;
  }

  num(field: string): number {
    const v = this.required(field);
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(field, `must be a finite number, got ${JSON.stringify(v)}`);
    return v;
  }

  optNum(field: string): number | null {
    return this.has(field) ? this.num(field) : null;
  }

  bool(field: string, fallback?: boolean): boolean {
    if (!this.has(field) && fallback !== undefined) return fallback;
    const v = this.required(field);
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  str(field: string): string {
    const v = this.required(field);
    if (typeof v !== "string") this.fail(field, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  intList(field: string): number[] {
    const v = this.required(field);
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === "number" && Number.isInteger(x) && x >= 1))
      this.fail(field, `must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
    return v as number[];
  }

  sub(field: string, defaults: Json | null): FieldReader {
    let v = this.obj[field];
    if (v === undefined || v === null) {
      if (defaults === null) this.fail(field, "is missing (pass { useHfDefaults: true } to fill in HF defaults)");
      v = {};
    }
    if (typeof v !== "object" || Array.isArray(v)) this.fail(field, "must be an object");
    return new FieldReader(v as Json, `${this.path}${field}.`, this.source, defaults);
  }

  /** RoPE θ: rope_parameters.rope_theta → rope_theta → default. */
  ropeTheta(fallback: number): number {
    const rp = this.obj["rope_parameters"];
    if (rp !== undefined && rp !== null) {
      if (typeof rp !== "object" || Array.isArray(rp)) this.fail("rope_parameters", "must be an object");
      const t = (rp as Json)["rope_theta"];
      const type = (rp as Json)["rope_type"];
      if (type !== undefined && type !== null && type !== "default")
        this.fail("rope_parameters.rope_type", `"${String(type)}" is not supported (only "default")`);
      if (t !== undefined && t !== null) {
        if (typeof t !== "number" || !(t > 0)) this.fail("rope_parameters.rope_theta", `must be a positive number, got ${JSON.stringify(t)}`);
        return t;
      }
    }
    const old = this.obj["rope_theta"];
    if (old !== undefined && old !== null) {
      if (typeof old !== "number" || !(old > 0)) this.fail("rope_theta", `must be a positive number, got ${JSON.stringify(old)}`);
      return old;
    }
    return fallback;
  }

  err(field: string, msg: string): never {
    this.fail(field, msg);
  }
}

function parsePart(r: FieldReader, name: string): TransformerPartConfig {
  const hiddenSize = r.int("hidden_size");
  const numHeads = r.int("num_attention_heads");
  const numKvHeads = r.optInt("num_key_value_heads") ?? numHeads;
  const numLayers = r.int("num_hidden_layers", 0);
  const intermediateSize = r.optInt("intermediate_size") ?? Math.floor((8 * hiddenSize) / 3);
  const eps = r.optNum("rms_norm_eps") ?? r.optNum("norm_eps") ?? 1e-5;
  if (!(eps > 0)) r.err("rms_norm_eps", `must be > 0, got ${eps}`);
  if (hiddenSize % numHeads !== 0) r.err("hidden_size", `(${hiddenSize}) must be divisible by num_attention_heads (${numHeads})`);
  if (numHeads % numKvHeads !== 0)
    r.err("num_attention_heads", `(${numHeads}) must be divisible by num_key_value_heads (${numKvHeads})`);
  const headDim = hiddenSize / numHeads;
  const storedHeadDim = r.optInt("head_dim");
  if (storedHeadDim !== null && storedHeadDim !== headDim)
    r.err("head_dim", `(${storedHeadDim}) disagrees with hidden_size / num_attention_heads = ${headDim}`);
  return {
    hiddenSize,
    numHeads,
    numKvHeads,
    headDim,
    numLayers,
    intermediateSize,
    rmsNormEps: eps,
    ropeTheta: r.ropeTheta(DEFAULT_THETA[name]!),
    maxPositionEmbeddings: r.optInt("max_position_embeddings") ?? DEFAULT_MAX_POS[name]!,
  };
}

function parseLocal(r: FieldReader, name: string): LocalPartConfig {
  return {
    ...parsePart(r, name),
    crossAttnAllLayers: r.bool("cross_attn_all_layers"),
    crossAttnK: r.int("cross_attn_k"),
    hiddenSizeGlobal: r.int("hidden_size_global"),
  };
}

function parseBehaviour(v: unknown, source: string, fallback: BltBehaviour): BltBehaviour {
  if (v === undefined || v === null) return fallback;
  const bad = (f: string, msg: string): never => {
    throw new Error(`BLT config ${source}: field "blt_ts_behaviour.${f}" ${msg}`);
  };
  if (typeof v !== "object" || Array.isArray(v)) bad("", "must be an object");
  const o = { ...fallback, ...(v as Partial<BltBehaviour>) };
  for (const f of ["localWindow", "patcherWindow", "patcherChunk"] as const) {
    const w = o[f];
    if (w !== null && (typeof w !== "number" || !Number.isInteger(w) || w < 1)) bad(f, `must be null or a positive integer, got ${JSON.stringify(w)}`);
  }
  for (const f of ["documentMask", "repoolEachCrossLayer", "metaPatchRules"] as const)
    if (typeof o[f] !== "boolean") bad(f, `must be a boolean, got ${JSON.stringify(o[f])}`);
  if (o.patchLengthsSumTo !== "N" && o.patchLengthsSumTo !== "N+1") bad("patchLengthsSumTo", `must be "N" or "N+1"`);
  if (o.emptyPatchAttention !== "uniform-all" && o.emptyPatchAttention !== "none")
    bad("emptyPatchAttention", `must be "uniform-all" or "none"`);
  return o;
}

// [doc:validate-config]
/** Validate cross-part consistency of a parsed (or hand-built) config; throws naming the field. */
export function validateBltConfig(cfg: BltConfig, source = "<config>"): void {
  const bad = (field: string, msg: string): never => {
    throw new Error(`BLT config ${source}: field "${field}" ${msg}`);
  };
  const { encoder: E, decoder: D, global: G, crossAttnK: k } = cfg;
  for (const [name, p] of [["encoder_config", E], ["decoder_config", D], ["global_config", G], ["patcher_config", cfg.patcher]] as const) {
    if (p.hiddenSize % p.numHeads !== 0) bad(`${name}.hidden_size`, `(${p.hiddenSize}) must be divisible by num_attention_heads (${p.numHeads})`);
    if (p.numHeads % p.numKvHeads !== 0) bad(`${name}.num_attention_heads`, `(${p.numHeads}) must be divisible by num_key_value_heads (${p.numKvHeads})`);
    if (p.headDim * p.numHeads !== p.hiddenSize) bad(`${name}.head_dim`, `(${p.headDim}) must equal hidden_size / num_attention_heads`);
  }
  if (cfg.vocabSize !== 260) bad("vocab_size", `must be 260 (4 specials + 256 bytes), got ${cfg.vocabSize}`);
  if (cfg.patcher.vocabSize !== cfg.vocabSize) bad("patcher_config.vocab_size", `(${cfg.patcher.vocabSize}) must equal vocab_size (${cfg.vocabSize})`);
  if (E.hiddenSize !== D.hiddenSize)
    bad("decoder_config.hidden_size", `(${D.hiddenSize}) must equal encoder_config.hidden_size (${E.hiddenSize}): the decoder input is the encoder output`);
  if (E.crossAttnK !== k) bad("encoder_config.cross_attn_k", `(${E.crossAttnK}) must equal the top-level cross_attn_k (${k})`);
  if (D.crossAttnK !== k) bad("decoder_config.cross_attn_k", `(${D.crossAttnK}) must equal the top-level cross_attn_k (${k})`);
  if (D.hiddenSizeGlobal !== G.hiddenSize)
    bad("decoder_config.hidden_size_global", `(${D.hiddenSizeGlobal}) must equal global_config.hidden_size (${G.hiddenSize})`);
  const kDe = k * E.hiddenSize;
  if (kDe === G.hiddenSize) {
    if (G.encoderCrossOutputSize !== null && G.encoderCrossOutputSize !== kDe)
      bad("global_config.encoder_cross_output_size", `(${G.encoderCrossOutputSize}) must be null or cross_attn_k·encoder hidden = ${kDe}`);
  } else if (G.encoderCrossOutputSize !== kDe)
    bad(
      "global_config.encoder_cross_output_size",
      `(${G.encoderCrossOutputSize}) must be cross_attn_k·encoder hidden = ${kDe} because that differs from global hidden_size ${G.hiddenSize}`,
    );
  if (cfg.hash.nbFunctions < 1) bad("encoder_hash_byte_group_nb_functions", "must be ≥ 1");
  if (cfg.hash.groupSizes.length === 0) bad("encoder_hash_byte_group_size", "must not be empty");
  if (cfg.patching.maxPatchLength !== null && !(cfg.patching.maxPatchLength >= 1)) bad("max_patch_length", "must be null or ≥ 1");
  if (!PATCHING_MODES.includes(cfg.patching.mode)) bad("patching_mode", `unknown mode "${cfg.patching.mode}"`);
}

/**
 * Parse a HF BLT config.json object (already JSON.parse'd). Meta's original format (`{"args": …}`)
 * is rejected with an explanatory error.
 */
export function parseBltConfig(json: unknown, options: ParseOptions = {}): BltConfig {
  const source = options.source ?? "<config.json>";
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error(`BLT config ${source}: not a JSON object`);
  const top = json as Json;
  if ("args" in top && !("encoder_config" in top))
    throw new Error(`BLT config ${source}: this is Meta's original format ({"args": …}); convert it to the HF format first`);
  if (top["model_type"] !== undefined && top["model_type"] !== "blt")
    throw new Error(`BLT config ${source}: field "model_type" is ${JSON.stringify(top["model_type"])}, expected "blt"`);
  const useDefaults = options.useHfDefaults ?? false;
  const r = new FieldReader(top, "", source, useDefaults ? HF_TOP_DEFAULTS : null);
  const part = (name: string): FieldReader => r.sub(name, useDefaults ? HF_PART_DEFAULTS[name]! : null);

  const encR = part("encoder_config");
  const decR = part("decoder_config");
  const gloR = part("global_config");
  const patR = part("patcher_config");
  const encoder = parseLocal(encR, "encoder_config");
  const decoder = parseLocal(decR, "decoder_config");
  const globalBase = parsePart(gloR, "global_config");
  const patcherBase = parsePart(patR, "patcher_config");
  const vocabSize = r.int("vocab_size");
  const crossAttnK = r.int("cross_attn_k");

  const mode = r.str("patching_mode");
  if (!PATCHING_MODES.includes(mode as PatchingMode))
    r.err("patching_mode", `is "${mode}", expected one of ${PATCHING_MODES.join(", ")}`);
  const threshold = mode === "entropy" ? r.num("patching_threshold") : (r.optNum("patching_threshold") ?? HF_TOP_DEFAULTS["patching_threshold"] as number);

  const cfg: BltConfig = {
    vocabSize,
    crossAttnK,
    hash: {
      groupSizes: r.intList("encoder_hash_byte_group_size"),
      nbFunctions: r.int("encoder_hash_byte_group_nb_functions"),
      vocab: r.int("encoder_hash_byte_group_vocab"),
    },
    patching: {
      mode: mode as PatchingMode,
      threshold,
      thresholdAdd: r.optNum("patching_threshold_add"),
      monotonicity: r.bool("monotonicity", false),
      maxPatchLength: r.optInt("max_patch_length"),
      patchSize: r.optNum("patch_size"),
      patchInForward: r.bool("patch_in_forward", true),
    },
    encoder,
    decoder,
    global: { ...globalBase, encoderCrossOutputSize: gloR.optInt("encoder_cross_output_size") },
    patcher: { ...patcherBase, vocabSize: patR.optInt("vocab_size") ?? vocabSize },
    behaviour: parseBehaviour(top["blt_ts_behaviour"], source, defaultsFor(options.behaviour ?? "hf")),
  };
  validateBltConfig(cfg, source);
  return cfg;
}

// ---------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------

function partToHf(p: TransformerPartConfig, modelType: string): Json {
  return {
    model_type: modelType,
    hidden_size: p.hiddenSize,
    num_attention_heads: p.numHeads,
    num_key_value_heads: p.numKvHeads,
    head_dim: p.headDim,
    num_hidden_layers: p.numLayers,
    intermediate_size: p.intermediateSize,
    rms_norm_eps: p.rmsNormEps,
    rope_parameters: { rope_theta: p.ropeTheta, rope_type: "default" },
    max_position_embeddings: p.maxPositionEmbeddings,
    hidden_act: "silu",
    dropout: 0.0,
    tie_word_embeddings: false,
  };
}

/**
 * HF-loadable config.json object for `cfg` (the fields HF's BltConfig reads, sub-configs in full).
 * The behaviour switches are stored under `blt_ts_behaviour` (HF keeps unknown keys and ignores them),
 * so parseBltConfig(configToHfJson(cfg)) round-trips.
 */
export function configToHfJson(cfg: BltConfig): Json {
  validateBltConfig(cfg, "<configToHfJson>");
  const local = (p: LocalPartConfig, t: string): Json => ({
    ...partToHf(p, t),
    vocab_size: cfg.vocabSize,
    cross_attn_all_layers: p.crossAttnAllLayers,
    cross_attn_k: p.crossAttnK,
    hidden_size_global: p.hiddenSizeGlobal,
  });
  return {
    model_type: "blt",
    architectures: ["BltForCausalLM"],
    vocab_size: cfg.vocabSize,
    cross_attn_k: cfg.crossAttnK,
    encoder_hash_byte_group_size: [...cfg.hash.groupSizes],
    encoder_hash_byte_group_nb_functions: cfg.hash.nbFunctions,
    encoder_hash_byte_group_vocab: cfg.hash.vocab,
    patching_mode: cfg.patching.mode,
    patching_threshold: cfg.patching.threshold,
    patching_threshold_add: cfg.patching.thresholdAdd,
    monotonicity: cfg.patching.monotonicity,
    max_patch_length: cfg.patching.maxPatchLength,
    patch_size: cfg.patching.patchSize,
    patch_in_forward: cfg.patching.patchInForward,
    tie_word_embeddings: false,
    encoder_config: local(cfg.encoder, "blt_local_encoder"),
    decoder_config: local(cfg.decoder, "blt_local_decoder"),
    global_config: { ...partToHf(cfg.global, "blt_global_transformer"), encoder_cross_output_size: cfg.global.encoderCrossOutputSize },
    patcher_config: { ...partToHf(cfg.patcher, "blt_patcher"), vocab_size: cfg.patcher.vocabSize },
    blt_ts_behaviour: { ...cfg.behaviour },
  };
}

// ---------------------------------------------------------------------------------------------------
// Factories
// ---------------------------------------------------------------------------------------------------

interface PartSpec {
  hidden: number;
  heads: number;
  kvHeads?: number;
  layers: number;
  ffn: number;
  theta?: number;
}

function makePart(s: PartSpec, theta: number, eps: number, maxPos: number): TransformerPartConfig {
  return {
    hiddenSize: s.hidden,
    numHeads: s.heads,
    numKvHeads: s.kvHeads ?? s.heads,
    headDim: s.hidden / s.heads,
    numLayers: s.layers,
    intermediateSize: s.ffn,
    rmsNormEps: eps,
    ropeTheta: s.theta ?? theta,
    maxPositionEmbeddings: maxPos,
  };
}

export interface FactorySpec {
  k: number;
  encoder: PartSpec & { crossAll?: boolean };
  decoder: PartSpec & { crossAll?: boolean };
  global: PartSpec;
  patcher: PartSpec;
  hash: HashConfig;
  threshold?: number;
  behaviour?: "hf" | "reference";
  maxPos?: number;
}

/** Build a validated config from a compact spec (global projection derived as HF does). */
export function makeBltConfig(s: FactorySpec): BltConfig {
  const eps = 1e-5;
  const maxPos = s.maxPos ?? 1024;
  const dG = s.global.hidden;
  const kDe = s.k * s.encoder.hidden;
  const cfg: BltConfig = {
    vocabSize: 260,
    crossAttnK: s.k,
    hash: { ...s.hash, groupSizes: [...s.hash.groupSizes] },
    patching: {
      mode: "entropy",
      threshold: s.threshold ?? 1.335442066192627,
      thresholdAdd: null,
      monotonicity: false,
      maxPatchLength: null,
      patchSize: 4,
      patchInForward: true,
    },
    encoder: { ...makePart(s.encoder, 500000, eps, maxPos), crossAttnAllLayers: s.encoder.crossAll ?? false, crossAttnK: s.k, hiddenSizeGlobal: dG },
    decoder: { ...makePart(s.decoder, 500000, eps, maxPos), crossAttnAllLayers: s.decoder.crossAll ?? true, crossAttnK: s.k, hiddenSizeGlobal: dG },
    global: { ...makePart(s.global, 500000, eps, maxPos), encoderCrossOutputSize: kDe === dG ? null : kDe },
    patcher: { ...makePart(s.patcher, 10000, eps, maxPos), vocabSize: 260 },
    behaviour: defaultsFor(s.behaviour ?? "hf"),
  };
  validateBltConfig(cfg, "<makeBltConfig>");
  return cfg;
}

/** Tiny model with the structure of BLT-1B (the golden `blt1b_like` shapes): fast unit tests and demos. */
export function tinyConfig(behaviour: "hf" | "reference" = "hf"): BltConfig {
  return makeBltConfig({
    k: 2,
    encoder: { hidden: 32, heads: 2, layers: 1, ffn: 96, crossAll: false },
    decoder: { hidden: 32, heads: 2, layers: 2, ffn: 96, crossAll: true },
    global: { hidden: 64, heads: 4, layers: 2, ffn: 176 },
    patcher: { hidden: 32, heads: 2, layers: 2, ffn: 96 },
    hash: { groupSizes: [3, 4, 5, 6, 7, 8], nbFunctions: 1, vocab: 1000 },
    threshold: 1.335442066192627,
    behaviour,
  });
}

/** Small model (the shapes of /work/shared/bench/blt-small/config.json): benchmarks and demo training. */
export function smallConfig(behaviour: "hf" | "reference" = "hf"): BltConfig {
  return makeBltConfig({
    k: 2,
    encoder: { hidden: 128, heads: 4, layers: 1, ffn: 512, crossAll: false },
    decoder: { hidden: 128, heads: 4, layers: 2, ffn: 512, crossAll: true },
    global: { hidden: 256, heads: 8, layers: 4, ffn: 768 },
    patcher: { hidden: 64, heads: 4, layers: 2, ffn: 256 },
    hash: { groupSizes: [3, 4, 5, 6, 7, 8], nbFunctions: 1, vocab: 4096 },
    threshold: 1.335442066192627,
    behaviour,
    maxPos: 2048,
  });
}
