// Forward FLOPs per byte of a BLT (paper §4.5, App. B eq. 13 and Table 11).
//
// Chinchilla-style counting: feed-forward, QKVO projections, attention, output projection; embedding
// lookups (byte and hash) are 0 FLOPs; training ≈ 3 × forward. The primitive formulas below are our reading of
// the paper's Table 11, whose constants we could not check against a released FLOPs script; what does not depend
// on them is that the global term scales as 1/n_p and the local terms do not depend on n_p:
//   Attention(l, h_k, n_h, m)        = 4·l·h_k·n_h·(m+1)/2          (causal average context)
//   QKVO(l, h, r)                    = (2r+2)·2·l·h²                 (8·l·h² for self-attention, r = 1)
//   FeedForward(l, h, d_ff)          = 2·l·2·h·d_ff·h                (d_ff = 4: SwiGLU-2/3 costs as a 4h MLP)
//   DeEmbedding(h, V)                = 2·h·V
//   CrossAttention(l, h_k, n_h, p, r) = Attention(l, h_k, n_h, p) + QKVO(l, h_k·n_h, r)
//   TransfFL(h, l, m, V)             = FeedForward + QKVO(r=1) + Attention + DeEmbedding
// BLT per byte (eq. 13):
//   FL = TransfFL(h_G, l_G, m = n_ctx/n_p, 0)/n_p + TransfFL(h_E, l_E, w_E, 0) + TransfFL(h_D, l_D, w_D, V)
//      + CrossAttn(h_E, l_E^x, m = n_p, r = n_p/k)·k/n_p + CrossAttn(h_D, l_D^x, m = k, r = k/n_p)
// where l^x = the number of cross-attention layers actually present in the config (the paper writes
// l_E, l_D; equal for its models: 1 encoder layer, and decoder cross-attention at every layer).

import type { BltConfig } from "./config/types.js";

// [doc:flops-primitives]
/** Eq. (Table 11) Attention(l, h_k, n_heads, m) = 4·l·h_k·n_heads·(m+1)/2. */
export function attentionFlops(layers: number, headDim: number, nHeads: number, context: number): number {
  return (4 * layers * headDim * nHeads * (context + 1)) / 2;
}

/** Eq. (Table 11) QKVO(l, h, r) = (2r + 2)·2·l·h², r = queries-to-keys ratio. */
export function qkvoFlops(layers: number, hidden: number, ratio: number): number {
  return (2 * ratio + 2) * 2 * layers * hidden * hidden;
}

/** Eq. (Table 11) FeedForward(l, h, d_ff) = 2·l·2·h·d_ff·h. */
export function feedForwardFlops(layers: number, hidden: number, ffnMultiplier = 4): number {
  return 2 * layers * 2 * hidden * ffnMultiplier * hidden;
}

/** Eq. (Table 11) DeEmbedding(h, V) = 2·h·V. */
export function deEmbeddingFlops(hidden: number, vocab: number): number {
  return 2 * hidden * vocab;
}

/** CrossAttention(l, h_k, n_heads, p, r) = Attention(l, h_k, n_heads, p) + QKVO(l, h_k·n_heads, r). */
export function crossAttentionFlops(layers: number, headDim: number, nHeads: number, context: number, ratio: number): number {
  return attentionFlops(layers, headDim, nHeads, context) + qkvoFlops(layers, headDim * nHeads, ratio);
}

/** TransfFL(h, l, m, V) per position: FFN + self-attention projections + attention + output head. */
export function transformerFlops(hidden: number, layers: number, context: number, vocab: number, nHeads: number, ffnMultiplier = 4): number {
  const headDim = hidden / nHeads;
  return (
    feedForwardFlops(layers, hidden, ffnMultiplier) +
    qkvoFlops(layers, hidden, 1) +
    attentionFlops(layers, headDim, nHeads, context) +
    deEmbeddingFlops(hidden, vocab)
  );
}
// [/doc:flops-primitives]

export interface BltFlopsOptions {
  /** average patch size n_p (bytes per patch) */
  patchSize: number;
  /** sequence length in bytes n_ctx (default 8192, the paper's Llama-2-data context) */
  contextBytes?: number;
  /** global attention context in patches; default n_ctx / n_p (override to hold m fixed) */
  globalContext?: number;
  /** local attention window w_E = w_D (default 512) */
  localWindow?: number;
  /** decoder output vocabulary V (paper: 256) */
  outputVocab?: number;
  /** FFN multiplier d_ff (paper: 4) */
  ffnMultiplier?: number;
}

export interface BltFlopsBreakdown {
  global: number;
  encoder: number;
  decoder: number;
  encoderCross: number;
  decoderCross: number;
  total: number;
}

// [doc:flops-per-byte]
/** Forward FLOPs per byte of `cfg` at average patch size n_p (eq. 13), term by term. */
export function bltFlopsPerByte(cfg: BltConfig, options: BltFlopsOptions): BltFlopsBreakdown {
  const np = options.patchSize;
  if (!(np > 0)) throw new Error(`bltFlopsPerByte: patchSize must be > 0, got ${np}`);
  const nctx = options.contextBytes ?? 8192;
  const m = options.globalContext ?? nctx / np;
  const w = options.localWindow ?? 512;
  const V = options.outputVocab ?? 256;
  const dff = options.ffnMultiplier ?? 4;
  const { encoder: E, decoder: D, global: G, crossAttnK: k } = cfg;
  const encCrossLayers = E.crossAttnAllLayers ? E.numLayers : 1;
  const decCrossLayers = D.crossAttnAllLayers ? D.numLayers : 1;

  const global = transformerFlops(G.hiddenSize, G.numLayers, m, 0, G.numHeads, dff) / np;
  const encoder = transformerFlops(E.hiddenSize, E.numLayers, w, 0, E.numHeads, dff);
  const decoder = transformerFlops(D.hiddenSize, D.numLayers, w, V, D.numHeads, dff);
  const encoderCross = (crossAttentionFlops(encCrossLayers, E.headDim, E.numHeads, np, np / k) * k) / np;
  const decoderCross = crossAttentionFlops(decCrossLayers, D.headDim, D.numHeads, k, k / np);
  return { global, encoder, decoder, encoderCross, decoderCross, total: global + encoder + decoder + encoderCross + decoderCross };
}
