// Ready-made model shapes: makeBltConfig builds a validated config from a compact description (the global input
// projection derived as HF does); tinyConfig and smallConfig are the shapes of the tests, the demo and the
// benchmarks. swigluHidden is Meta's rule for the SwiGLU width.
import type { BltConfig, HashConfig, TransformerPartConfig } from './types.js';
import { defaultsFor } from './behaviour.js';
import { validateBltConfig } from './validate.js';

/** SwiGLU width of Meta's code: 256·⌈⌊8d/3⌋/256⌉ (its `multiple_of` rounding of the Llama FFN width). */
export function swigluHidden(dim: number, multipleOf = 256, ffnDimMultiplier = 1.0): number {
  const h0 = Math.floor(ffnDimMultiplier * Math.floor((2 * 4 * dim) / 3));
  return multipleOf * Math.ceil(h0 / multipleOf);
}


interface PartSpec {
  hidden: number;
  heads: number;
  kvHeads?: number;
  layers: number;
  ffn: number;
  theta?: number;
}

function makePart(s: PartSpec, theta: number, eps: number, maxPos: number): TransformerPartConfig {
  return {
    hiddenSize: s.hidden,
    numHeads: s.heads,
    numKvHeads: s.kvHeads ?? s.heads,
    headDim: s.hidden / s.heads,
    numLayers: s.layers,
    intermediateSize: s.ffn,
    rmsNormEps: eps,
    ropeTheta: s.theta ?? theta,
    maxPositionEmbeddings: maxPos,
  };
}

export interface FactorySpec {
  k: number;
  encoder: PartSpec & { crossAll?: boolean };
  decoder: PartSpec & { crossAll?: boolean };
  global: PartSpec;
  patcher: PartSpec;
  hash: HashConfig;
  threshold?: number;
  behaviour?: "hf" | "reference";
  maxPos?: number;
}

/** Build a validated config from a compact spec (global projection derived as HF does). */
export function makeBltConfig(s: FactorySpec): BltConfig {
  const eps = 1e-5;
  const maxPos = s.maxPos ?? 1024;
  const dG = s.global.hidden;
  const kDe = s.k * s.encoder.hidden;
  const cfg: BltConfig = {
    vocabSize: 260,
    crossAttnK: s.k,
    hash: { ...s.hash, groupSizes: [...s.hash.groupSizes] },
    patching: {
      mode: "entropy",
      threshold: s.threshold ?? 1.335442066192627,
      thresholdAdd: null,
      monotonicity: false,
      maxPatchLength: null,
      patchSize: 4,
      patchInForward: true,
    },
    encoder: { ...makePart(s.encoder, 500000, eps, maxPos), crossAttnAllLayers: s.encoder.crossAll ?? false, crossAttnK: s.k, hiddenSizeGlobal: dG },
    decoder: { ...makePart(s.decoder, 500000, eps, maxPos), crossAttnAllLayers: s.decoder.crossAll ?? true, crossAttnK: s.k, hiddenSizeGlobal: dG },
    global: { ...makePart(s.global, 500000, eps, maxPos), encoderCrossOutputSize: kDe === dG ? null : kDe },
    patcher: { ...makePart(s.patcher, 10000, eps, maxPos), vocabSize: 260 },
    behaviour: defaultsFor(s.behaviour ?? "hf"),
  };
  validateBltConfig(cfg, "<makeBltConfig>");
  return cfg;
}

/** Tiny model with the structure of BLT-1B (the golden `blt1b_like` shapes): fast unit tests and demos. */
export function tinyConfig(behaviour: "hf" | "reference" = "hf"): BltConfig {
  return makeBltConfig({
    k: 2,
    encoder: { hidden: 32, heads: 2, layers: 1, ffn: 96, crossAll: false },
    decoder: { hidden: 32, heads: 2, layers: 2, ffn: 96, crossAll: true },
    global: { hidden: 64, heads: 4, layers: 2, ffn: 176 },
    patcher: { hidden: 32, heads: 2, layers: 2, ffn: 96 },
    hash: { groupSizes: [3, 4, 5, 6, 7, 8], nbFunctions: 1, vocab: 1000 },
    threshold: 1.335442066192627,
    behaviour,
  });
}

/** Small model (the shapes of the benchmark config bench/blt-small, beside the repository): benchmarks and demo training. */
export function smallConfig(behaviour: "hf" | "reference" = "hf"): BltConfig {
  return makeBltConfig({
    k: 2,
    encoder: { hidden: 128, heads: 4, layers: 1, ffn: 512, crossAll: false },
    decoder: { hidden: 128, heads: 4, layers: 2, ffn: 512, crossAll: true },
    global: { hidden: 256, heads: 8, layers: 4, ffn: 768 },
    patcher: { hidden: 64, heads: 4, layers: 2, ffn: 256 },
    hash: { groupSizes: [3, 4, 5, 6, 7, 8], nbFunctions: 1, vocab: 4096 },
    threshold: 1.335442066192627,
    behaviour,
    maxPos: 2048,
  });
}
