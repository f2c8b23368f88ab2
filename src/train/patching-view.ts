/**
 * The patching of one text by a model's entropy model, byte by byte (for `blt patch` and the report).
 * Tokens: x = [BOS, b_0+4, ..., b_{n-1}+4]. Byte i sits at position i+1; its entropy is that of the prediction
 * made at position i, H(b_i) = ent[i] (eq. 1). Byte 0 always starts a patch (positions 0 and 1 are forced
 * starts); the other starts are the model's patching rule (Blt.patchLengthsOf) with threshold θ, e.g. byte
 * i ≥ 1 starts one iff H(b_i) > θ under the global rule (paper §2.3). Lengths exclude the BOS patch.
 */
import type { Blt } from '../blt/blt.js';
import { encode } from '../blt/tokenizer.js';

export interface PatchingView {
  bytes: Uint8Array;
  /** H(b_i) per byte, nats */
  entropies: Float32Array;
  starts: boolean[];
  /** patch lengths over the bytes (sum = n) */
  byteLengths: number[];
  threshold: number;
}

export interface PatchingViewOptions {
  /** entropy threshold θ (default: the model's) */
  threshold?: number;
  /** told the tokens done after each run of the entropy model (long texts) */
  onProgress?: (done: number, total: number) => void;
}

export async function patchingView(model: Blt, text: string | Uint8Array, opts: PatchingViewOptions = {}): Promise<PatchingView> {
  const threshold = opts.threshold ?? model.config.patching.threshold;
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  if (bytes.length === 0) throw new Error('patch: the text is empty');
  const ids = encode(bytes, { addBos: true, addEos: false });
  const values = await model.computeEntropies([ids], { onProgress: opts.onProgress }); // [1, N]
  // the model's rule with θ, over the real bytes only ("N-offline": no patch for the unseen next byte)
  const [lengths] = model.patchLengthsOf([ids], values, { threshold, convention: 'N-offline' });
  const byteLengths = Array.from(lengths.subarray(1)); // drop the BOS patch
  const starts = new Array<boolean>(bytes.length).fill(false);
  let s = 0;
  for (const L of byteLengths) { if (s < bytes.length) starts[s] = true; s += L; }
  return { bytes, entropies: values.subarray(0, bytes.length), starts, byteLengths, threshold };
}
