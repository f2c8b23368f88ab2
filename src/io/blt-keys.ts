// BLT checkpoint key names: original facebookresearch/blt <-> Hugging Face `BltForCausalLM`
// (the renaming rules of transformers' converter, convert_blt_weights_to_hf.py, restated below).
//
// HF conversion rules: leaf renames `.attention.`->`.self_attn.`, `.feed_forward.`->`.mlp.`,
// `.attention_norm.`->`.input_layernorm.`, `.ffn_norm.`->`.post_attention_layernorm.`,
// `.tok_embeddings.`->`.embed_tokens.`, `.cross_attn_norm_q.`->`.q_norm.`, `.cross_attn_norm_kv.`->`.k_norm.`,
// `w1/w2/w3`->`gate_proj/down_proj/up_proj`, `wq/wk/wv/wo`->`q_proj/k_proj/v_proj/o_proj`, `.output.`->`.lm_head.`;
// entropy-model keys get the prefix `patcher.`; `local_decoder.output.weight` becomes top-level `lm_head.weight`;
// everything else gets the prefix `model.`. No tensor is transposed.
// The one structural change: the original hash embeddings are a ModuleList `encoder_hash_tok_embedding.{i}.weight`
// (F*|G| tables of [V, dE]); HF concatenates them in index order into `model.encoder_hash_tok_embedding.weight`
// [F*|G|*V, dE]. So the key mapping is a bijection except for that many-to-one entry, and whole-state-dict
// conversion in both directions is provided (`convertOriginalStateDict`, `convertHfStateDictToOriginal`).
//
// Instead of blind substring replacement, keys are parsed against the exact module structure, so an unknown or
// misspelt key is an error rather than being passed through.
// Original keys come from two files: the BLT model (prefixes local_encoder., local_decoder., global_transformer.,
// encoder_hash_tok_embedding.) and the entropy model (tok_embeddings., layers., norm., output.). The two
// namespaces are disjoint, so `renameOriginalKeyToHf` accepts either and tells them apart by the first segment.

import type { RawTensor } from "./safetensors.js";

type Part = "local_encoder" | "local_decoder" | "global_transformer" | "patcher";
type Pair = readonly [original: string, hf: string];

/** Inside `layers.{i}.` of every transformer (encoder, global, decoder, entropy model). */
const LAYER_LEAVES: readonly Pair[] = [
  ["attention.wq", "self_attn.q_proj"],
  ["attention.wk", "self_attn.k_proj"],
  ["attention.wv", "self_attn.v_proj"],
  ["attention.wo", "self_attn.o_proj"],
  ["feed_forward.w1", "mlp.gate_proj"],
  ["feed_forward.w3", "mlp.up_proj"],
  ["feed_forward.w2", "mlp.down_proj"],
  ["attention_norm", "input_layernorm"],
  ["ffn_norm", "post_attention_layernorm"],
];

/** Inside `cross_attn_layers.{i}.` of the local encoder and decoder. */
const CROSS_LEAVES: readonly Pair[] = [
  ["wq", "q_proj"],
  ["wk", "k_proj"],
  ["wv", "v_proj"],
  ["wo", "o_proj"],
  ["cross_attn_norm_q", "q_norm"],
  ["cross_attn_norm_kv", "k_norm"],
];

/** Direct children `<leaf>.weight` of each part. (`local_decoder.output` is special: it becomes `lm_head`.) */
const MODULE_LEAVES: Record<Part, readonly Pair[]> = {
  local_encoder: [
    ["tok_embeddings", "embed_tokens"],
    ["patch_embedding_projection", "patch_embedding_projection"],
  ],
  global_transformer: [["token_embedding_projection", "token_embedding_projection"]],
  local_decoder: [
    ["patch_embedding_projection", "patch_embedding_projection"],
    ["norm", "norm"],
  ],
  patcher: [
    ["tok_embeddings", "embed_tokens"],
    ["norm", "norm"],
    ["output", "lm_head"],
  ],
};

const HAS_CROSS_ATTN: Record<Part, boolean> = {
  local_encoder: true,
  local_decoder: true,
  global_transformer: false,
  patcher: false,
};

const BLT_PARTS: readonly Part[] = ["local_encoder", "local_decoder", "global_transformer"];
const ALL_PARTS: readonly Part[] = [...BLT_PARTS, "patcher"];

export const HF_HASH_KEY = "model.encoder_hash_tok_embedding.weight";
export const HF_LM_HEAD_KEY = "lm_head.weight";
const ORIGINAL_LM_HEAD_KEY = "local_decoder.output.weight";
const ORIGINAL_HASH_RE = /^encoder_hash_tok_embedding\.(0|[1-9]\d*)\.weight$/;
const INDEX_RE = /^(0|[1-9]\d*)$/;

/**
 * Maps `rest` (the key below one part, without the trailing `.weight`) through the leaf tables.
 * `from`/`to` pick the direction: 0 = original, 1 = HF. Returns null when `rest` is not a known module path.
 */
function mapPartRest(part: Part, rest: string, from: 0 | 1): string | null {
  const to = from === 0 ? 1 : 0;
  const segs = rest.split(".");
  const lookup = (pairs: readonly Pair[], leaf: string) => pairs.find((p) => p[from] === leaf)?.[to] ?? null;
  if (segs.length >= 3 && (segs[0] === "layers" || segs[0] === "cross_attn_layers") && INDEX_RE.test(segs[1]!)) {
    const leaf = segs.slice(2).join(".");
    if (segs[0] === "layers") {
      const mapped = lookup(LAYER_LEAVES, leaf);
      return mapped === null ? null : `layers.${segs[1]}.${mapped}`;
    }
    if (!HAS_CROSS_ATTN[part]) return null;
    const mapped = lookup(CROSS_LEAVES, leaf);
    return mapped === null ? null : `cross_attn_layers.${segs[1]}.${mapped}`;
  }
  return segs.length === 1 ? lookup(MODULE_LEAVES[part], rest) : null;
}

function unknownKey(kind: string, key: string): never {
  throw new Error(`blt-keys: unknown ${kind} checkpoint key '${key}' (not a module of the BLT / entropy model)`);
}

/**
 * Original (facebookresearch/blt or entropy-model) key -> HF key.
 * `encoder_hash_tok_embedding.{i}.weight` maps to the fused `model.encoder_hash_tok_embedding.weight`
 * (many-to-one; the tensors themselves must be concatenated: see `convertOriginalStateDict`).
 */
export function renameOriginalKeyToHf(key: string): string {
  if (ORIGINAL_HASH_RE.test(key)) return HF_HASH_KEY;
  if (key === ORIGINAL_LM_HEAD_KEY) return HF_LM_HEAD_KEY;
  if (!key.endsWith(".weight")) unknownKey("original", key);
  const body = key.slice(0, -".weight".length);
  const dot = body.indexOf(".");
  const first = dot < 0 ? body : body.slice(0, dot);
  // BLT parts are named by their first segment; anything else must be an entropy-model key (-> patcher).
  const isBltPart = (BLT_PARTS as readonly string[]).includes(first);
  const part: Part = isBltPart ? (first as Part) : "patcher";
  const rest = isBltPart ? (dot < 0 ? "" : body.slice(dot + 1)) : body;
  const mapped = mapPartRest(part, rest, 0);
  if (mapped === null) unknownKey("original", key);
  return `model.${part}.${mapped}.weight`;
}

/** Splits an HF key into its part and the path below it, or null when it is not an HF BLT key. */
function parseHfKey(key: string): { part: Part; rest: string } | null {
  if (!key.startsWith("model.") || !key.endsWith(".weight")) return null;
  const body = key.slice("model.".length, -".weight".length);
  const dot = body.indexOf(".");
  if (dot < 0) return null;
  const first = body.slice(0, dot);
  if (!(ALL_PARTS as readonly string[]).includes(first)) return null;
  return { part: first as Part, rest: body.slice(dot + 1) };
}

/** True for every key that HF `BltForCausalLM` has in its state dict (what transformers' convert_blt_weights_to_hf.py writes; a golden set's meta.json lists them as weight_keys). */
export function isHfKey(key: string): boolean {
  if (key === HF_HASH_KEY || key === HF_LM_HEAD_KEY) return true;
  const parsed = parseHfKey(key);
  return parsed !== null && mapPartRest(parsed.part, parsed.rest, 1) !== null;
}

/**
 * HF key -> original key (entropy-model keys come back without a prefix, as stored in the entropy checkpoint).
 * The fused hash table has no single original key: this throws for it (use `convertHfStateDictToOriginal`).
 */
export function hfKeyToOriginal(key: string): string {
  if (key === HF_LM_HEAD_KEY) return ORIGINAL_LM_HEAD_KEY;
  if (key === HF_HASH_KEY) {
    throw new Error(
      `blt-keys: '${key}' is the fused hash table; it splits into encoder_hash_tok_embedding.{i}.weight ` +
        `(use convertHfStateDictToOriginal)`,
    );
  }
  const parsed = parseHfKey(key);
  const mapped = parsed === null ? null : mapPartRest(parsed.part, parsed.rest, 1);
  if (parsed === null || mapped === null) unknownKey("HF", key);
  return parsed.part === "patcher" ? `${mapped}.weight` : `${parsed.part}.${mapped}.weight`;
}

/** True when an original key belongs to the entropy model (it has no BLT part prefix). */
export function isEntropyModelKey(originalKey: string): boolean {
  return renameOriginalKeyToHf(originalKey).startsWith("model.patcher.");
}

// ---------------------------------------------------------------------------------------------------------
// Whole state dicts
// ---------------------------------------------------------------------------------------------------------

/** Hash-embedding settings (same field names in the original args and the HF BltConfig). */
export interface BltHashConfig {
  encoder_hash_byte_group_size?: number[];
  encoder_hash_byte_group_vocab?: number;
  encoder_hash_byte_group_nb_functions?: number;
}

/** Number of hash tables F*|G| from a config, or undefined if it does not say. */
function hashTableCount(config: BltHashConfig | undefined): number | undefined {
  if (config?.encoder_hash_byte_group_size === undefined) return undefined;
  return (config.encoder_hash_byte_group_nb_functions ?? 1) * config.encoder_hash_byte_group_size.length;
}

/**
 * What the whole-dict converters need to know about a tensor type: its dtype and shape, which dtypes a hash
 * table may have, and how to stack tables (original -> fused) or take rows (fused -> original). RawTensors copy
 * (F32 only); TensorSources (src/io/tensor-source.ts) stack and slice lazily, in any float dtype.
 */
export interface TensorKind<T> {
  dtypeOf(t: T): string;
  shapeOf(t: T): readonly number[];
  /** dtypes a hash table may have, as written in errors ("F32") */
  tableDtypes: readonly string[];
  concat(parts: T[], name: string): T;
  slice(t: T, startRow: number, rows: number, name: string): T;
}

/** RawTensor data in memory: tables are copied into (or out of) one Float32Array. */
export const RAW_TENSORS: TensorKind<RawTensor> = {
  dtypeOf: (t) => t.dtype,
  shapeOf: (t) => t.shape,
  tableDtypes: ["F32"],
  concat: (parts) => {
    const [, dim] = parts[0]!.shape;
    const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
    const fused = new Float32Array(rows * dim!); // [T*V, dE]: table i at rows [i*V, (i+1)*V)
    let at = 0;
    for (const p of parts) { fused.set(p.data as Float32Array, at); at += p.data.length; }
    return { dtype: "F32", shape: [rows, dim!], data: fused };
  },
  slice: (t, start, rows) => {
    const dim = t.shape[1]!;
    return { dtype: "F32", shape: [rows, dim], data: (t.data as Float32Array).slice(start * dim, (start + rows) * dim) };
  },
};

function requireTableMatrix<T>(kind: TensorKind<T>, key: string, t: T): [number, number] {
  const shape = kind.shapeOf(t), dtype = kind.dtypeOf(t);
  if (!kind.tableDtypes.includes(dtype) || shape.length !== 2) {
    throw new Error(`blt-keys: hash table '${key}' must be a 2-D ${kind.tableDtypes.join("/")} tensor, got ${dtype} [${shape.join(", ")}]`);
  }
  return [shape[0]!, shape[1]!];
}

/**
 * Original state dict (BLT model and/or entropy model keys, possibly mixed in one map; `entropy` may hold the
 * entropy model's keys separately) -> HF state dict. Tensors are shared, not copied, except the hash tables, which
 * are stacked in index order: table i occupies rows [i*V, (i+1)*V) of the fused [F*|G|*V, dE] table.
 * Checks: indices 0..T-1 all present (the HF converter would silently leave zero rows), equal [V, dE] shapes,
 * T and V agree with `config` when given, no two inputs map to the same HF key.
 */
export function convertOriginalStateDict(
  tensors: Map<string, RawTensor>,
  config?: BltHashConfig,
  entropy?: Map<string, RawTensor>,
): Map<string, RawTensor> {
  return convertOriginal(RAW_TENSORS, tensors, config, entropy);
}

/** `convertOriginalStateDict` for any tensor kind (e.g. lazy TensorSources). */
export function convertOriginal<T>(
  kind: TensorKind<T>,
  tensors: Map<string, T>,
  config?: BltHashConfig,
  entropy?: Map<string, T>,
): Map<string, T> {
  const out = new Map<string, T>();
  const hashTables = new Map<number, T>();
  const put = (hfKey: string, t: T, from: string) => {
    if (out.has(hfKey)) throw new Error(`blt-keys: original key '${from}' maps to '${hfKey}', which is already present`);
    out.set(hfKey, t);
  };
  for (const [key, t] of [...tensors, ...(entropy ?? [])]) {
    const hash = ORIGINAL_HASH_RE.exec(key);
    if (hash !== null) {
      hashTables.set(Number(hash[1]), t);
      continue;
    }
    const hfKey = renameOriginalKeyToHf(key);
    if (entropy !== undefined && tensors.has(key) && hfKey.startsWith("model.patcher.")) {
      throw new Error(`blt-keys: entropy-model key '${key}' found in the BLT state dict while a separate entropy map was given`);
    }
    put(hfKey, t, key);
  }

  if (hashTables.size > 0) {
    const count = hashTables.size;
    const expectedCount = hashTableCount(config);
    if (expectedCount !== undefined && expectedCount !== count) {
      throw new Error(`blt-keys: found ${count} hash tables but the config implies ${expectedCount} (functions x group sizes)`);
    }
    let rows = -1;
    let dim = -1;
    const ordered: T[] = [];
    for (let i = 0; i < count; i++) {
      const key = `encoder_hash_tok_embedding.${i}.weight`;
      const t = hashTables.get(i);
      if (t === undefined) {
        throw new Error(`blt-keys: hash table '${key}' is missing (have indices ${[...hashTables.keys()].sort((a, b) => a - b).join(", ")})`);
      }
      const [r, d] = requireTableMatrix(kind, key, t);
      if (i === 0) [rows, dim] = [r, d];
      else if (r !== rows || d !== dim) {
        throw new Error(`blt-keys: hash table '${key}' has shape [${r}, ${d}], table 0 has [${rows}, ${dim}]`);
      } else if (kind.dtypeOf(t) !== kind.dtypeOf(ordered[0]!)) {
        throw new Error(`blt-keys: hash table '${key}' is ${kind.dtypeOf(t)}, table 0 is ${kind.dtypeOf(ordered[0]!)}`);
      }
      ordered.push(t);
    }
    const vocab = config?.encoder_hash_byte_group_vocab;
    if (vocab !== undefined && vocab !== rows) {
      throw new Error(`blt-keys: hash tables have ${rows} rows but encoder_hash_byte_group_vocab is ${vocab}`);
    }
    put(HF_HASH_KEY, kind.concat(ordered, HF_HASH_KEY), "encoder_hash_tok_embedding.*"); // [T*V, dE]
  }
  return out;
}

/**
 * HF state dict -> original keys. The fused hash table is split into `encoder_hash_tok_embedding.{i}.weight`
 * (copies), using the table count F*|G| from `config` (or `encoder_hash_byte_group_vocab` rows per table).
 * Entropy-model tensors go to `entropy` (unprefixed keys, as in the entropy checkpoint), the rest to `blt`.
 */
export function convertHfStateDictToOriginal(
  tensors: Map<string, RawTensor>,
  config: BltHashConfig,
): { blt: Map<string, RawTensor>; entropy: Map<string, RawTensor> } {
  return convertHfToOriginal(RAW_TENSORS, tensors, config);
}

/** `convertHfStateDictToOriginal` for any tensor kind (e.g. lazy TensorSources). */
export function convertHfToOriginal<T>(
  kind: TensorKind<T>,
  tensors: Map<string, T>,
  config: BltHashConfig,
): { blt: Map<string, T>; entropy: Map<string, T> } {
  const blt = new Map<string, T>();
  const entropy = new Map<string, T>();
  for (const [key, t] of tensors) {
    if (key !== HF_HASH_KEY) {
      (key.startsWith("model.patcher.") ? entropy : blt).set(hfKeyToOriginal(key), t);
      continue;
    }
    const [totalRows] = requireTableMatrix(kind, key, t);
    let count = hashTableCount(config);
    const vocab = config.encoder_hash_byte_group_vocab;
    if (count === undefined) {
      if (vocab === undefined || vocab <= 0) {
        throw new Error(`blt-keys: splitting '${key}' needs encoder_hash_byte_group_size or encoder_hash_byte_group_vocab`);
      }
      count = totalRows / vocab;
    }
    const rows = totalRows / count;
    if (!Number.isInteger(count) || count <= 0 || !Number.isInteger(rows) || (vocab !== undefined && rows !== vocab)) {
      throw new Error(
        `blt-keys: '${key}' has ${totalRows} rows, not ${count} tables` + (vocab === undefined ? "" : ` of ${vocab} rows`),
      );
    }
    for (let i = 0; i < count; i++) {
      // table i = rows [i*V, (i+1)*V) of the fused [T*V, dE] table
      const name = `encoder_hash_tok_embedding.${i}.weight`;
      blt.set(name, kind.slice(t, i * rows, rows, name));
    }
  }
  return { blt, entropy };
}
