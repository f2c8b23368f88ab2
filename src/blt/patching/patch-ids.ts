// Patch starts and patch ids from patch lengths (paper §3.2-3.3: which patch a byte pools into and reads from).
//
//   starts      S_0 = 0, S_{j+1} = S_j + L_j
//   encoder     p(i) = #{j : S_j ≤ i} - 1                 (HF `_patch_ids_from_lengths`, i = 0..N-1)
//   decoder     d(i) = ids computed from lengths[1:]       (the BOS patch removed, HF and Meta)
//                    = p(i+1) - 1 because L_0 = 1          (position N counts as part of the last patch)
//               d(i) is the last patch whose tokens are all at positions ≤ i; token i (predicting x[i+1])
//               may only read that patch's global output.
// Zero-length patches (HF's trailing 0, or 0-padding of batch rows) just make two starts coincide;
// they never own a position. The P = 1 case (lengths = [1]) gives lengths[1:] = [] and HF then treats
// it as one start at 0, so every decoder id is 0 — reproduced here.
// Lengths must be non-negative integers; HF's −1 filler of batched patching is rejected.

function checkLengths(lengths: ArrayLike<number>, op: string): void {
  for (let j = 0; j < lengths.length; j++) {
    const L = lengths[j]!;
    if (!Number.isInteger(L) || L < 0) throw new Error(`${op}: patch length ${L} at index ${j} is not a non-negative integer`);
  }
}

/** S_j = Σ_{q<j} L_q for j = 0..P-1. */
export function patchStartsFromLengths(lengths: ArrayLike<number>): Int32Array {
  checkLengths(lengths, "patchStartsFromLengths");
  const starts = new Int32Array(lengths.length);
  let s = 0;
  for (let j = 0; j < lengths.length; j++) {
    starts[j] = s;
    s += lengths[j]!;
  }
  return starts;
}

// [doc:patch-ids]
/**
 * Encoder patch id of each position 0..N-1: p(i) = #{j : S_j ≤ i} - 1 (an empty `lengths` is treated
 * as a single start at 0, as HF's concatenation [0] ++ cumsum(L)[:-1] does).
 * Positions beyond ΣL get the last patch id (they are never used when ΣL ≥ N).
 */
export function patchIdsFromLengths(lengths: ArrayLike<number>, N: number): Int32Array {
  checkLengths(lengths, "patchIdsFromLengths");
  if (!Number.isInteger(N) || N < 0) throw new Error(`patchIdsFromLengths: bad sequence length ${N}`);
  const ids = new Int32Array(N);
  const P = Math.max(1, lengths.length);
  // walk the starts once: j = index of the current start, next = S_{j+1}
  let j = 0;
  let next = lengths.length > 0 ? lengths[0]! : Infinity;
  for (let i = 0; i < N; i++) {
    while (j + 1 < P && next <= i) {
      j++;
      next += lengths[j]!;
    }
    ids[i] = j;
  }
  return ids;
}

// [doc:decoder-ids]
/**
 * Decoder patch id of each position 0..N-1: patch ids of lengths[1:] (d(i) = p(i+1) - 1).
 * Requires lengths[0] === 1 (the BOS patch; Meta asserts it, and the shift is only causal with it).
 */
export function decoderPatchIdsFromLengths(lengths: ArrayLike<number>, N: number): Int32Array {
  if (lengths.length === 0) throw new Error("decoderPatchIdsFromLengths: empty patch lengths");
  if (lengths[0] !== 1)
    throw new Error(`decoderPatchIdsFromLengths: the first patch length must be 1 (the BOS patch), got ${lengths[0]}`);
  return patchIdsFromLengths(Array.prototype.slice.call(lengths, 1) as number[], N);
}

/** The patches of a batch as the model lays them out (Blt.patchedBatch). */
export interface BatchPatchIds {
  /** patches per row: the longest row; shorter rows are right-padded with zero-length patches */
  P: number;
  /** [B, P]: the lengths, padded with 0 */
  lengths: Int32Array;
  /** [B·T]: b·P + p(i), the encoder's pooling segment of every byte (an index into the [B·P] patch rows) */
  segments: Int32Array;
  /** [B, T]: d(i), the patch whose global output byte i reads */
  decoderIds: Int32Array;
}

// [doc:batch-patch-ids]
/**
 * Encoder and decoder patch ids of a batch, each row from its OWN lengths (rows: one unpadded row of lengths
 * per batch row, T positions each). The ids must not be computed from the padded [B, P] block: a padding 0
 * adds a start at ΣL, which is position T when ΣL = T (HF), and moves d(T-1) onto a padding patch (e.g. [1, 3, 0]
 * with T = 4 has d(3) = 1, the padded [1, 3, 0, 0] would give 2).
 */
export function batchPatchIds(rows: readonly ArrayLike<number>[], T: number): BatchPatchIds {
  const B = rows.length;
  let P = 0;
  for (const r of rows) P = Math.max(P, r.length);
  const lengths = new Int32Array(B * P); // [B, P]
  const segments = new Int32Array(B * T); // [B·T]
  const decoderIds = new Int32Array(B * T); // [B, T]
  rows.forEach((r, b) => {
    checkLengths(r, "batchPatchIds");
    for (let j = 0; j < r.length; j++) lengths[b * P + j] = r[j]!;
    const p = patchIdsFromLengths(r, T), d = decoderPatchIdsFromLengths(r, T);
    for (let t = 0; t < T; t++) {
      segments[b * T + t] = b * P + p[t]!;
      decoderIds[b * T + t] = d[t]!;
    }
  });
  return { P, lengths, segments, decoderIds };
}
