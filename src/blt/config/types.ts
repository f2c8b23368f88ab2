// The shape of a BLT configuration: what every part of the model reads (the widths, heads and layers of the four
// transformer stacks, the hash n-gram tables, the patching rule) and the behaviour switches where Meta's code and
// the Hugging Face port differ (docs/differences.md). Reading and writing HF's config.json: parse.ts, write.ts;
// checks across parts: validate.ts; ready-made shapes: shapes.ts; behaviour presets: behaviour.ts.

export type PatchingMode = "entropy" | "byte" | "static" | "space" | "bpe" | "bpe_patcher";
export const PATCHING_MODES: readonly PatchingMode[] = ["entropy", "byte", "static", "space", "bpe", "bpe_patcher"];

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
/** Where HF and Meta's reference code differ (docs/differences.md). */
export interface BltBehaviour {
  /** local encoder/decoder self-attention window W (attend iff 0 ≤ q-k ≤ W-1); null = plain causal (HF) */
  localWindow: number | null;
  /** entropy-model attention window; null = plain causal (HF), 512 in Meta's code */
  patcherWindow: number | null;
  /**
   * the entropy model runs on independent chunks of this many tokens (RoPE positions restart at 0 in each); null =
   * the entropy model's max_position_embeddings (HF runs the whole row: identical up to that length), 8192 in
   * Meta's code. See ../entropy-context.ts.
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
