// Tests for src/io/blt-keys.ts: original facebookresearch/blt <-> HF key renaming (the rules of
// transformers' convert_blt_weights_to_hf.py), checked against worked examples, against an independent
// re-statement of the HF converter's substring rules, and by round trips over every key/tensor of the golden HF checkpoints (blt1b_like and proj_gqa).

import fs from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  convertHfStateDictToOriginal,
  convertOriginalStateDict,
  hfKeyToOriginal,
  HF_HASH_KEY,
  isEntropyModelKey,
  isHfKey,
  renameOriginalKeyToHf,
} from "../../src/io/blt-keys.js";
import { type RawTensor } from "../../src/io/safetensors.js";
import { readSafetensorsFile } from "../../src/io/safetensors-file.js";
import { sharedPath } from '../../src/io/shared-dir.js';

const GOLDEN = sharedPath('golden');

/**
 * The converter as transformers' convert_blt_weights_to_hf.py does it: `patcher.` prefix for entropy keys, ordered
 * substring replacements, `local_decoder.lm_head.weight` -> `lm_head.weight`, `model.` prefix for the rest.
 * Used as an oracle for the structured implementation (hash tables excluded: they are fused, not renamed).
 */
function converterOracle(key: string, fromEntropyModel: boolean): string {
  const replacements: [string, string][] = [
    [".attention.", ".self_attn."],
    [".feed_forward.", ".mlp."],
    [".attention_norm.", ".input_layernorm."],
    [".ffn_norm.", ".post_attention_layernorm."],
    [".tok_embeddings.", ".embed_tokens."],
    [".cross_attn_norm_q.", ".q_norm."],
    [".cross_attn_norm_kv.", ".k_norm."],
    [".w1.", ".gate_proj."],
    [".w2.", ".down_proj."],
    [".w3.", ".up_proj."],
    [".wq.", ".q_proj."],
    [".wk.", ".k_proj."],
    [".wv.", ".v_proj."],
    [".wo.", ".o_proj."],
    [".output.", ".lm_head."],
  ];
  let k = fromEntropyModel ? `patcher.${key}` : key;
  for (const [a, b] of replacements) k = k.split(a).join(b);
  if (k === "local_decoder.lm_head.weight") return "lm_head.weight";
  return `model.${k}`;
}

// ---------------------------------------------------------------------------------------------------------
// generators of valid original keys
// ---------------------------------------------------------------------------------------------------------

const idx = fc.integer({ min: 0, max: 30 });
const layerLeaf = fc.constantFrom(
  "attention.wq",
  "attention.wk",
  "attention.wv",
  "attention.wo",
  "feed_forward.w1",
  "feed_forward.w2",
  "feed_forward.w3",
  "attention_norm",
  "ffn_norm",
);
const crossLeaf = fc.constantFrom("wq", "wk", "wv", "wo", "cross_attn_norm_q", "cross_attn_norm_kv");

const bltKeyArb = fc.oneof(
  fc.tuple(fc.constantFrom("local_encoder", "local_decoder", "global_transformer"), idx, layerLeaf).map(
    ([p, i, l]) => `${p}.layers.${i}.${l}.weight`,
  ),
  fc.tuple(fc.constantFrom("local_encoder", "local_decoder"), idx, crossLeaf).map(
    ([p, i, l]) => `${p}.cross_attn_layers.${i}.${l}.weight`,
  ),
  fc.constantFrom(
    "local_encoder.tok_embeddings.weight",
    "local_encoder.patch_embedding_projection.weight",
    "global_transformer.token_embedding_projection.weight",
    "local_decoder.patch_embedding_projection.weight",
    "local_decoder.norm.weight",
    "local_decoder.output.weight",
  ),
);
const entropyKeyArb = fc.oneof(
  fc.tuple(idx, layerLeaf).map(([i, l]) => `layers.${i}.${l}.weight`),
  fc.constantFrom("tok_embeddings.weight", "norm.weight", "output.weight"),
);

// ---------------------------------------------------------------------------------------------------------

describe("renameOriginalKeyToHf", () => {
  it("maps examples of every kind of key (each module of the encoder, global model, decoder and entropy model)", () => {
    const examples: [string, string][] = [
      ["local_encoder.tok_embeddings.weight", "model.local_encoder.embed_tokens.weight"],
      ["encoder_hash_tok_embedding.0.weight", HF_HASH_KEY],
      ["encoder_hash_tok_embedding.5.weight", HF_HASH_KEY],
      ["local_encoder.layers.0.attention.wq.weight", "model.local_encoder.layers.0.self_attn.q_proj.weight"],
      ["local_encoder.layers.0.attention.wo.weight", "model.local_encoder.layers.0.self_attn.o_proj.weight"],
      ["local_encoder.layers.0.feed_forward.w1.weight", "model.local_encoder.layers.0.mlp.gate_proj.weight"],
      ["local_encoder.layers.0.feed_forward.w3.weight", "model.local_encoder.layers.0.mlp.up_proj.weight"],
      ["local_encoder.layers.0.feed_forward.w2.weight", "model.local_encoder.layers.0.mlp.down_proj.weight"],
      ["local_encoder.layers.0.attention_norm.weight", "model.local_encoder.layers.0.input_layernorm.weight"],
      ["local_encoder.layers.0.ffn_norm.weight", "model.local_encoder.layers.0.post_attention_layernorm.weight"],
      ["local_encoder.patch_embedding_projection.weight", "model.local_encoder.patch_embedding_projection.weight"],
      ["local_encoder.cross_attn_layers.0.cross_attn_norm_q.weight", "model.local_encoder.cross_attn_layers.0.q_norm.weight"],
      ["local_encoder.cross_attn_layers.0.cross_attn_norm_kv.weight", "model.local_encoder.cross_attn_layers.0.k_norm.weight"],
      ["local_encoder.cross_attn_layers.0.wv.weight", "model.local_encoder.cross_attn_layers.0.v_proj.weight"],
      ["global_transformer.layers.24.attention.wk.weight", "model.global_transformer.layers.24.self_attn.k_proj.weight"],
      ["global_transformer.layers.3.feed_forward.w3.weight", "model.global_transformer.layers.3.mlp.up_proj.weight"],
      ["global_transformer.layers.7.ffn_norm.weight", "model.global_transformer.layers.7.post_attention_layernorm.weight"],
      ["global_transformer.token_embedding_projection.weight", "model.global_transformer.token_embedding_projection.weight"],
      ["local_decoder.layers.8.attention.wv.weight", "model.local_decoder.layers.8.self_attn.v_proj.weight"],
      ["local_decoder.cross_attn_layers.8.wo.weight", "model.local_decoder.cross_attn_layers.8.o_proj.weight"],
      ["local_decoder.patch_embedding_projection.weight", "model.local_decoder.patch_embedding_projection.weight"],
      ["local_decoder.norm.weight", "model.local_decoder.norm.weight"],
      ["local_decoder.output.weight", "lm_head.weight"],
      // entropy model (blt-entropy / entropy_model/consolidated.pth keys)
      ["tok_embeddings.weight", "model.patcher.embed_tokens.weight"],
      ["layers.13.attention.wq.weight", "model.patcher.layers.13.self_attn.q_proj.weight"],
      ["layers.0.feed_forward.w2.weight", "model.patcher.layers.0.mlp.down_proj.weight"],
      ["layers.2.attention_norm.weight", "model.patcher.layers.2.input_layernorm.weight"],
      ["norm.weight", "model.patcher.norm.weight"],
      ["output.weight", "model.patcher.lm_head.weight"],
    ];
    for (const [orig, hf] of examples) {
      expect(renameOriginalKeyToHf(orig), orig).toBe(hf);
      expect(isHfKey(hf), hf).toBe(true);
      expect(isHfKey(orig), orig).toBe(false);
    }
    expect(isEntropyModelKey("output.weight")).toBe(true);
    expect(isEntropyModelKey("local_decoder.output.weight")).toBe(false);
  });

  it("agrees with the converter's substring rules for every valid key, and is inverted by hfKeyToOriginal", () => {
    fc.assert(
      fc.property(fc.oneof(bltKeyArb.map((k) => [k, false] as const), entropyKeyArb.map((k) => [k, true] as const)), ([k, ent]) => {
        const hf = renameOriginalKeyToHf(k);
        expect(hf).toBe(converterOracle(k, ent));
        expect(isHfKey(hf)).toBe(true);
        expect(hfKeyToOriginal(hf)).toBe(k);
        expect(isEntropyModelKey(k)).toBe(ent);
      }),
      { numRuns: 200 },
    );
  });

  it("throws a clear error for unknown or malformed keys", () => {
    const bad = [
      "local_encoder.foo.weight",
      "local_encoder.layers.x.attention.wq.weight",
      "local_encoder.layers.01.attention.wq.weight",
      "local_encoder.layers.0.attention.wz.weight",
      "local_encoder.layers.0.attention.wq.bias",
      "local_encoder.layers.0.attention.wq",
      "global_transformer.cross_attn_layers.0.wq.weight", // the global transformer has no cross-attention
      "global_transformer.norm.weight",
      "local_encoder.output.weight",
      "local_decoder.tok_embeddings.weight",
      "model.local_encoder.embed_tokens.weight", // already HF
      "patcher.norm.weight",
      "encoder_hash_tok_embedding.weight",
      "encoder_hash_tok_embedding.a.weight",
      "rope.freqs_cis",
      "",
      "weight",
      ".weight",
    ];
    for (const k of bad) {
      expect(() => renameOriginalKeyToHf(k), k).toThrow(`blt-keys: unknown original checkpoint key '${k}'`);
    }
  });
});

describe("isHfKey / hfKeyToOriginal", () => {
  it("rejects keys that are not HF BLT keys", () => {
    const bad = [
      "model.local_encoder.lm_head.weight",
      "model.local_decoder.lm_head.weight",
      "model.global_transformer.cross_attn_layers.0.q_proj.weight",
      "model.patcher.cross_attn_layers.0.q_proj.weight",
      "model.patcher.patch_embedding_projection.weight",
      "model.local_encoder.layers.0.self_attn.q_proj.bias",
      "model.local_encoder.layers.0.attention.wq.weight",
      "model.encoder_hash_tok_embedding.0.weight",
      "local_encoder.tok_embeddings.weight",
      "model.lm_head.weight",
      "model.weight",
    ];
    for (const k of bad) {
      expect(isHfKey(k), k).toBe(false);
      expect(() => hfKeyToOriginal(k), k).toThrow(`blt-keys: unknown HF checkpoint key '${k}'`);
    }
    expect(() => hfKeyToOriginal(HF_HASH_KEY)).toThrow(/fused hash table.*convertHfStateDictToOriginal/);
  });

  for (const config of ["blt1b_like", "proj_gqa"]) {
    it(`${config}: every meta.json weight key is an HF key and round-trips through the original name`, () => {
      const meta = JSON.parse(fs.readFileSync(`${GOLDEN}/${config}/meta.json`, "utf8")) as {
        weight_keys: Record<string, number[]>;
      };
      const keys = Object.keys(meta.weight_keys);
      expect(keys.length).toBeGreaterThan(80);
      for (const k of keys) {
        expect(isHfKey(k), k).toBe(true);
        if (k === HF_HASH_KEY) continue; // many-to-one: tested with whole state dicts below
        const orig = hfKeyToOriginal(k);
        expect(renameOriginalKeyToHf(orig), k).toBe(k);
        expect(isHfKey(orig), orig).toBe(false);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// whole state dicts
// ---------------------------------------------------------------------------------------------------------

function f32(shape: number[], fill: (i: number) => number): RawTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: "F32", shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
}

describe("convertOriginalStateDict / convertHfStateDictToOriginal", () => {
  it("concatenates hash tables in index order (table i -> rows [i*V, (i+1)*V)) and renames the rest", () => {
    const V = 3;
    const D = 2;
    // insertion order deliberately not index order
    const original = new Map<string, RawTensor>([
      ["encoder_hash_tok_embedding.2.weight", f32([V, D], (i) => 200 + i)],
      ["encoder_hash_tok_embedding.0.weight", f32([V, D], (i) => i)],
      ["encoder_hash_tok_embedding.1.weight", f32([V, D], (i) => 100 + i)],
      ["local_decoder.output.weight", f32([4, D], (i) => -i)],
    ]);
    const entropy = new Map<string, RawTensor>([["output.weight", f32([4, 5], () => 7)]]);
    const hf = convertOriginalStateDict(original, { encoder_hash_byte_group_size: [3, 4, 5], encoder_hash_byte_group_vocab: V }, entropy);
    expect([...hf.keys()].sort()).toEqual(["lm_head.weight", HF_HASH_KEY, "model.patcher.lm_head.weight"]);
    const fused = hf.get(HF_HASH_KEY)!;
    expect(fused.shape).toEqual([3 * V, D]);
    expect(Array.from(fused.data)).toEqual([0, 1, 2, 3, 4, 5, 100, 101, 102, 103, 104, 105, 200, 201, 202, 203, 204, 205]);
    expect(hf.get("lm_head.weight")).toBe(original.get("local_decoder.output.weight")); // shared, not copied

    const back = convertHfStateDictToOriginal(hf, { encoder_hash_byte_group_vocab: V });
    expect([...back.blt.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [k, t] of original) expect(back.blt.get(k), k).toEqual(t);
    expect([...back.entropy.keys()]).toEqual(["output.weight"]);
  });

  it("rejects missing, mismatched or miscounted hash tables and colliding keys", () => {
    const t = f32([3, 2], (i) => i);
    const tables = (...idx: number[]) => new Map(idx.map((i) => [`encoder_hash_tok_embedding.${i}.weight`, t] as const));
    expect(() => convertOriginalStateDict(tables(0, 2))).toThrow(/'encoder_hash_tok_embedding.1.weight' is missing \(have indices 0, 2\)/);
    expect(() => convertOriginalStateDict(tables(0, 1), { encoder_hash_byte_group_size: [3, 4, 5] })).toThrow(
      /found 2 hash tables but the config implies 3/,
    );
    expect(() => convertOriginalStateDict(tables(0), { encoder_hash_byte_group_vocab: 4 })).toThrow(
      /3 rows but encoder_hash_byte_group_vocab is 4/,
    );
    const mixed = tables(0, 1);
    mixed.set("encoder_hash_tok_embedding.1.weight", f32([3, 3], () => 0));
    expect(() => convertOriginalStateDict(mixed)).toThrow(/'encoder_hash_tok_embedding.1.weight' has shape \[3, 3\], table 0 has \[3, 2\]/);
    const ints = new Map([["encoder_hash_tok_embedding.0.weight", { dtype: "I32", shape: [1, 1], data: new Int32Array(1) } as RawTensor]]);
    expect(() => convertOriginalStateDict(ints)).toThrow(/must be a 2-D F32 tensor, got I32 \[1, 1\]/);
    expect(() => convertOriginalStateDict(new Map([["norm.weight", t]]), undefined, new Map([["norm.weight", t]]))).toThrow(
      /entropy-model key 'norm.weight' found in the BLT state dict/,
    );
    expect(() => convertOriginalStateDict(new Map([["local_encoder.bogus.weight", t]]))).toThrow(/unknown original checkpoint key/);
    expect(() => convertHfStateDictToOriginal(new Map([[HF_HASH_KEY, f32([7, 2], () => 0)]]), { encoder_hash_byte_group_size: [3, 4] })).toThrow(
      /has 7 rows, not 2 tables/,
    );
  });

  for (const config of ["blt1b_like", "proj_gqa"]) {
    it(`${config}: HF -> original -> HF reproduces the golden checkpoint exactly`, () => {
      const cfg = JSON.parse(fs.readFileSync(`${GOLDEN}/${config}/config.json`, "utf8")) as {
        encoder_hash_byte_group_size: number[];
        encoder_hash_byte_group_vocab: number;
        encoder_hash_byte_group_nb_functions: number;
      };
      const hf = readSafetensorsFile(`${GOLDEN}/${config}/model.safetensors`).tensors;
      const { blt, entropy } = convertHfStateDictToOriginal(hf, cfg);
      const tableCount = cfg.encoder_hash_byte_group_nb_functions * cfg.encoder_hash_byte_group_size.length;
      const hashKeys = [...blt.keys()].filter((k) => k.startsWith("encoder_hash_tok_embedding."));
      expect(hashKeys.length).toBe(tableCount); // 6 for blt1b_like, 12 for proj_gqa
      for (const k of hashKeys) expect(blt.get(k)!.shape).toEqual([cfg.encoder_hash_byte_group_vocab, hf.get(HF_HASH_KEY)!.shape[1]]);
      expect(entropy.has("tok_embeddings.weight")).toBe(true);
      expect(blt.get("local_decoder.output.weight")).toBe(hf.get("lm_head.weight"));

      const again = convertOriginalStateDict(blt, cfg, entropy);
      expect([...again.keys()].sort()).toEqual([...hf.keys()].sort());
      const differ = [...hf].filter(([k, t]) => {
        const u = again.get(k)!;
        return u.dtype !== t.dtype || u.shape.join() !== t.shape.join() || Buffer.compare(new Uint8Array(u.data.buffer, u.data.byteOffset, u.data.byteLength), new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)) !== 0;
      });
      expect(differ.map(([k]) => k)).toEqual([]);
    });
  }
});
