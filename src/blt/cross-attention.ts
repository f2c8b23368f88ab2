/**
 * Cross-attention block of the local encoder (patches attend to their bytes, paper §3.2.2 eqs. 5-8) and of the
 * local decoder (bytes attend to one patch, paper §3.3 eqs. 9-12).
 *
 *   Q = W_q RMSNorm_q(X),  K = W_k RMSNorm_kv(C),  V = W_v RMSNorm_kv(C)       (pre-norm, no RoPE, no bias)
 *   A = W_o softmax(Q K^T / sqrt(d_h) + M) V                                     (per head, grouped-query heads: src/nn/attention.ts)
 *   returns X + A
 *
 * The caller adds X once more, so a layer computes 2X + A: the "double residual" of Meta's code and HF
 * (both add the block's input to its output once inside and once outside), which the released weights were
 * trained with. The paper writes a single residual.
 * The mask M is one contiguous key range per query (a patch's bytes, or a byte's patch): see the callers.
 * HF names (`q_norm`, `k_norm`, `q_proj`, ...) so state-dict keys match `cross_attn_layers.i.*`.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { RMSNorm } from '../nn/layers.js';
import { Attention } from '../nn/attention.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';
import type { LayerKvCache } from '../nn/transformer.js';

export interface CrossAttentionConfig {
  dim: number;
  heads: number;
  kvHeads: number;
  eps: number;
}

/** The q/k/v/o projections and head checks are nn/attention.ts's, shared with self-attention; the norms are its own. */
export class CrossAttention extends Attention {
  q_norm: RMSNorm;
  k_norm: RMSNorm;

  constructor(readonly cfg: CrossAttentionConfig, rng: Rng) {
    super(cfg, rng, 'CrossAttention');
    this.q_norm = new RMSNorm(cfg.dim, cfg.eps);
    this.k_norm = new RMSNorm(cfg.dim, cfg.eps);
  }

  // [doc:cross-attn]
  /**
   * xq [B, Tq, dim] queries, xkv [B, Tk, dim] context, ranges [B, Tq] -> xq + A  [B, Tq, dim]. With a `cache`
   * (generation's decoder) xkv are only the context rows new since the last call (null: none): their keys and
   * values are appended to it, and the ranges index all the rows it holds.
   */
  forward(xq: Tensor, xkv: Tensor | null, ranges: KeyRanges, cache?: LayerKvCache): Tensor {
    const q = this.queries(this.q_norm.forward(xq));  // [B, Tq, H, Dh]
    const [k, v] = this.context(xkv, cache);           // [B, Tk, Hkv, Dh] each
    return ops.add(xq, this.attend(q, k, v, ranges)); // [B, Tq, dim]
  }

  /** K = W_k RMSNorm_kv(C) and V = W_v RMSNorm_kv(C) (one norm for both), of xkv or of all rows `cache` holds. */
  private context(xkv: Tensor | null, cache?: LayerKvCache): [Tensor, Tensor] {
    const kv = xkv ? this.keysValues(this.k_norm.forward(xkv)) : null; // [B, Tk, Hkv, Dh] each
    if (!cache) {
      if (!kv) throw new Error('CrossAttention: no context rows (xkv is null and there is no cache)');
      return [kv.k, kv.v];
    }
    return kv ? cache.append(kv.k, kv.v) : [cache.k.tensor, cache.v.tensor];
  }
}
