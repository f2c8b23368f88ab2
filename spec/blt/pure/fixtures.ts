// Meta's `fixtures/tokens_with_entropies.json` in its bytelatent repository (81 tokens, real entropy-model outputs).
import "../../../src/index.js"; // registers the CPU backend
import { Blt } from "../../../src/blt/blt.js";
import type { PatchingConfig } from "../../../src/blt/config/types.js";
import { makeBltConfig } from "../../../src/blt/config/shapes.js";
import type { PatchRuleOverrides } from "../../../src/blt/patching/patch-lengths.js";
export const APPB_TOKENS = [
  1, 72, 101, 105, 114, 105, 118, 125, 119, 36, 88, 101, 118, 107, 101, 118, 125, 105, 114, 36, 109, 119, 36, 109,
  114, 36, 75, 101, 113, 105, 36, 115, 106, 36, 88, 108, 118, 115, 114, 105, 119, 48, 36, 101, 36, 106, 101, 114,
  120, 101, 119, 125, 36, 105, 116, 109, 103, 36, 102, 125, 36, 75, 105, 115, 118, 107, 105, 36, 86, 50, 86, 50, 36,
  81, 101, 118, 120, 109, 114, 50, 2,
];

export const APPB_ENTROPIES = [
  3.394915819, 2.165645122, 2.321656942, 2.821405888, 1.524924278, 0.0401624143, 0.0981037766, 0.0544578359,
  0.3430138826, 1.05462122, 0.25252828, 0.1494535804, 0.0624754503, 0.001355894, 0.0050173439, 0.0052358187,
  0.0011725067, 0.0010307421, 1.024120808, 3.686796665, 0.4502205253, 0.0484119244, 2.257287502, 0.3789347112,
  1.004293442, 2.909005404, 1.8933599, 1.385907412, 0.3827198744, 0.2646365762, 1.774208546, 0.0136727821,
  0.0053820172, 0.5485631227, 0.2064044327, 0.0049266233, 0.0005439016, 0.0007023578, 0.0004170335, 0.0054524317,
  1.193813086, 0.0238215197, 3.127979755, 1.388338924, 3.05030942, 1.695879817, 1.855105877, 1.457023144,
  0.0047810897, 0.026396824, 0.6633765101, 0.3141393065, 2.841115951, 1.143143177, 0.0520330966, 0.3398066461,
  0.4140175879, 2.556370735, 1.3370713, 0.0227173548, 3.444718599, 1.857648611, 0.8189754486, 0.6776530743,
  0.0677763447, 0.212713033, 0.1003480032, 0.1746164262, 0.4123829603, 0.5507118702, 0.1047425047, 0.0194335245,
  0.001482119, 0.0009310447, 0.0002176317, 0.0076908777, 0.0003866984, 0.0008008487, 1.239523411, 0.4564163089,
  0.0000461392,
];

export const APPB_THRESHOLD = 1.335442066192627;

export const APPB_STARTS = [0, 1, 2, 3, 4, 5, 20, 23, 26, 27, 28, 31, 43, 44, 45, 46, 47, 48, 53, 58, 59, 61, 62];

export const APPB_LENGTHS_NEXT = [1, 1, 1, 1, 1, 15, 3, 3, 1, 1, 3, 12, 1, 1, 1, 1, 1, 5, 5, 1, 2, 1, 20];

const rep = (v: number, n: number): number[] => Array.from({ length: n }, () => v);

export const APPB_PATCH_IDS = [
  0, 1, 2, 3, 4, ...rep(5, 15), 6, 6, 6, 7, 7, 7, 8, 9, 10, 10, 10, ...rep(11, 12), 12, 13, 14, 15, 16,
  ...rep(17, 5), ...rep(18, 5), 19, 20, 20, 21, ...rep(22, 19),
];

export const APPB_DECODER_IDS = [
  0, 1, 2, 3, ...rep(4, 15), 5, 5, 5, 6, 6, 6, 7, 8, 9, 9, 9, ...rep(10, 12), 11, 12, 13, 14, 15, ...rep(16, 5),
  ...rep(17, 5), 18, 19, 19, 20, ...rep(21, 20),
];

// ---- patching through the model's own path ------------------------------------------------------------------

const patchModels = new Map<string, Blt>();

/** One small model per behaviour preset; only its config's patching fields change between calls. */
function patchModel(preset: "hf" | "reference"): Blt {
  let m = patchModels.get(preset);
  if (!m) {
    m = new Blt(makeBltConfig({
      k: 2, behaviour: preset,
      encoder: { hidden: 8, heads: 1, layers: 1, ffn: 8 }, decoder: { hidden: 8, heads: 1, layers: 1, ffn: 8 },
      global: { hidden: 16, heads: 1, layers: 1, ffn: 8 }, patcher: { hidden: 8, heads: 1, layers: 1, ffn: 8 },
      hash: { groupSizes: [3], nbFunctions: 1, vocab: 8 },
    }));
    patchModels.set(preset, m);
  }
  return m;
}

/**
 * Patch lengths of one row as the model computes them (Blt.patchLengthsOf, the path forward, training,
 * generation, the CLI and the golden check use), with the given patching fields on the preset's config.
 * `tokens` default to BOS followed by 'a's (N = entropies.length).
 */
export function modelPatchLengths(preset: "hf" | "reference", patching: Partial<PatchingConfig>,
  entropies: ArrayLike<number> | null, tokens?: ArrayLike<number>, overrides: PatchRuleOverrides = {}): number[] {
  const m = patchModel(preset);
  const defaults: PatchingConfig = { mode: "entropy", threshold: 1.335442066192627, thresholdAdd: null, monotonicity: false,
    maxPatchLength: null, patchSize: 4, patchInForward: true };
  Object.assign(m.config.patching, defaults, patching);
  const toks = tokens ?? Array.from({ length: entropies!.length }, (_, i) => (i === 0 ? 1 : 97 + 4));
  return Array.from(m.patchLengthsOf([Array.from(toks)], entropies === null ? null : Array.from(entropies), overrides)[0]!);
}
