/**
 * What every attention block of the BLT shares: the query, key, value and output projections of multi-head
 * attention with grouped-query heads (Vaswani et al. 2017; Ainslie et al. 2023), in Hugging Face's field names
 * (`q_proj`, `k_proj`, `v_proj`, `o_proj`, no bias), so state-dict keys match.
 *
 *   Q = X W_q : [B, Tq, H, Dh]      K = C W_k, V = C W_v : [B, Tk, Hkv, Dh]      (query head h reads kv head ⌊h / (H/Hkv)⌋)
 *   A = W_o concat_h( softmax(Q_h K_gᵀ / √Dh + M) V_g ) : [B, Tq, dim]
 *
 * The mask M is one contiguous key range per query (ops.attention). Self-attention (src/nn/transformer.ts) takes
 * X = C and adds RoPE to Q and K; the BLT's cross-attention (src/blt/cross-attention.ts) normalises X and C first.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module } from './module.js';
import { Linear } from './layers.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';

export interface AttentionHeads {
  dim: number;
  heads: number;
  kvHeads: number;
}

export class Attention extends Module {
  q_proj: Linear;
  k_proj: Linear;
  v_proj: Linear;
  o_proj: Linear;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;

  /** `who` names the block in shape errors. */
  constructor(cfg: AttentionHeads, rng: Rng, who: string) {
    super();
    const { dim, heads, kvHeads } = cfg;
    if (dim % heads !== 0) throw new Error(`${who}: dim ${dim} is not divisible by ${heads} heads`);
    if (heads % kvHeads !== 0) throw new Error(`${who}: ${heads} heads are not divisible by ${kvHeads} kv heads`);
    this.heads = heads;
    this.kvHeads = kvHeads;
    this.headDim = dim / heads;
    this.q_proj = new Linear(dim, heads * this.headDim, { rng });
    this.k_proj = new Linear(dim, kvHeads * this.headDim, { rng });
    this.v_proj = new Linear(dim, kvHeads * this.headDim, { rng });
    this.o_proj = new Linear(heads * this.headDim, dim, { rng });
  }

  /** Q = X W_q split into heads: x [B, T, dim] -> [B, T, H, Dh]. */
  protected queries(x: Tensor): Tensor {
    const [B, T] = x.shape;
    return ops.reshape(this.q_proj.forward(x), [B, T, this.heads, this.headDim]); // [B, T, H, Dh]
  }

  /** K = C W_k and V = C W_v split into kv heads: c [B, T, dim] -> two [B, T, Hkv, Dh]. */
  protected keysValues(c: Tensor): { k: Tensor; v: Tensor } {
    const [B, T] = c.shape;
    return {
      k: ops.reshape(this.k_proj.forward(c), [B, T, this.kvHeads, this.headDim]), // [B, T, Hkv, Dh]
      v: ops.reshape(this.v_proj.forward(c), [B, T, this.kvHeads, this.headDim]), // [B, T, Hkv, Dh]
    };
  }

  /** A = W_o softmax(Q Kᵀ/√Dh + M) V, heads merged: q [B, Tq, H, Dh], k, v [B, Tk, Hkv, Dh], ranges [B, Tq] -> [B, Tq, dim]. */
  protected attend(q: Tensor, k: Tensor, v: Tensor, ranges: KeyRanges): Tensor {
    const [B, Tq] = q.shape;
    const o = ops.attention(q, k, v, ranges); // [B, Tq, H, Dh]
    return this.o_proj.forward(ops.reshape(o, [B, Tq, this.heads * this.headDim])); // [B, Tq, dim]
  }
}
