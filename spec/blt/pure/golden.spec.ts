// Golden HF data (the set ../shared/golden beside the repository): hash ids, entropies from the stored
// patcher logits, entropy / maxlen4 / stride4 / byte patch lengths, encoder and decoder patch ids, for
// every case of both configs — all exact except entropies.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type RawTensor } from "../../../src/io/safetensors.js";
import { readSafetensorsFile } from "../../../src/io/safetensors-file.js";
import { loadBltConfigFile } from "../../../src/blt/config/file.js";
import { encoderHashIds } from "../../../src/blt/hash-ngram.js";
import "../../../src/index.js"; // registers the CPU backend
import { Blt } from "../../../src/blt/blt.js";
import { entropyFromLogits } from "../../../src/blt/patching/entropy.js";
import { decoderPatchIdsFromLengths, patchIdsFromLengths } from "../../../src/blt/patching/patch-ids.js";
import { encode } from "../../../src/blt/tokenizer.js";
import { sharedPath } from '../../../src/io/shared-dir.js';

const GOLDEN = sharedPath('golden');
const CONFIGS = ["blt1b_like", "proj_gqa"];

function tensor(map: Map<string, RawTensor>, name: string, file: string): RawTensor {
  const t = map.get(name);
  if (!t) throw new Error(`${file}: missing tensor ${name}`);
  return t;
}

describe("golden HF cases", () => {
  for (const cfgName of CONFIGS) {
    const dir = join(GOLDEN, cfgName);
    const cases = readdirSync(join(dir, "cases")).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();

    it(`${cfgName}: has all 10 cases`, () => {
      expect(cases.length).toBe(10);
    });

    for (const name of cases) {
      it(`${cfgName}/${name}: hash ids, entropies, patch lengths and ids`, async () => {
        const cfg = await loadBltConfigFile(join(dir, "config.json"));
        const meta = JSON.parse(readFileSync(join(dir, "cases", `${name}.json`), "utf8"));
        const file = join(dir, "cases", `${name}.safetensors`);
        const { tensors } = readSafetensorsFile(file);
        const ids = Array.from(tensor(tensors, "input_ids", file).data);
        const L = ids.length;
        expect(ids).toEqual(meta.input_ids);
        // tokenizer: ids = [BOS] + (bytes + 4), no EOS
        const bytes = Uint8Array.from(Buffer.from(meta.bytes_hex, "hex"));
        expect(Array.from(encode(bytes))).toEqual(ids);

        // hash ids [F·G, L], function-major, per-table values in [0, V)
        const hash = tensor(tensors, "hash.ids", file);
        const G = cfg.hash.groupSizes.length;
        expect(hash.shape).toEqual([cfg.hash.nbFunctions * G, L]);
        const ours = encoderHashIds(ids, cfg.hash.groupSizes, cfg.hash.nbFunctions, cfg.hash.vocab);
        ours.forEach((row, r) => expect(Array.from(row)).toEqual(Array.from(hash.data.subarray(r * L, (r + 1) * L))));

        // entropies from the stored logits: float32 logits, float64 accumulation here vs float32 torch
        // (README: torch vs float64 ≤ 2e-6) ⇒ atol 1e-5 as the README suggests
        const logits = tensor(tensors, "patcher.logits", file);
        const stored = tensor(tensors, "patcher.entropies", file).data;
        const ent = entropyFromLogits(logits.data as Float32Array, L, 260);
        for (let t = 0; t < L; t++) expect(Math.abs(ent[t]! - stored[t]!)).toBeLessThan(1e-5);

        // entropy patch lengths, from the STORED entropies and from ours (margins ≥ 0.0038 ≫ 1e-5)
        // (through the model's own path, Blt.patchLengthsOf, on a model with the golden config)
        const model = new Blt(cfg);
        const want = Array.from(tensor(tensors, "entropy.patch_lengths", file).data);
        expect(want).toEqual(meta.variants.entropy.patch_lengths);
        expect(Array.from(model.patchLengthsOf([ids], stored)[0]!)).toEqual(want);
        expect(Array.from(model.patchLengthsOf([ids], ent)[0]!)).toEqual(want);
        const want4 = Array.from(tensor(tensors, "entropy_maxlen4.patch_lengths", file).data);
        expect(Array.from(model.patchLengthsOf([ids], stored, { maxPatchLength: 4 })[0]!)).toEqual(want4);

        // stride4 = [1, 4, 4, ..., rest] summing to L (static mode, no patch for the next position); byte = L+1 ones
        const stride = Array.from(tensor(tensors, "stride4.patch_lengths", file).data);
        Object.assign(model.config.patching, { mode: "static", patchSize: 4 });
        expect(Array.from(model.patchLengthsOf([ids], null, { convention: "N-offline" })[0]!)).toEqual(stride);
        const byte = Array.from(tensor(tensors, "byte.patch_lengths", file).data);
        model.config.patching.mode = "byte";
        expect(Array.from(model.patchLengthsOf([ids], null)[0]!)).toEqual(byte);

        // encoder / decoder patch ids of every variant, from the stored lengths
        for (const v of ["entropy", "stride4", "byte"]) {
          const lengths = tensor(tensors, `${v}.patch_lengths`, file).data;
          expect(Array.from(patchIdsFromLengths(lengths, L))).toEqual(Array.from(tensor(tensors, `${v}.patch_ids`, file).data));
          expect(Array.from(decoderPatchIdsFromLengths(lengths, L))).toEqual(
            Array.from(tensor(tensors, `${v}.decoder_patch_ids`, file).data),
          );
        }
      });
    }
  }
});
