/**
 * Local decoder (paper §3.3, eqs. 9-12): byte states attend to the global
 * output of one patch, then run local transformer layers; a final RMSNorm feeds the byte head.
 *
 *   K      = D_C(o) : [P, dG] -> [P, k·dD] -> [P·k, dD]        (patch_embedding_projection, then the k-split)
 *   D_0    = h (encoder byte states)
 *   B_l    = D_{l-1} + CrossAttn(D_{l-1}, K) = 2·D_{l-1} + A    (eq. 10, code's double residual; before every
 *                                                              layer, or only the first)
 *   D_l    = Layer_l(B_l)                                       (eq. 12, causal, local window)
 *   out    = RMSNorm(D_lD)                                      (then lm_head -> logits, in blt.ts)
 *
 * Byte i (which predicts x_{i+1}) reads only patch d(i) = p(i+1) - 1, the last patch all of whose bytes are
 * at positions <= i (patching/patch-ids.ts): its k keys are the contiguous range [d(i)·k, d(i)·k + k).
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { Module } from '../nn/module.js';
import { Linear, RMSNorm } from '../nn/layers.js';
import { KvCache, LayerKvCache, TransformerLayer } from '../nn/transformer.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';
import { CrossAttention } from './cross-attention.js';
import type { LocalPartConfig } from './config/types.js';

/** Host-built index tensors the decoder needs for one batch (all on the model's device). */
export interface DecoderInputs {
  /** int32 [T] RoPE positions 0..T-1 */
  positions: Tensor;
  /** local self-attention ranges [B, T] */
  selfRanges: KeyRanges;
  /** cross-attention ranges [B, T] (byte i -> the k keys of patch d(i)) */
  crossRanges: KeyRanges;
}

// [doc:dec-cross-mask]
/** Decoder cross-attention key ranges from decoder patch ids d [B, T] (host): [d·k, d·k + k). */
export function decoderCrossRanges(decoderIds: Int32Array, B: number, T: number, k: number, device: Device): KeyRanges {
  const start = new Int32Array(B * T), end = new Int32Array(B * T); // [B, T]
  for (let i = 0; i < B * T; i++) {
    start[i] = decoderIds[i] * k;
    end[i] = decoderIds[i] * k + k;
  }
  return { start: ops.tensor(start, [B, T], { device }), end: ops.tensor(end, [B, T], { device }) };
}

/**
 * The decoder's generation cache: its layers' self-attention rows, and for each cross-attention the projected keys
 * and values of the patches complete so far (never dropped: patch key j·k + r stays at index j·k + r).
 */
export class DecoderCache {
  readonly self: KvCache;
  readonly cross: LayerKvCache[];
  constructor(decoder: LocalDecoder) {
    this.self = new KvCache(decoder.layers.length);
    this.cross = decoder.cross_attn_layers.map(() => new LayerKvCache());
  }

  dispose(): void {
    this.self.dispose();
    for (const c of this.cross) c.dispose();
  }
}

export class LocalDecoder extends Module {
  layers: TransformerLayer[];
  patch_embedding_projection: Linear;
  cross_attn_layers: CrossAttention[];
  norm: RMSNorm;

  constructor(readonly cfg: LocalPartConfig, rng: Rng) {
    super();
    const dD = cfg.hiddenSize, k = cfg.crossAttnK, dG = cfg.hiddenSizeGlobal;
    const layerCfg = { dim: dD, heads: cfg.numHeads, kvHeads: cfg.numKvHeads, hidden: cfg.intermediateSize,
      eps: cfg.rmsNormEps, ropeTheta: cfg.ropeTheta };
    this.layers = Array.from({ length: cfg.numLayers }, () => new TransformerLayer(layerCfg, rng));
    // D_C: dG -> k·dD, init std dG^-1/2 (Meta's init: in_dim^-1/2)
    this.patch_embedding_projection = new Linear(dG, k * dD, { rng });
    const nCross = cfg.crossAttnAllLayers ? cfg.numLayers : 1;
    this.cross_attn_layers = Array.from({ length: nCross },
      () => new CrossAttention({ dim: dD, heads: cfg.numHeads, kvHeads: cfg.numKvHeads, eps: cfg.rmsNormEps }, rng));
    this.norm = new RMSNorm(dD, cfg.rmsNormEps);
  }

  // [doc:dec-forward]
  /**
   * h [B, n, dD] encoder byte states, keys [B, P·k, dD] the patch keys (patchKeys of the global outputs) ->
   * RMSNorm'd states [B, n, dD]. With `cache` (generation) the rows are the newest and their self-attention also
   * reads the earlier rows it holds; `keys` are then the keys of the patches new since the last call (null: none),
   * whose projections are appended to the cache's cross-attention keys and values.
   */
  forward(h: Tensor, keys: Tensor | null, inp: DecoderInputs, record?: (name: string, t: Tensor) => void, cache?: DecoderCache): Tensor {
    let z = h;
    this.layers.forEach((layer, l) => {
      if (this.crossBefore(l)) {
        const c = this.cross_attn_layers[l].forward(z, keys, inp.crossRanges, cache?.cross[l]); // z + A
        record?.(`decoder.cross${l}.out`, c);
        // [doc:dec-double-residual]
        z = ops.add(z, c); // eq. 10 with the double residual: 2·z + A
      }
      z = layer.forward(z, inp.positions, inp.selfRanges, cache?.self.layers[l]); // eq. 12, [B, n, dD]
      record?.(`decoder.layer${l}`, z);
    });
    if (cache) cache.self.end += h.shape[1];
    return this.norm.forward(z);
  }

  // [doc:dec-k-split]
  /** K = D_C(o) split into k keys per patch: o [B, P, dG] -> [B, P·k, dD], row j·k + r = chunk r of patch j. */
  patchKeys(o: Tensor, record?: (name: string, t: Tensor) => void): Tensor {
    const [B, P] = o.shape;
    const dD = this.cfg.hiddenSize, k = this.cfg.crossAttnK;
    const proj = this.patch_embedding_projection.forward(o); // [B, P, k·dD]
    record?.('decoder.patch_proj', proj);
    return ops.reshape(proj, [B, P * k, dD]);                // [B, P·k, dD]
  }

  /** Whether a cross-attention precedes layer l: the first layer, or every layer (cross_attn_all_layers). */
  crossBefore(l: number): boolean {
    return l === 0 || this.cfg.crossAttnAllLayers;
  }
}
