// The state-dict keys and shapes a BLT with a given config has, in Hugging Face's names (Linear weights are
// [out, in]). Checkpoint readers check every tensor against it before a model is built.
import type { BltConfig, TransformerPartConfig } from './config/types.js';

/** The HF state-dict keys and shapes a BLT with this config has. */
export function bltWeightShapes(cfg: BltConfig): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  const layer = (prefix: string, p: TransformerPartConfig): void => {
    const d = p.hiddenSize, q = p.numHeads * p.headDim, kv = p.numKvHeads * p.headDim, I = p.intermediateSize;
    shapes.set(`${prefix}.input_layernorm.weight`, [d]);
    shapes.set(`${prefix}.self_attn.q_proj.weight`, [q, d]);
    shapes.set(`${prefix}.self_attn.k_proj.weight`, [kv, d]);
    shapes.set(`${prefix}.self_attn.v_proj.weight`, [kv, d]);
    shapes.set(`${prefix}.self_attn.o_proj.weight`, [d, q]);
    shapes.set(`${prefix}.post_attention_layernorm.weight`, [d]);
    shapes.set(`${prefix}.mlp.gate_proj.weight`, [I, d]);
    shapes.set(`${prefix}.mlp.up_proj.weight`, [I, d]);
    shapes.set(`${prefix}.mlp.down_proj.weight`, [d, I]);
  };
  const cross = (prefix: string, p: TransformerPartConfig): void => {
    const d = p.hiddenSize, q = p.numHeads * p.headDim, kv = p.numKvHeads * p.headDim;
    shapes.set(`${prefix}.q_norm.weight`, [d]);
    shapes.set(`${prefix}.k_norm.weight`, [d]);
    shapes.set(`${prefix}.q_proj.weight`, [q, d]);
    shapes.set(`${prefix}.k_proj.weight`, [kv, d]);
    shapes.set(`${prefix}.v_proj.weight`, [kv, d]);
    shapes.set(`${prefix}.o_proj.weight`, [d, q]);
  };
  const { encoder: E, decoder: D, global: G } = cfg;
  const dE = E.hiddenSize, dD = D.hiddenSize, dG = G.hiddenSize;
  const tables = cfg.hash.nbFunctions * cfg.hash.groupSizes.length;
  shapes.set('model.encoder_hash_tok_embedding.weight', [tables * cfg.hash.vocab, dE]);
  shapes.set('model.local_encoder.embed_tokens.weight', [cfg.vocabSize, dE]);
  for (let i = 0; i < E.numLayers; i++) layer(`model.local_encoder.layers.${i}`, E);
  shapes.set('model.local_encoder.patch_embedding_projection.weight', [E.crossAttnK * dE, dE]);
  for (let j = 0; j < (E.crossAttnAllLayers ? E.numLayers : 1); j++) cross(`model.local_encoder.cross_attn_layers.${j}`, E);
  if (cfg.crossAttnK * dE !== dG) shapes.set('model.global_transformer.token_embedding_projection.weight', [dG, cfg.crossAttnK * dE]);
  for (let i = 0; i < G.numLayers; i++) layer(`model.global_transformer.layers.${i}`, G);
  for (let i = 0; i < D.numLayers; i++) layer(`model.local_decoder.layers.${i}`, D);
  shapes.set('model.local_decoder.patch_embedding_projection.weight', [D.crossAttnK * dD, D.hiddenSizeGlobal]);
  for (let j = 0; j < (D.crossAttnAllLayers ? D.numLayers : 1); j++) cross(`model.local_decoder.cross_attn_layers.${j}`, D);
  shapes.set('model.local_decoder.norm.weight', [dD]);
  shapes.set('lm_head.weight', [cfg.vocabSize, dD]);
  if (cfg.patching.patchInForward) {
    const Pt = cfg.patcher;
    shapes.set('model.patcher.embed_tokens.weight', [Pt.vocabSize, Pt.hiddenSize]);
    for (let i = 0; i < Pt.numLayers; i++) layer(`model.patcher.layers.${i}`, Pt);
    shapes.set('model.patcher.norm.weight', [Pt.hiddenSize]);
    shapes.set('model.patcher.lm_head.weight', [Pt.vocabSize, Pt.hiddenSize]);
  }
  return shapes;
}
