// Micro BLT models for the generation specs: every code path of the real model (k = 2, GQA in the global
// model, hash n-grams, entropy patching), small enough to run a few hundred forward passes in seconds.
import { Blt } from '../../../src/blt/blt.js';
import { makeBltConfig } from '../../../src/blt/config/shapes.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import * as ops from '../../../src/ops/index.js';
import { entropyOfLogits } from '../../../src/blt/entropy-model.js';
import { causalRanges } from '../../../src/nn/transformer.js';

/**
 * A micro BLT with "hf" or "reference" behaviour whose entropy model gives varied patches: a freshly
 * initialised entropy model is almost uniform (H ≈ ln 260 > θ, one byte per patch), so its head is scaled by 8
 * (entropies spread over roughly [0, ln 260]) and θ is set to the median entropy of a fixed byte stream, so about
 * half the positions start a patch.
 */
export function microModel(behaviour: 'hf' | 'reference', seed = 0, over: { encCrossAll?: boolean; decCrossAll?: boolean } = {}): Blt {
  const cfg = makeBltConfig({
    k: 2,
    encoder: { hidden: 16, heads: 2, layers: over.encCrossAll ? 2 : 1, ffn: 32, crossAll: over.encCrossAll ?? false },
    decoder: { hidden: 16, heads: 2, layers: 2, ffn: 32, crossAll: over.decCrossAll ?? true },
    global: { hidden: 24, heads: 4, kvHeads: 2, layers: 2, ffn: 48 },
    patcher: { hidden: 16, heads: 2, layers: 1, ffn: 32 },
    hash: { groupSizes: [3, 4], nbFunctions: 1, vocab: 37 },
    behaviour,
  });
  const model = new Blt(cfg, { seed });
  const head = model.model.patcher!.lm_head;
  noGrad(() => {
    const scaled = ops.mul(head.weight, 8);
    head.weight.backend.copyInto(head.weight.storage, scaled.storage);
  });
  const stream = [1, ...Array.from({ length: 63 }, (_, i) => 4 + ((i * 37 + 11) % 256))];
  const ent = Array.from(entropyOfLogits(model.model.patcher!.forward(ops.tensor(Int32Array.from(stream), [1, 64]), ops.arange(0, 64),
    causalRanges(1, 64))).dataSync()).sort((a, b) => a - b);
  cfg.patching.threshold = ent[ent.length >> 1];
  return model;
}
