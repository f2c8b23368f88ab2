/**
 * The transformer layer shared by every BLT part (entropy model, local encoder, global transformer, local
 * decoder), spec §6: pre-norm, RoPE self-attention with grouped-query heads, SwiGLU.
 *
 *   u = x + Attn(RMSNorm_1(x))          (eq. 6.1)
 *   y = u + FFN(RMSNorm_2(u))
 *
 * Field names are Hugging Face's (`self_attn.q_proj`, `input_layernorm`, ...), so state-dict keys match.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module } from './module.js';
import { Linear, RMSNorm, SwiGLU } from './layers.js';
import * as ops from '../ops/index.js';
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
