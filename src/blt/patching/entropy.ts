// Eq. 1 on the host, with its minus sign: H_t = -Σ_v p_v log p_v, p = softmax(logits[t]), in nats, over all 260
// outputs (the entropy model's own tensor version is entropyOfLogits in ../entropy-model.ts). Used to check stored
// logits against stored entropies.

// [doc:entropy]
/**
 * Entropy of each row of `logits` ([T, V] row-major), natural log, over all V outputs (V = 260 for BLT,
 * so H ∈ [0, ln 260]). Stable log-softmax form, accumulated in float64:
 *   m = max_v ℓ_v,  s = Σ_v e^{ℓ_v - m},  H = log s - Σ_v e^{ℓ_v - m}(ℓ_v - m) / s
 * Terms with e^{ℓ_v - m} = 0 (ℓ_v = -∞) contribute 0 (p log p → 0). Result is clamped at ≥ 0
 * (rounding can give ≈ -1e-16 for one-hot rows). A row with NaN or no finite logit throws.
 */
export function entropyFromLogits(logits: Float32Array | Float64Array, T: number, V = 260): Float32Array {
  if (!Number.isInteger(T) || T < 0 || !Number.isInteger(V) || V < 1)
    throw new Error(`entropyFromLogits: bad shape [T=${T}, V=${V}]`);
  if (logits.length !== T * V)
    throw new Error(`entropyFromLogits: logits has ${logits.length} values, expected T·V = ${T}·${V} = ${T * V}`);
  const out = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const base = t * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) {
      const l = logits[base + v]!;
      if (Number.isNaN(l)) throw new Error(`entropyFromLogits: NaN logit at [${t}, ${v}]`);
      if (l > m) m = l;
    }
    if (!Number.isFinite(m)) throw new Error(`entropyFromLogits: row ${t} has no finite maximum logit (max = ${m})`);
    let s = 0;
    let weighted = 0; // Σ e^{ℓ-m}(ℓ-m)
    for (let v = 0; v < V; v++) {
      const d = logits[base + v]! - m;
      const e = Math.exp(d);
      if (e === 0) continue;
      s += e;
      weighted += e * d;
    }
    const h = Math.log(s) - weighted / s;
    out[t] = h > 0 ? h : 0;
  }
  return out;
}
