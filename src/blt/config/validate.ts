// Checks across the parts of a config (parsed or built by hand): widths that must agree, head divisibility, the
// two copies of cross_attn_k HF keeps, the global input projection. Errors name the config field.
import { PATCHING_MODES, type BltConfig } from './types.js';

// [doc:validate-config]
/** Validate cross-part consistency of a parsed (or hand-built) config; throws naming the field. */
export function validateBltConfig(cfg: BltConfig, source = "<config>"): void {
  const bad = (field: string, msg: string): never => {
    throw new Error(`BLT config ${source}: field "${field}" ${msg}`);
  };
  const { encoder: E, decoder: D, global: G, crossAttnK: k } = cfg;
  for (const [name, p] of [["encoder_config", E], ["decoder_config", D], ["global_config", G], ["patcher_config", cfg.patcher]] as const) {
    if (p.hiddenSize % p.numHeads !== 0) bad(`${name}.hidden_size`, `(${p.hiddenSize}) must be divisible by num_attention_heads (${p.numHeads})`);
    if (p.numHeads % p.numKvHeads !== 0) bad(`${name}.num_attention_heads`, `(${p.numHeads}) must be divisible by num_key_value_heads (${p.numKvHeads})`);
    if (p.headDim * p.numHeads !== p.hiddenSize) bad(`${name}.head_dim`, `(${p.headDim}) must equal hidden_size / num_attention_heads`);
  }
  if (cfg.vocabSize !== 260) bad("vocab_size", `must be 260 (4 specials + 256 bytes), got ${cfg.vocabSize}`);
  if (cfg.patcher.vocabSize !== cfg.vocabSize) bad("patcher_config.vocab_size", `(${cfg.patcher.vocabSize}) must equal vocab_size (${cfg.vocabSize})`);
  if (E.hiddenSize !== D.hiddenSize)
    bad("decoder_config.hidden_size", `(${D.hiddenSize}) must equal encoder_config.hidden_size (${E.hiddenSize}): the decoder input is the encoder output`);
  if (E.crossAttnK !== k) bad("encoder_config.cross_attn_k", `(${E.crossAttnK}) must equal the top-level cross_attn_k (${k})`);
  if (D.crossAttnK !== k) bad("decoder_config.cross_attn_k", `(${D.crossAttnK}) must equal the top-level cross_attn_k (${k})`);
  if (D.hiddenSizeGlobal !== G.hiddenSize)
    bad("decoder_config.hidden_size_global", `(${D.hiddenSizeGlobal}) must equal global_config.hidden_size (${G.hiddenSize})`);
  const kDe = k * E.hiddenSize;
  if (kDe === G.hiddenSize) {
    if (G.encoderCrossOutputSize !== null && G.encoderCrossOutputSize !== kDe)
      bad("global_config.encoder_cross_output_size", `(${G.encoderCrossOutputSize}) must be null or cross_attn_k·encoder hidden = ${kDe}`);
  } else if (G.encoderCrossOutputSize !== kDe)
    bad(
      "global_config.encoder_cross_output_size",
      `(${G.encoderCrossOutputSize}) must be cross_attn_k·encoder hidden = ${kDe} because that differs from global hidden_size ${G.hiddenSize}`,
    );
  if (cfg.hash.nbFunctions < 1) bad("encoder_hash_byte_group_nb_functions", "must be ≥ 1");
  if (cfg.hash.groupSizes.length === 0) bad("encoder_hash_byte_group_size", "must not be empty");
  if (cfg.patching.maxPatchLength !== null && !(cfg.patching.maxPatchLength >= 1)) bad("max_patch_length", "must be null or ≥ 1");
  if (!PATCHING_MODES.includes(cfg.patching.mode)) bad("patching_mode", `unknown mode "${cfg.patching.mode}"`);
}
