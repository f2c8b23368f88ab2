/**
 * The transformer layer shared by every BLT part (entropy model, local encoder, global transformer, local
 * decoder): pre-norm, RoPE self-attention with grouped-query heads, SwiGLU (the Llama block the paper's §3 builds on).
 *
 *   u = x + Attn(RMSNorm_1(x))
 *   y = u + FFN(RMSNorm_2(u))
 *
 * Field names are Hugging Face's (`self_attn.q_proj`, `input_layernorm`, ...), so state-dict keys match.
 *
 * Incremental decoding: every forward takes an optional key/value cache. With one, the n rows given are the
 * newest; their keys and values are appended to the cache and they attend to all rows it holds. Without one the
 * rows attend to each other only: the same computation with an empty cache.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module } from './module.js';
import { RMSNorm, SwiGLU } from './layers.js';
import { Attention } from './attention.js';
import * as ops from '../ops/index.js';
import { RowBuffer } from './row-buffer.js';
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
/** RoPE self-attention: Attn(x) with Q, K rotated by their positions (RoPE, Su et al. 2021). */
export class SelfAttention extends Attention {
  constructor(readonly cfg: TransformerLayerConfig, rng: Rng) {
    super(cfg, rng, 'SelfAttention');
  }

  /**
   * x [B, n, dim] at `positions` int32 [n] -> [B, n, dim]. `ranges` [B, n] give every query's key range (causal,
   * windowed, ...) over the rows it can see: its own n rows, or with a `cache` the rows the cache holds, the
   * earlier ones first (the n new rows' keys and values are appended to it).
   */
  forward(x: Tensor, positions: Tensor, ranges: KeyRanges, cache?: LayerKvCache): Tensor {
    const q0 = this.queries(x), { k: k0, v } = this.keysValues(x);  // [B, n, H, Dh], [B, n, Hkv, Dh]
    const q = ops.rope(q0, positions, this.cfg.ropeTheta);
    const k = ops.rope(k0, positions, this.cfg.ropeTheta);
    const [keys, values] = cache ? cache.append(k, v) : [k, v];     // [B, rows, Hkv, Dh]
    return this.attend(q, keys, values, ranges);                      // [B, n, dim]
  }
}

/**
 * Keys (RoPE applied) and values of the rows one attention layer holds, in buffers with spare rows
 * (row-buffer.ts): [B, capacity, Hkv, Dh] each, row t of the sequence at index t - base.
 */
export class LayerKvCache {
  readonly k = new RowBuffer();
  readonly v = new RowBuffer();

  /**
   * Writes the keys and values of the n new rows after the rows held; returns the buffers, which the key ranges
   * index (in a KvCache, KvCache.ranges made room for the rows first, so that the indices it gave stay valid).
   */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    this.k.append(k);
    this.v.append(v);
    return [this.k.tensor, this.v.tensor];
  }

  dispose(): void {
    this.k.dispose();
    this.v.dispose();
  }
}

/**
 * Key/value cache of one stack of layers: it holds rows [first, end) of the sequence (absolute positions). Every
 * layer's buffers see the same calls, so they share one `base` (the position of buffer row 0); key ranges given to
 * a cached forward index the buffers, so they are absolute ranges minus `base`.
 */
export class KvCache {
  readonly layers: LayerKvCache[];
  /** the first row held (rows before it were dropped: no later query reads them) */
  first = 0;
  /** one past the last row held */
  end = 0;

  constructor(numLayers: number) {
    this.layers = Array.from({ length: numLayers }, () => new LayerKvCache());
  }

  private each(f: (b: RowBuffer) => void): void {
    for (const c of this.layers) { f(c.k); f(c.v); }
  }

  /** Forgets rows ≥ r, so that they can be computed again. */
  truncate(r: number): void {
    if (r >= this.end) return;
    this.end = Math.max(this.first, r);
    this.each((b) => b.truncate(r));
  }

  /**
   * Drops the rows before `row`, rounded down to a multiple of 4: the attention kernels group keys by 4, so the
   * rows kept are grouped as in a forward over the whole sequence and give the same sums.
   */
  dropBefore(row: number): void {
    const from = Math.min(row, this.end) & ~3;
    if (from <= this.first) return;
    this.first = from;
    this.each((b) => b.dropBefore(from));
  }

  /** Drops every row; the next rows start at `row` (e.g. a new chunk of the entropy model). */
  restartAt(row: number): void {
    this.first = this.end = row;
    this.each((b) => b.restartAt(row));
  }

  /**
   * Key ranges of the n new rows (absolute [start, end) each) as the buffers index them, on `device`. It first
   * makes room in every buffer for the n rows, which may move the rows held and so change `base`: the ranges are
   * valid for the forward that appends these n rows.
   */
  ranges(start: ArrayLike<number>, end: ArrayLike<number>, device: Device): KeyRanges {
    const n = start.length;
    this.each((b) => b.reserve(n));
    const base = this.layers[0]?.k.base ?? this.first;
    const s = Int32Array.from(start, (v) => v - base), e = Int32Array.from(end, (v) => v - base);
    return { start: ops.tensor(s, [1, n], { device }), end: ops.tensor(e, [1, n], { device }) };
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

  /** x [B, n, dim] -> [B, n, dim]; `cache` is this layer's (see SelfAttention.forward). */
  forward(x: Tensor, positions: Tensor, ranges: KeyRanges, cache?: LayerKvCache): Tensor {
    const u = ops.add(x, this.self_attn.forward(this.input_layernorm.forward(x), positions, ranges, cache));
    return ops.add(u, this.mlp.forward(this.post_attention_layernorm.forward(u)));
  }
}

/**
 * A stack of layers on x [B, n, dim]. With the stack's `cache` the n rows are rows cache.end .. cache.end+n-1 of
 * the sequence (the cache advances by n); `each(l, h)` sees every layer's output.
 */
export function forwardLayers(layers: readonly TransformerLayer[], x: Tensor, positions: Tensor, ranges: KeyRanges,
  cache?: KvCache, each?: (l: number, h: Tensor) => void): Tensor {
  let h = x;
  layers.forEach((layer, l) => {
    h = layer.forward(h, positions, ranges, cache?.layers[l]); // [B, n, dim]
    each?.(l, h);
  });
  if (cache) cache.end += x.shape[1];
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
