/**
 * Cross-attention block of the local encoder (patches attend to their bytes, paper §3.2.2 eqs. 5-8) and of the
 * local decoder (bytes attend to one patch, paper §3.3 eqs. 9-12). Spec §3.4.3, §3.4.6; golden README §4.5.
 *
 *   Q = W_q RMSNorm_q(X),  K = W_k RMSNorm_kv(C),  V = W_v RMSNorm_kv(C)       (pre-norm, no RoPE, no bias)
 *   A = W_o softmax(Q K^T / sqrt(d_h) + M) V                                     (per head, GQA like §6.3)
 *   returns X + A
 *
 * The caller adds X once more, so a layer computes 2X + A: the "double residual" of Meta's code and HF
 * (spec §3.4.6), which the released weights were trained with. The paper writes a single residual.
 * The mask M is one contiguous key range per query (a patch's bytes, or a byte's patch): see the callers.
 * HF names (`q_norm`, `k_norm`, `q_proj`, ...) so state-dict keys match `cross_attn_layers.i.*`.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module } from '../nn/module.js';
import { Linear, RMSNorm } from '../nn/layers.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';

export interface CrossAttentionConfig {
  dim: number;
  heads: number;
  kvHeads: number;
  eps: number;
}

export class CrossAttention extends Module {
  q_norm: RMSNorm;
  k_norm: RMSNorm;
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  readonly headDim: number;

  constructor(readonly cfg: CrossAttentionConfig, rng: Rng) {
    super();
    const { dim, heads, kvHeads, eps } = cfg;
    if (dim % heads !== 0) throw new Error(`CrossAttention: dim ${dim} is not divisible by ${heads} heads`);
    if (heads % kvHeads !== 0) throw new Error(`CrossAttention: ${heads} heads are not divisible by ${kvHeads} kv heads`);
    this.headDim = dim / heads;
    this.q_norm = new RMSNorm(dim, eps);
    this.k_norm = new RMSNorm(dim, eps);
    this.q_proj = new Linear(dim, heads * this.headDim, { rng });
    this.k_proj = new Linear(dim, kvHeads * this.headDim, { rng });
    this.v_proj = new Linear(dim, kvHeads * this.headDim, { rng });
    this.o_proj = new Linear(heads * this.headDim, dim, { rng });
  }

  // [doc:cross-attn]
  /** xq [B, Tq, dim] queries, xkv [B, Tk, dim] context, ranges [B, Tq] -> xq + A  [B, Tq, dim]. */
  forward(xq: Tensor, xkv: Tensor, ranges: KeyRanges): Tensor {
    const [B, Tq] = xq.shape;
    const Tk = xkv.shape[1];
    const { heads, kvHeads } = this.cfg;
    const Dh = this.headDim;
    const kvn = this.k_norm.forward(xkv);                                                 // one norm for K and V
    const q = ops.reshape(this.q_proj.forward(this.q_norm.forward(xq)), [B, Tq, heads, Dh]); // [B, Tq, H, Dh]
    const k = ops.reshape(this.k_proj.forward(kvn), [B, Tk, kvHeads, Dh]);               // [B, Tk, Hkv, Dh]
    const v = ops.reshape(this.v_proj.forward(kvn), [B, Tk, kvHeads, Dh]);               // [B, Tk, Hkv, Dh]
    const o = ops.attention(q, k, v, ranges);                                             // [B, Tq, H, Dh]
    return ops.add(xq, this.o_proj.forward(ops.reshape(o, [B, Tq, heads * Dh])));         // [B, Tq, dim]
  }
}
