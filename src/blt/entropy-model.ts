/**
 * The entropy model (paper §2.3, §4.2): a small causal byte LM whose
 * next-byte entropies decide the patch boundaries. HF keeps it inside the BLT as `model.patcher`.
 *
 *   logits = lm_head(RMSNorm(layers(embed_tokens[x])))                             [B, T, 260]
 *   H_t    = -Σ_v p_v log p_v ,  p = softmax(logits_t)   (eq. 1 with its minus sign; nats, all 260 outputs)
 *
 * Entropies are computed per row (Meta's code flattens a batch into one stream, which leaks context across rows);
 * how much of a row the model sees at once is entropy-context.ts's.
 * Attention: causal, optionally a sliding window of W keys (Meta: 512; HF: none) and EOS document blocks.
 *
 * This file also holds `localAttentionRanges`, the "local block causal" key ranges shared by the entropy
 * model, the local encoder and the local decoder.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { Module } from '../nn/module.js';
import { Embedding, Linear, RMSNorm } from '../nn/layers.js';
import { TransformerLayer, forwardLayers, type KvCache } from '../nn/transformer.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';
import type { TransformerPartConfig } from './config/types.js';
import { EOS_ID } from './tokenizer.js';

// [doc:local-mask]
/**
 * Local self-attention key ranges for host token ids [B, T]: query t sees keys [localKeyStart(t), t].
 * An EOS belongs to the document it ends. Built on the host, uploaded to `device`.
 */
export function localAttentionRanges(ids: Int32Array, B: number, T: number, window: number | null,
  documentMask: boolean, device: Device): KeyRanges {
  const start = new Int32Array(B * T), end = new Int32Array(B * T); // [B, T]
  for (let b = 0; b < B; b++) {
    let docStart = 0;
    for (let t = 0; t < T; t++) {
      if (documentMask && t > 0 && ids[b * T + t - 1] === EOS_ID) docStart = t;
      start[b * T + t] = localKeyStart(t, window, docStart);
      end[b * T + t] = t + 1;
    }
  }
  return { start: ops.tensor(start, [B, T], { device }), end: ops.tensor(end, [B, T], { device }) };
}

/**
 * First key of query t: max(t - W + 1 (window, if any), docStart (1 + the last EOS before t, with document
 * masks; else 0), 0).
 */
export function localKeyStart(t: number, window: number | null, docStart: number): number {
  return Math.max(0, window === null ? 0 : t - window + 1, docStart);
}

// [doc:entropy-model]
/** HF `BltPatcher` layout: `embed_tokens`, `layers.i`, `norm`, `lm_head` (keys under `model.patcher.`). */
export class EntropyModel extends Module {
  embed_tokens: Embedding;
  layers: TransformerLayer[];
  norm: RMSNorm;
  lm_head: Linear;

  constructor(readonly cfg: TransformerPartConfig & { vocabSize: number }, rng: Rng) {
    super();
    const layerCfg = { dim: cfg.hiddenSize, heads: cfg.numHeads, kvHeads: cfg.numKvHeads, hidden: cfg.intermediateSize,
      eps: cfg.rmsNormEps, ropeTheta: cfg.ropeTheta };
    this.embed_tokens = new Embedding(cfg.vocabSize, cfg.hiddenSize, { rng });
    this.layers = Array.from({ length: cfg.numLayers }, () => new TransformerLayer(layerCfg, rng));
    this.norm = new RMSNorm(cfg.hiddenSize, cfg.rmsNormEps);
    this.lm_head = new Linear(cfg.hiddenSize, cfg.vocabSize, { rng });
  }

  /**
   * ids int32 [B, n] on the model's device -> next-token logits [B, n, V]. With `cache` (generation) the ids are
   * the newest rows and attend to the earlier rows it holds too.
   */
  forward(ids: Tensor, positions: Tensor, ranges: KeyRanges, cache?: KvCache): Tensor {
    const h = forwardLayers(this.layers, this.embed_tokens.forward(ids), positions, ranges, cache); // [B, n, d]
    return this.lm_head.forward(this.norm.forward(h)); // [B, n, V]
  }
}

// [doc:entropy-tensor]
/** Eq. 1: H = -Σ_v p_v log p_v over the last axis (natural log) ; logits [..., V] -> [...]. */
export function entropyOfLogits(logits: Tensor): Tensor {
  const logp = ops.logSoftmax(logits);                 // [..., V]
  return ops.neg(ops.sum(ops.mul(ops.exp(logp), logp), -1)); // [...]
}
