/**
 * The transformer layer shared by every BLT part (entropy model, local encoder, global transformer, local
 * decoder), spec §6: pre-norm, RoPE self-attention with grouped-query heads, SwiGLU.
 *
 *   u = x + Attn(RMSNorm_1(x))          (eq. 6.1)
 *   y = u + FFN(RMSNorm_2(u))
 *
 * Field names are Hugging Face's (`self_attn.q_proj`, `input_layernorm`, ...), so state-dict keys match.
 *
 * `forwardCached` is the same layer for incremental decoding (spec §2.10): n new rows attend to the cached
 * keys/values of the earlier rows and to their own, op for op as `forward` computes those rows.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module } from './module.js';
import { Linear, RMSNorm, SwiGLU } from './layers.js';
import * as ops from '../ops/index.js';
import { keep } from '../tensor/scope.js';
import type { KeyRanges } from '../ops/attention.js';
import type { Device } from '../tensor/dtype.js';

export interface TransformerLayerConfig {
  dim: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  eps: number;
  ropeTheta: number;
}

// [doc:self-attention]
export class SelfAttention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  readonly headDim: number;
  constructor(readonly cfg: TransformerLayerConfig, rng: Rng) {
    super();
    const { dim, heads, kvHeads } = cfg;
    if (dim % heads !== 0) throw new Error(`SelfAttention: dim ${dim} is not divisible by ${heads} heads`);
    if (heads % kvHeads !== 0) throw new Error(`SelfAttention: ${heads} heads are not divisible by ${kvHeads} kv heads`);
    this.headDim = dim / heads;
    this.q_proj = new Linear(dim, heads * this.headDim, { rng });
    this.k_proj = new Linear(dim, kvHeads * this.headDim, { rng });
    this.v_proj = new Linear(dim, kvHeads * this.headDim, { rng });
    this.o_proj = new Linear(heads * this.headDim, dim, { rng });
  }

  /** x [B, T, dim], positions int32 [T], ranges: the key range of every query (causal, windowed, ...). */
  forward(x: Tensor, positions: Tensor, ranges: KeyRanges): Tensor {
    const [B, T] = x.shape;
    const { heads, kvHeads, ropeTheta } = this.cfg;
    const Dh = this.headDim;
    let q = ops.reshape(this.q_proj.forward(x), [B, T, heads, Dh]);   // [B, T, H, Dh]
    let k = ops.reshape(this.k_proj.forward(x), [B, T, kvHeads, Dh]); // [B, T, Hkv, Dh]
    const v = ops.reshape(this.v_proj.forward(x), [B, T, kvHeads, Dh]);
    q = ops.rope(q, positions, ropeTheta);
    k = ops.rope(k, positions, ropeTheta);
    const o = ops.attention(q, k, v, ranges);                          // [B, T, H, Dh]
    return this.o_proj.forward(ops.reshape(o, [B, T, heads * Dh]));    // [B, T, dim]
  }

  /**
   * `forward` for n new rows x [B, n, dim] at `positions` [n]: their keys/values are appended to `cache`, and
   * `ranges` [B, n] index all cached rows (the earlier ones first).
   */
  forwardCached(x: Tensor, positions: Tensor, ranges: KeyRanges, cache: LayerKvCache): Tensor {
    const [B, n] = x.shape;
    const { heads, kvHeads, ropeTheta } = this.cfg;
    const Dh = this.headDim;
    let q = ops.reshape(this.q_proj.forward(x), [B, n, heads, Dh]);   // [B, n, H, Dh]
    let k = ops.reshape(this.k_proj.forward(x), [B, n, kvHeads, Dh]); // [B, n, Hkv, Dh]
    const v = ops.reshape(this.v_proj.forward(x), [B, n, kvHeads, Dh]);
    q = ops.rope(q, positions, ropeTheta);
    k = ops.rope(k, positions, ropeTheta);
    cache.append(k, v);                                                // [B, rows + n, Hkv, Dh]
    const o = ops.attention(q, cache.k!, cache.v!, ranges);            // [B, n, H, Dh]
    return this.o_proj.forward(ops.reshape(o, [B, n, heads * Dh]));    // [B, n, dim]
  }
}

/** Replaces `old` by `t` in a long-lived slot: `t` is kept across scopes, `old` is freed. */
export function swapKept(old: Tensor | null | undefined, t: Tensor): Tensor {
  if (old && old !== t) old.dispose();
  return keep(t);
}

/** Appends rows along axis 1 of a long-lived tensor (or starts it); the result outlives the current scope. */
export function appendKept(old: Tensor | null, rows: Tensor): Tensor {
  return swapKept(old, old ? ops.concat([old, rows], 1) : rows);
}

/** Keys (RoPE applied) and values of the rows one attention layer has seen: [B, rows, Hkv, Dh] each. */
export class LayerKvCache {
  k: Tensor | null = null;
  v: Tensor | null = null;

  append(k: Tensor, v: Tensor): void {
    this.k = appendKept(this.k, k);
    this.v = appendKept(this.v, v);
  }

  /** Keeps rows 0..r-1 only. */
  truncate(r: number): void {
    if (this.k) this.k = swapKept(this.k, ops.narrow(this.k, 1, 0, r)); // [B, r, Hkv, Dh]
    if (this.v) this.v = swapKept(this.v, ops.narrow(this.v, 1, 0, r));
  }

  dispose(): void {
    this.k?.dispose();
    this.v?.dispose();
  }
}

/** Key/value cache of one stack of transformer layers: rows 0..rows-1 of every layer. */
export class KvCache {
  readonly layers: LayerKvCache[];
  rows = 0;

  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => new LayerKvCache());
  }

  /** Forgets rows >= r, so that they can be recomputed. */
  truncate(r: number): void {
    if (r >= this.rows) return;
    for (const c of this.layers) c.truncate(r);
    this.rows = r;
  }

  dispose(): void {
    for (const c of this.layers) c.dispose();
  }
}

// [doc:transformer-layer]
export class TransformerLayer extends Module {
  input_layernorm: RMSNorm;
  self_attn: SelfAttention;
  post_attention_layernorm: RMSNorm;
  mlp: SwiGLU;
  constructor(cfg: TransformerLayerConfig, rng: Rng) {
    super();
    this.input_layernorm = new RMSNorm(cfg.dim, cfg.eps);
    this.self_attn = new SelfAttention(cfg, rng);
    this.post_attention_layernorm = new RMSNorm(cfg.dim, cfg.eps);
    this.mlp = new SwiGLU(cfg.dim, cfg.hidden, { rng });
  }

  forward(x: Tensor, positions: Tensor, ranges: KeyRanges): Tensor {
    const u = ops.add(x, this.self_attn.forward(this.input_layernorm.forward(x), positions, ranges));
    return ops.add(u, this.mlp.forward(this.post_attention_layernorm.forward(u)));
  }

  /** `forward` for n new rows x [B, n, dim] (see SelfAttention.forwardCached); `cache` is this layer's. */
  forwardCached(x: Tensor, positions: Tensor, ranges: KeyRanges, cache: LayerKvCache): Tensor {
    const u = ops.add(x, this.self_attn.forwardCached(this.input_layernorm.forward(x), positions, ranges, cache));
    return ops.add(u, this.mlp.forward(this.post_attention_layernorm.forward(u)));
  }
}

/**
 * A stack of layers on n new rows x [B, n, dim] at positions cache.rows .. cache.rows+n-1, with the stack's
 * key/value cache (advanced by n). `ranges` [B, n] index all rows.
 */
export function forwardLayersCached(layers: readonly TransformerLayer[], x: Tensor, positions: Tensor,
  ranges: KeyRanges, cache: KvCache): Tensor {
  let h = x;
  layers.forEach((layer, l) => { h = layer.forwardCached(h, positions, ranges, cache.layers[l]); }); // [B, n, dim]
  cache.rows += x.shape[1];
  return h;
}

/**
 * Causal key ranges, optionally with a sliding window of W keys (query t sees max(0, t-W+1) .. t).
 * Returns int32 [B, T] start/end tensors on `device`.
 */
export function causalRanges(B: number, T: number, window: number | null = null, device: Device = 'cpu'): KeyRanges {
  const start = new Int32Array(B * T), end = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      start[b * T + t] = window === null ? 0 : Math.max(0, t - window + 1);
      end[b * T + t] = t + 1;
    }
  }
  return { start: ops.tensor(start, [B, T], { device }), end: ops.tensor(end, [B, T], { device }) };
}

/** positions 0..T-1 as int32 on `device`. */
export function positionsTensor(T: number, device: Device = 'cpu'): Tensor {
  return ops.arange(0, T, { device });
}
