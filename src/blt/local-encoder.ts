/**
 * Local encoder (paper §3.2, eqs. 5-8, Fig. 5): byte states h from the
 * encoder embeddings, then patch vectors from cross-attention of pooled patch queries over the bytes of
 * their own patch.
 *
 *   h = Layer_l(h)                                                       for l = 0 .. lE-1 (causal, local window)
 *   at the last layer (or every layer when cross_attn_all_layers):
 *     P_0[j]   = E_C( max_{i : p(i)=j} h_i )                              (eq. 5, max-pool init; empty patch -> 0)
 *     P_0      : [P, k·dE] split into k chunks of width dE, query row j·k + r = chunk r of patch j
 *     P_l      = P_{l-1} + CrossAttn(P_{l-1}, h)  = 2·P_{l-1} + A          (eq. 6 with the code's double residual)
 *     query (j, r) attends exactly the bytes of patch j: the contiguous key range [S_j, S_j + L_j)
 *   output: h (decoder input) and P reshaped to [P, k·dE] (global input).
 *
 * Pooling: HF re-pools from the current h at every cross-attention layer (discarding the previous patch
 * state); Meta pools once and accumulates (config switch `repoolEachCrossLayer`; identical for one layer).
 * Empty patches (no byte at a position < T): HF's eager attention gives a fully masked row a uniform
 * distribution over all T bytes, which we reproduce with the full key range [0, T): the pooled query of an
 * empty patch is 0, so q = W_q RMSNorm(0) = 0 and all scores are equal (exact whenever the queries are freshly
 * pooled, i.e. always under HF's re-pooling); Meta's FlexAttention gives 0, which the empty range [0, 0) does.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { Module } from '../nn/module.js';
import { Embedding, Linear } from '../nn/layers.js';
import { TransformerLayer, forwardLayers, type KvCache } from '../nn/transformer.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';
import { CrossAttention } from './cross-attention.js';
import type { BltBehaviour, LocalPartConfig } from './config/types.js';

/** Host-built index tensors the encoder needs for one batch (all on the model's device). */
export interface EncoderInputs {
  /** int32 [T] RoPE positions 0..T-1 */
  positions: Tensor;
  /** local self-attention ranges [B, T] */
  selfRanges: KeyRanges;
  /** int32 [B·T]: b·P + p(i), the pooling segment of every byte */
  segmentIds: Tensor;
  /** cross-attention ranges [B, P·k] (query j·k + r -> bytes of patch j) */
  crossRanges: KeyRanges;
  /** number of patches per row */
  P: number;
}

// [doc:enc-cross-mask]
/**
 * Key ranges of the encoder cross-attention for lengths [B, P] (host, rows right-padded with 0):
 * query j·k + r of row b sees [S_j, min(S_j + L_j, T)); an empty range becomes [0, T) for "uniform-all" (HF)
 * or stays empty for "none" (Meta).
 */
export function encoderCrossRanges(lengths: Int32Array, B: number, P: number, T: number, k: number,
  empty: BltBehaviour['emptyPatchAttention'], device: Device): KeyRanges {
  const start = new Int32Array(B * P * k), end = new Int32Array(B * P * k); // [B, P·k]
  for (let b = 0; b < B; b++) {
    let S = 0;
    for (let j = 0; j < P; j++) {
      const L = lengths[b * P + j];
      let s = Math.min(S, T), e = Math.min(S + L, T);
      if (e <= s) [s, e] = empty === 'uniform-all' ? [0, T] : [0, 0];
      for (let r = 0; r < k; r++) {
        start[(b * P + j) * k + r] = s;
        end[(b * P + j) * k + r] = e;
      }
      S += L;
    }
  }
  return { start: ops.tensor(start, [B, P * k], { device }), end: ops.tensor(end, [B, P * k], { device }) };
}

export class LocalEncoder extends Module {
  embed_tokens: Embedding;
  layers: TransformerLayer[];
  patch_embedding_projection: Linear;
  cross_attn_layers: CrossAttention[];

  constructor(readonly cfg: LocalPartConfig, vocabSize: number, readonly repool: boolean, rng: Rng) {
    super();
    const dE = cfg.hiddenSize, k = cfg.crossAttnK;
    const layerCfg = { dim: dE, heads: cfg.numHeads, kvHeads: cfg.numKvHeads, hidden: cfg.intermediateSize,
      eps: cfg.rmsNormEps, ropeTheta: cfg.ropeTheta };
    this.embed_tokens = new Embedding(vocabSize, dE, { rng }); // byte embedding Emb [260, dE]
    this.layers = Array.from({ length: cfg.numLayers }, () => new TransformerLayer(layerCfg, rng));
    // E_C: dE -> k·dE, init std dE^-1/2 (Meta's init: in_dim^-1/2)
    this.patch_embedding_projection = new Linear(dE, k * dE, { rng });
    const nCross = cfg.crossAttnAllLayers ? cfg.numLayers : 1;
    this.cross_attn_layers = Array.from({ length: nCross },
      () => new CrossAttention({ dim: dE, heads: cfg.numHeads, kvHeads: cfg.numKvHeads, eps: cfg.rmsNormEps }, rng));
  }

  // [doc:enc-forward]
  /**
   * x [B, T, dE] encoder embeddings -> { hidden [B, T, dE], patches [B, P, k·dE] }: the byte states of the layers,
   * then the patch vectors from them. `record` (optional) receives named intermediates.
   */
  forward(x: Tensor, inp: EncoderInputs, record?: (name: string, t: Tensor) => void): { hidden: Tensor; patches: Tensor } {
    const states = this.byteStates(x, inp.positions, inp.selfRanges, record);
    return { hidden: states[states.length - 1]!, patches: this.patchVectors(states, inp.segmentIds, inp.crossRanges, inp.P, record) };
  }

  /** Whether a cross-attention follows layer l: after the last layer, or after every layer (cross_attn_all_layers). */
  crossAfter(l: number): boolean {
    return l === this.layers.length - 1 || this.cfg.crossAttnAllLayers;
  }

  // [doc:enc-byte-states]
  /**
   * The encoder layers (causal, local window) on x [B, n, dE]: the output [B, n, dE] of every layer that a
   * cross-attention reads (crossAfter), null for the others; the last one is h, the decoder's input. With `cache`
   * (generation) the rows are the newest and attend to the earlier rows it holds too.
   */
  byteStates(x: Tensor, positions: Tensor, ranges: KeyRanges, record?: (name: string, t: Tensor) => void, cache?: KvCache): (Tensor | null)[] {
    if (this.layers.length === 0) throw new Error('LocalEncoder: the encoder needs at least one layer (its cross-attention follows the last)');
    const states: (Tensor | null)[] = this.layers.map(() => null);
    forwardLayers(this.layers, x, positions, ranges, cache, (l, h) => {
      record?.(`encoder.layer${l}`, h);
      if (this.crossAfter(l)) states[l] = h; // [B, n, dE]
    });
    return states;
  }

  // [doc:enc-patch-vectors]
  /**
   * Eqs. 5-8: patch vectors [B, P, k·dE] from the byte states of `byteStates` ([B, T, dE] each): a cross-attention
   * after every layer that has one. `segmentIds` int32 [B·T]: the pooling segment b·P + p(i) of every byte
   * (-1: pooled into no patch); `crossRanges` [B, P·k]: each patch query's bytes.
   */
  patchVectors(states: readonly (Tensor | null)[], segmentIds: Tensor, crossRanges: KeyRanges, P: number,
    record?: (name: string, t: Tensor) => void): Tensor {
    let patchState: Tensor | null = null; // [B, P·k, dE]
    states.forEach((h, l) => {
      if (h) patchState = this.crossStep(l, patchState, h, segmentIds, crossRanges, P, record);
    });
    if (patchState === null) throw new Error('LocalEncoder: no cross-attention layer ran');
    return this.mergeK(patchState, states[states.length - 1]!.shape[0], P);
  }

  /**
   * The cross-attention after layer l, on byte states h [B, T, dE]: queries freshly pooled from h (eq. 5), or
   * the running patch state (Meta's accumulation), then eq. 6. state [B, P·k, dE] (null before the first) ->
   * the new state [B, P·k, dE].
   */
  private crossStep(l: number, state: Tensor | null, h: Tensor, segmentIds: Tensor, crossRanges: KeyRanges, P: number,
    record?: (name: string, t: Tensor) => void): Tensor {
    const [B, T, dE] = h.shape;
    const k = this.cfg.crossAttnK;
    let qIn: Tensor;
    // [doc:enc-pool]
    if (state === null || this.repool) {
      // eq. 5: max-pool each patch's bytes (flattened rows, segment b·P + p(i)), then E_C and the k-split
      const pooled = ops.segmentMax(ops.reshape(h, [B * T, dE]), segmentIds, B * P); // [B·T, dE] -> [B·P, dE]
      qIn = ops.reshape(this.patch_embedding_projection.forward(pooled), [B, P * k, dE]); // [B·P, k·dE] -> [B, P·k, dE]
    } else {
      qIn = state;
    }
    const j = this.cfg.crossAttnAllLayers ? l : 0;
    const c = this.cross_attn_layers[j].forward(qIn, h, crossRanges); // qIn + A
    record?.(`encoder.cross${j}.query_in`, qIn);
    record?.(`encoder.cross${j}.out`, c);
    // [doc:enc-double-residual]
    return ops.add(qIn, c); // eq. 6 with the double residual: 2·qIn + A
  }

  /** The k query rows of every patch merged back into one vector: [B, P·k, dE] -> [B, P, k·dE]. */
  private mergeK(state: Tensor, B: number, P: number): Tensor {
    const dE = this.cfg.hiddenSize;
    // [doc:enc-k-merge]
    return ops.reshape(state, [B, P, this.cfg.crossAttnK * dE]); // [B, P, k·dE]
  }
}
