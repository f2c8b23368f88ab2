// Reading a Hugging Face BLT config.json (transformers' configuration_blt.py) into a BltConfig.
//
// HF layout: top level (vocab, cross_attn_k, hash tables, patching fields) and four nested sub-configs
// `encoder_config`, `decoder_config`, `global_config`, `patcher_config` (entropy model). Resolution of
// per-part values, as in HF:
//   rope θ       rope_parameters.rope_theta → rope_theta → default (500 000 encoder/decoder/global, 10 000 patcher)
//   eps          rms_norm_eps → norm_eps → 1e-5
//   kv heads     num_key_value_heads ?? num_attention_heads
//   FFN width    intermediate_size ?? ⌊8·hidden/3⌋
//   head dim     hidden / heads (a stored head_dim must agree)
// HF reads cross_attn_k in two places (encoder/decoder sub-configs for the modules, top level for the
// masks and the global input width) and does not sync them; they are kept separately here and a
// mismatch is rejected (validate.ts).
//
// Required fields: by default every field that shapes the model must be present (missing ⇒ Error
// naming field and file). `{ useHfDefaults: true }` fills missing fields with HF's BLT-1B defaults
// instead (Hub files saved with `use_diff=True` omit default values). This project's behaviour switches
// travel under the extra key `blt_ts_behaviour` (write.ts), which HF keeps and ignores.
import {
  PATCHING_MODES, type BltBehaviour, type BltConfig, type LocalPartConfig, type PatchingMode, type TransformerPartConfig,
} from './types.js';
import { defaultsFor } from './behaviour.js';
import { validateBltConfig } from './validate.js';


export type ConfigJson = Record<string, unknown>;

export interface ParseOptions {
  /** file name used in error messages */
  source?: string;
  /** fill missing fields with HF's BLT-1B defaults instead of failing (default false) */
  useHfDefaults?: boolean;
  /** behaviour preset when the file carries no `blt_ts_behaviour` (default "hf") */
  behaviour?: "hf" | "reference";
}

/** HF defaults (configuration_blt.py, mirroring BLT-1B), used only with `useHfDefaults`. */
const HF_TOP_DEFAULTS: ConfigJson = {
  vocab_size: 260,
  cross_attn_k: 2,
  encoder_hash_byte_group_size: [3, 4, 5, 6, 7, 8],
  encoder_hash_byte_group_vocab: 500002,
  encoder_hash_byte_group_nb_functions: 1,
  patching_mode: "entropy",
  patching_threshold: 1.335442066192627,
};
const HF_PART_DEFAULTS: Record<string, ConfigJson> = {
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
    private readonly obj: ConfigJson,
    private readonly path: string,
    private readonly source: string,
    private readonly defaults: ConfigJson | null,
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

  sub(field: string, defaults: ConfigJson | null): FieldReader {
    let v = this.obj[field];
    if (v === undefined || v === null) {
      if (defaults === null) this.fail(field, "is missing (pass { useHfDefaults: true } to fill in HF defaults)");
      v = {};
    }
    if (typeof v !== "object" || Array.isArray(v)) this.fail(field, "must be an object");
    return new FieldReader(v as ConfigJson, `${this.path}${field}.`, this.source, defaults);
  }

  /** RoPE θ: rope_parameters.rope_theta → rope_theta → default. */
  ropeTheta(fallback: number): number {
    const rp = this.obj["rope_parameters"];
    if (rp !== undefined && rp !== null) {
      if (typeof rp !== "object" || Array.isArray(rp)) this.fail("rope_parameters", "must be an object");
      const t = (rp as ConfigJson)["rope_theta"];
      const type = (rp as ConfigJson)["rope_type"];
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

/**
 * Parse a HF BLT config.json object (already JSON.parse'd). Meta's original format (`{"args": …}`)
 * is rejected with an explanatory error.
 */
export function parseBltConfig(json: unknown, options: ParseOptions = {}): BltConfig {
  const source = options.source ?? "<config.json>";
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw new Error(`BLT config ${source}: not a JSON object`);
  const top = json as ConfigJson;
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
