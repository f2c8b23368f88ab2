/**
 * A plain byte-level causal transformer language model (the architecture of Meta's entropy model: token embedding
 * 260×d → l pre-norm blocks (src/nn/transformer.ts) → RMSNorm → untied Linear d→260).
 *
 * Used twice: as the stand-in entropy model when the BLT's own entropy-model module is absent, and as the
 * byte-level baseline of the demo (same budget, side-by-side bits-per-byte). Field names follow HF's
 * `BltPatcher` (`embed_tokens`, `layers.N.*`, `norm`, `lm_head`), so its state dict has the entropy model's keys.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module } from '../nn/module.js';
import { Embedding, Linear, RMSNorm } from '../nn/layers.js';
import { TransformerLayer, causalRanges, positionsTensor } from '../nn/transformer.js';
import * as ops from '../ops/index.js';

export interface ByteLmConfig {
  vocabSize: number;
  dim: number;
  layers: number;
  heads: number;
  /** SwiGLU hidden width */
  hidden: number;
  ropeTheta: number;
  eps: number;
  /** sliding attention window in bytes (null: plain causal) */
  window: number | null;
}

export class ByteLM extends Module {
  embed_tokens: Embedding;
  layers: TransformerLayer[];
  norm: RMSNorm;
  lm_head: Linear;

  constructor(readonly cfg: ByteLmConfig, seed = 0) {
    super();
    const rng = new Rng(seed);
    this.embed_tokens = new Embedding(cfg.vocabSize, cfg.dim, { rng });
    this.layers = [];
    for (let i = 0; i < cfg.layers; i++) {
      this.layers.push(new TransformerLayer({
        dim: cfg.dim, heads: cfg.heads, kvHeads: cfg.heads, hidden: cfg.hidden, eps: cfg.eps, ropeTheta: cfg.ropeTheta,
      }, rng));
    }
    this.norm = new RMSNorm(cfg.dim, cfg.eps);
    this.lm_head = new Linear(cfg.dim, cfg.vocabSize, { rng });
  }

  /** ids int32 [B, T] → logits [B, T, V]; logits[b, t] predicts the id at t+1. */
  forward(ids: Tensor): Tensor {
    const [B, T] = ids.shape;
    const positions = positionsTensor(T, ids.device);
    const ranges = causalRanges(B, T, this.cfg.window, ids.device);
    let h = this.embed_tokens.forward(ids); // [B, T, d]
    for (const layer of this.layers) h = layer.forward(h, positions, ranges);
    return this.lm_head.forward(this.norm.forward(h)); // [B, T, V]
  }

  /** Mean next-byte cross-entropy over all positions, nats. */
  loss(ids: Tensor, targets: Tensor): Tensor {
    return ops.crossEntropy(this.forward(ids), targets);
  }
}
