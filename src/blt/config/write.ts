// Writing a BltConfig as a Hugging Face BLT config.json (the fields transformers' BltConfig reads, sub-configs in
// full), so that parse.ts reads back exactly the same config.
import type { BltConfig, LocalPartConfig, TransformerPartConfig } from './types.js';
import type { ConfigJson } from './parse.js';
import { validateBltConfig } from './validate.js';


function partToHf(p: TransformerPartConfig, modelType: string): ConfigJson {
  return {
    model_type: modelType,
    hidden_size: p.hiddenSize,
    num_attention_heads: p.numHeads,
    num_key_value_heads: p.numKvHeads,
    head_dim: p.headDim,
    num_hidden_layers: p.numLayers,
    intermediate_size: p.intermediateSize,
    rms_norm_eps: p.rmsNormEps,
    rope_parameters: { rope_theta: p.ropeTheta, rope_type: "default" },
    max_position_embeddings: p.maxPositionEmbeddings,
    hidden_act: "silu",
    dropout: 0.0,
    tie_word_embeddings: false,
  };
}

/**
 * HF-loadable config.json object for `cfg` (the fields HF's BltConfig reads, sub-configs in full).
 * The behaviour switches are stored under `blt_ts_behaviour` (HF keeps unknown keys and ignores them),
 * so parseBltConfig(configToHfJson(cfg)) round-trips.
 */
export function configToHfJson(cfg: BltConfig): ConfigJson {
  validateBltConfig(cfg, "<configToHfJson>");
  const local = (p: LocalPartConfig, t: string): ConfigJson => ({
    ...partToHf(p, t),
    vocab_size: cfg.vocabSize,
    cross_attn_all_layers: p.crossAttnAllLayers,
    cross_attn_k: p.crossAttnK,
    hidden_size_global: p.hiddenSizeGlobal,
  });
  return {
    model_type: "blt",
    architectures: ["BltForCausalLM"],
    vocab_size: cfg.vocabSize,
    cross_attn_k: cfg.crossAttnK,
    encoder_hash_byte_group_size: [...cfg.hash.groupSizes],
    encoder_hash_byte_group_nb_functions: cfg.hash.nbFunctions,
    encoder_hash_byte_group_vocab: cfg.hash.vocab,
    patching_mode: cfg.patching.mode,
    patching_threshold: cfg.patching.threshold,
    patching_threshold_add: cfg.patching.thresholdAdd,
    monotonicity: cfg.patching.monotonicity,
    max_patch_length: cfg.patching.maxPatchLength,
    patch_size: cfg.patching.patchSize,
    patch_in_forward: cfg.patching.patchInForward,
    tie_word_embeddings: false,
    encoder_config: local(cfg.encoder, "blt_local_encoder"),
    decoder_config: local(cfg.decoder, "blt_local_decoder"),
    global_config: { ...partToHf(cfg.global, "blt_global_transformer"), encoder_cross_output_size: cfg.global.encoderCrossOutputSize },
    patcher_config: { ...partToHf(cfg.patcher, "blt_patcher"), vocab_size: cfg.patcher.vocabSize },
    blt_ts_behaviour: { ...cfg.behaviour },
  };
}
