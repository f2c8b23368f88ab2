/**
 * Global latent transformer (paper §3.1): a causal transformer over patch vectors.
 *
 *   g = W_in · patches   (token_embedding_projection, only when k·dE ≠ dG; identity otherwise)
 *   o = Layers(g)        causal over patches (optionally block-causal by EOS documents), RoPE positions 0..P-1
 *                        no final norm: o_j feeds the decoder directly
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/layers.js';
import { TransformerLayer, forwardLayers, type KvCache } from '../nn/transformer.js';
import type { KeyRanges } from '../ops/attention.js';
import * as ops from '../ops/index.js';
import type { GlobalPartConfig } from './config/types.js';
import { EOS_ID } from './tokenizer.js';

// [doc:global-mask]
/**
 * Global self-attention key ranges [B, P]: patch j sees patches [start, j], start = 0 (HF, plain causal) or,
 * with `documentMask` (Meta's block-causal), 1 + the last patch before j that contains an EOS byte.
 */
export function globalAttentionRanges(ids: Int32Array, lengths: Int32Array, B: number, P: number, T: number,
  documentMask: boolean, device: Device): KeyRanges {
  const start = new Int32Array(B * P), end = new Int32Array(B * P); // [B, P]
  for (let b = 0; b < B; b++) {
    let docStart = 0, S = 0, prevHadEos = false;
    for (let j = 0; j < P; j++) {
      if (documentMask && prevHadEos) docStart = j;
      const L = lengths[b * P + j];
      prevHadEos = false;
      for (let i = S; i < Math.min(S + L, T); i++) if (ids[b * T + i] === EOS_ID) prevHadEos = true;
      S += L;
      start[b * P + j] = docStart;
      end[b * P + j] = j + 1;
    }
  }
  return { start: ops.tensor(start, [B, P], { device }), end: ops.tensor(end, [B, P], { device }) };
}

export class GlobalTransformer extends Module {
  /** Linear k·dE -> dG, present only when the widths differ (HF key `token_embedding_projection.weight`). */
  token_embedding_projection?: Linear;
  layers: TransformerLayer[];

  constructor(readonly cfg: GlobalPartConfig, readonly inputDim: number, rng: Rng) {
    super();
    const dG = cfg.hiddenSize;
    if (inputDim !== dG) this.token_embedding_projection = new Linear(inputDim, dG, { rng });
    const layerCfg = { dim: dG, heads: cfg.numHeads, kvHeads: cfg.numKvHeads, hidden: cfg.intermediateSize,
      eps: cfg.rmsNormEps, ropeTheta: cfg.ropeTheta };
    this.layers = Array.from({ length: cfg.numLayers }, () => new TransformerLayer(layerCfg, rng));
  }

  // [doc:global-forward]
  /**
   * patches [B, P, k·dE], positions int32 [P], ranges [B, P] -> o [B, P, dG]. With `cache` (generation) the
   * patches are the newest ones and attend to the earlier patches it holds too.
   */
  forward(patches: Tensor, positions: Tensor, ranges: KeyRanges, record?: (name: string, t: Tensor) => void, cache?: KvCache): Tensor {
    const g = this.token_embedding_projection ? this.token_embedding_projection.forward(patches) : patches; // [B, P, dG]
    record?.('global.projected', g);
    return forwardLayers(this.layers, g, positions, ranges, cache, (l, h) => record?.(`global.layer${l}`, h)); // [B, P, dG]
  }
}
