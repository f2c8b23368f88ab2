// Behaviour presets: the switches of BltBehaviour set as Hugging Face's transformers BLT computes ("hf") or as
// Meta's bytelatent code does ("reference"). docs/differences.md explains each difference.
import type { BltBehaviour } from './types.js';

// [doc:behaviour-presets]
/** Behaviour presets: "hf" reproduces transformers' BLT, "reference" Meta's bytelatent code. */
export function defaultsFor(flavour: "hf" | "reference"): BltBehaviour {
  if (flavour === "hf")
    return {
      localWindow: null,
      patcherWindow: null,
      patcherChunk: null,
      documentMask: false,
      repoolEachCrossLayer: true,
      patchLengthsSumTo: "N",
      emptyPatchAttention: "uniform-all",
      metaPatchRules: false,
    };
  if (flavour === "reference")
    return {
      localWindow: 512,
      patcherWindow: 512,
      patcherChunk: 8192,
      documentMask: true,
      repoolEachCrossLayer: false,
      patchLengthsSumTo: "N+1",
      emptyPatchAttention: "none",
      metaPatchRules: true,
    };
  throw new Error(`defaultsFor: unknown flavour "${flavour as string}" (expected "hf" or "reference")`);
}
