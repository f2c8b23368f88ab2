// BLT config parsing / validation / writing.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { BltConfig } from "../../../src/blt/config/types.js";
import { defaultsFor } from "../../../src/blt/config/behaviour.js";
import { parseBltConfig } from "../../../src/blt/config/parse.js";
import { configToHfJson } from "../../../src/blt/config/write.js";
import { smallConfig, swigluHidden, tinyConfig } from "../../../src/blt/config/shapes.js";
import { loadBltConfigFile } from "../../../src/blt/config/file.js";
import { sharedPath } from '../../../src/io/shared-dir.js';

const FILES = {
  blt1b_like: sharedPath('golden', 'blt1b_like', 'config.json'),
  proj_gqa: sharedPath('golden', 'proj_gqa', 'config.json'),
  train: sharedPath('golden-train', 'config.json'),
  small: sharedPath('bench', 'blt-small', 'config.json'),
};
const readJson = (p: string): Record<string, any> => JSON.parse(readFileSync(p, "utf8"));
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe("parsing the shared HF config files", () => {
  it("blt1b_like: BLT-1B structure, identity global projection, HF behaviour", async () => {
    const c = await loadBltConfigFile(FILES.blt1b_like);
    expect(c.crossAttnK).toBe(2);
    expect(c.hash).toEqual({ groupSizes: [3, 4, 5, 6, 7, 8], nbFunctions: 1, vocab: 1000 });
    expect(c.encoder).toMatchObject({ hiddenSize: 32, numHeads: 2, numKvHeads: 2, headDim: 16, numLayers: 1, intermediateSize: 96, crossAttnAllLayers: false, crossAttnK: 2, hiddenSizeGlobal: 64, ropeTheta: 500000, rmsNormEps: 1e-5 });
    expect(c.decoder).toMatchObject({ hiddenSize: 32, numLayers: 2, crossAttnAllLayers: true });
    expect(c.global).toMatchObject({ hiddenSize: 64, numHeads: 4, numKvHeads: 4, numLayers: 2, intermediateSize: 176, encoderCrossOutputSize: null });
    expect(c.patcher).toMatchObject({ hiddenSize: 32, numLayers: 2, ropeTheta: 10000, vocabSize: 260 });
    expect(c.patching).toMatchObject({ mode: "entropy", threshold: 2.9470725059509277, maxPatchLength: null, monotonicity: false, thresholdAdd: null });
    expect(c.behaviour).toEqual(defaultsFor("hf"));
  });

  it("proj_gqa: k = 3, 2 hash functions, GQA, projection 192 → 96, per-part θ and eps", async () => {
    const c = await loadBltConfigFile(FILES.proj_gqa);
    expect(c.crossAttnK).toBe(3);
    expect(c.hash).toEqual({ groupSizes: [3, 4, 5, 6, 7, 8], nbFunctions: 2, vocab: 997 });
    expect(c.encoder).toMatchObject({ hiddenSize: 64, numHeads: 4, numKvHeads: 2, numLayers: 2, intermediateSize: 128, crossAttnAllLayers: true, ropeTheta: 10000, rmsNormEps: 1e-6 });
    expect(c.decoder).toMatchObject({ crossAttnAllLayers: false, ropeTheta: 50000 });
    expect(c.global).toMatchObject({ hiddenSize: 96, numKvHeads: 2, encoderCrossOutputSize: 192, ropeTheta: 100000, headDim: 24 });
    expect(c.patcher).toMatchObject({ hiddenSize: 48, numHeads: 2, numKvHeads: 1, ropeTheta: 20000 });
    expect(c.patching.threshold).toBe(3.071195602416992);
  });

  it("golden-train and bench configs parse; smallConfig/tinyConfig have the same shapes", async () => {
    const train = await loadBltConfigFile(FILES.train);
    const small = await loadBltConfigFile(FILES.small);
    expect(small.patching.patchInForward).toBe(false);
    // compare everything that shapes the model (max_position_embeddings is informational)
    const shapes = (c: BltConfig): unknown => ({ k: c.crossAttnK, hash: c.hash, e: c.encoder, d: c.decoder, g: c.global, p: c.patcher });
    const strip = (c: BltConfig): BltConfig => {
      const x = clone(c);
      for (const part of [x.encoder, x.decoder, x.global, x.patcher]) part.maxPositionEmbeddings = 0;
      return x;
    };
    expect(shapes(strip(smallConfig()))).toEqual(shapes(strip(small)));
    expect(shapes(strip(tinyConfig()))).toEqual(shapes(strip(await loadBltConfigFile(FILES.blt1b_like))));
    expect(train.encoder.hiddenSize).toBe(32);
  });
});

describe("round trip and presets", () => {
  it("parseBltConfig(configToHfJson(cfg)) == cfg, behaviour included", async () => {
    const cfgs = [tinyConfig(), smallConfig("reference"), await loadBltConfigFile(FILES.proj_gqa)];
    for (const cfg of cfgs) expect(parseBltConfig(configToHfJson(cfg))).toEqual(cfg);
    const ref = tinyConfig("reference");
    expect(ref.behaviour).toEqual({ localWindow: 512, patcherWindow: 512, patcherChunk: 8192, documentMask: true, repoolEachCrossLayer: false, patchLengthsSumTo: "N+1", emptyPatchAttention: "none", metaPatchRules: true });
    expect(parseBltConfig(configToHfJson(ref)).behaviour).toEqual(ref.behaviour);
  });

  it("an HF file without our behaviour block gets HF behaviour, or the requested preset", () => {
    const j = readJson(FILES.blt1b_like);
    expect(parseBltConfig(j).behaviour.localWindow).toBeNull();
    expect(parseBltConfig(j, { behaviour: "reference" }).behaviour.localWindow).toBe(512);
  });

  it("useHfDefaults fills BLT-1B defaults (HF configuration_blt.py)", () => {
    const c = parseBltConfig({ model_type: "blt" }, { useHfDefaults: true });
    expect(c.encoder).toMatchObject({ hiddenSize: 1024, numHeads: 16, numLayers: 1, intermediateSize: 2816, crossAttnAllLayers: false });
    expect(c.decoder).toMatchObject({ numLayers: 9, crossAttnAllLayers: true, ropeTheta: 500000 });
    expect(c.global).toMatchObject({ hiddenSize: 2048, numLayers: 25, intermediateSize: 5632, encoderCrossOutputSize: null });
    expect(c.patcher).toMatchObject({ hiddenSize: 768, numLayers: 14, numHeads: 12, intermediateSize: 2048, ropeTheta: 10000 });
    expect(c.hash).toEqual({ groupSizes: [3, 4, 5, 6, 7, 8], nbFunctions: 1, vocab: 500002 });
    expect(c.patching.threshold).toBe(1.335442066192627);
  });

  it("old-style rope_theta, norm_eps and derived intermediate size are understood", () => {
    const j = readJson(FILES.blt1b_like);
    delete j.encoder_config.rope_parameters;
    j.encoder_config.rope_theta = 12345;
    delete j.encoder_config.rms_norm_eps;
    j.encoder_config.norm_eps = 3e-6;
    delete j.encoder_config.intermediate_size;
    const c = parseBltConfig(j);
    expect(c.encoder.ropeTheta).toBe(12345);
    expect(c.encoder.rmsNormEps).toBe(3e-6);
    expect(c.encoder.intermediateSize).toBe(Math.floor((8 * 32) / 3));
  });

  it("SwiGLU width table", () => {
    expect([768, 1024, 1280, 2048, 4096].map((d) => swigluHidden(d))).toEqual([2048, 2816, 3584, 5632, 11008]);
  });
});

describe("validation errors name the field and the file", () => {
  const base = (): Record<string, any> => readJson(FILES.blt1b_like);
  const bad = (mutate: (j: Record<string, any>) => void, re: RegExp): void => {
    const j = base();
    mutate(j);
    expect(() => parseBltConfig(j, { source: "my/config.json" })).toThrow(re);
  };

  it("missing fields", () => {
    bad((j) => delete j.encoder_config.hidden_size, /my\/config\.json.*"encoder_config\.hidden_size" is missing/);
    bad((j) => delete j.decoder_config, /"decoder_config" is missing/);
    bad((j) => delete j.encoder_hash_byte_group_vocab, /"encoder_hash_byte_group_vocab" is missing/);
    bad((j) => delete j.patching_threshold, /"patching_threshold" is missing/);
  });

  it("inconsistent fields", () => {
    bad((j) => (j.encoder_config.num_attention_heads = 3), /encoder_config\.hidden_size.*divisible by num_attention_heads/);
    bad((j) => (j.global_config.num_key_value_heads = 3), /global_config\.num_attention_heads.*divisible by num_key_value_heads/);
    bad((j) => (j.decoder_config.head_dim = 8), /decoder_config\.head_dim/);
    bad((j) => {
      j.decoder_config.hidden_size = 64;
      j.decoder_config.head_dim = 32;
    }, /decoder_config\.hidden_size.*must equal encoder_config\.hidden_size/);
    bad((j) => (j.encoder_config.cross_attn_k = 3), /encoder_config\.cross_attn_k/);
    bad((j) => (j.global_config.encoder_cross_output_size = 50), /encoder_cross_output_size/);
    bad((j) => (j.decoder_config.hidden_size_global = 32), /hidden_size_global/);
    bad((j) => (j.patching_mode = "magic"), /patching_mode/);
    bad((j) => (j.encoder_hash_byte_group_size = []), /encoder_hash_byte_group_size/);
    bad((j) => (j.encoder_config.rope_parameters = { rope_theta: 1e4, rope_type: "yarn" }), /rope_type/);
    bad((j) => (j.encoder_config.num_hidden_layers = 1.5), /num_hidden_layers.*integer/);
    bad((j) => (j.blt_ts_behaviour = { localWindow: 0 }), /blt_ts_behaviour\.localWindow/);
  });

  it("wrong formats", () => {
    expect(() => parseBltConfig({ args: { dim: 3 } }, { source: "x.json" })).toThrow(/original format/);
    expect(() => parseBltConfig({ ...base(), model_type: "llama" })).toThrow(/model_type/);
    expect(() => parseBltConfig([])).toThrow(/not a JSON object/);
  });
});
