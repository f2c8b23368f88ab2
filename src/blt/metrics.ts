// Evaluation metrics on plain numbers (mean next-byte cross-entropy; bits per byte, paper eq. 18).
//
//   CE_t  = -log softmax(logits[t])[target_t]                 (nats, next-byte cross-entropy)
//   BPB   = Σ_t CE_t / (ln 2 · n_bytes)                       (eq. 18; n_bytes = number of scored targets,
//                                                             EOS targets included, as Meta's eval counts)
// A uniform predictor over 260 classes has BPB = log2 260 ≈ 8.0224.

// [doc:bpb]
/** Eq. 18: bits per byte from a SUMMED cross-entropy in nats. */
export function bitsPerByte(sumCrossEntropyNats: number, nBytes: number): number {
  if (!(nBytes > 0)) throw new Error(`bitsPerByte: nBytes must be > 0, got ${nBytes}`);
  return sumCrossEntropyNats / (Math.LN2 * nBytes);
}

// [doc:ce-sum]
/**
 * Summed next-token cross-entropy (nats) of logits [T, V] (row-major) against targets [T].
 * Targets < 0 (Meta's PAD = -1) and positions with mask[t] = 0 are skipped. log-softmax in float64.
 */
export function crossEntropySum(
  logits: Float32Array | Float64Array,
  T: number,
  V: number,
  targets: ArrayLike<number>,
  mask?: ArrayLike<number>,
): { sumNats: number; count: number } {
  if (logits.length !== T * V) throw new Error(`crossEntropySum: logits has ${logits.length} values, expected T·V = ${T}·${V}`);
  if (targets.length !== T) throw new Error(`crossEntropySum: ${targets.length} targets for T = ${T} positions`);
  if (mask !== undefined && mask.length !== T) throw new Error(`crossEntropySum: mask length ${mask.length} ≠ T = ${T}`);
  let sumNats = 0;
  let count = 0;
  for (let t = 0; t < T; t++) {
    const y = targets[t]!;
    if (y < 0 || (mask !== undefined && !mask[t])) continue;
    if (!Number.isInteger(y) || y >= V) throw new Error(`crossEntropySum: target ${y} at ${t} outside [0, ${V})`);
    const base = t * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) m = Math.max(m, logits[base + v]!);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(logits[base + v]! - m);
    // CE = logsumexp(ℓ) - ℓ_y = m + log Σ e^{ℓ-m} - ℓ_y
    sumNats += m + Math.log(s) - logits[base + y]!;
    count++;
  }
  return { sumNats, count };
}

/** BPB of logits [T, V] against targets (eq. 18 with n_bytes = number of scored targets). */
export function bitsPerByteFromLogits(
  logits: Float32Array | Float64Array,
  T: number,
  V: number,
  targets: ArrayLike<number>,
  mask?: ArrayLike<number>,
): number {
  const { sumNats, count } = crossEntropySum(logits, T, V, targets, mask);
  return bitsPerByte(sumNats, count);
}

/** Average patch size n/m = Σ lengths / number of non-empty patches. */
export function averagePatchLength(lengths: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (let j = 0; j < lengths.length; j++) {
    sum += lengths[j]!;
    if (lengths[j]! > 0) count++;
  }
  if (count === 0) throw new Error("averagePatchLength: no non-empty patch");
  return sum / count;
}
