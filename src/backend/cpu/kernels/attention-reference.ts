// Reference scaled-dot-product attention: materialise the scores, softmax them, take the weighted sum of values.
// This is the readable test oracle for the fused flash-style kernel in attention.ts (nanoGPT keeps the same
// "manual path" next to its fused one). No tiling: one full score row per query.
//
//   s_ij = scale · q_i · k_j                                   (masked: s_ij = -∞ where key j is not allowed)
//   p_ij = exp(s_ij - lse_i),   lse_i = log Σ_j exp(s_ij)       (softmax over the allowed keys)
//   out_i = Σ_j p_ij · v_j                                     (0 when no key is allowed; lse_i = -∞ then)
//
// Backward (with dO = ∂L/∂out):
//   dP_ij = dO_i · v_j,   D_i = Σ_j p_ij·dP_ij = dO_i · out_i,   dS_ij = p_ij·(dP_ij - D_i)
//   dq_i = scale · Σ_j dS_ij k_j,   dk_j = scale · Σ_i dS_ij q_i,   dv_j = Σ_i p_ij dO_i
//
// Layouts (contiguous row-major): q [B, Tq, Hq, D]; k, v [B, Tk, Hkv, D]; out [B, Tq, Hq, D]; lse [B, Hq, Tq];
// mask [B, Tq, Tk] (1 = query may attend the key); kvStart/kvEnd [B, Tq] (allowed keys kvStart ≤ j < kvEnd).
// Grouped-query attention: query head h reads kv head ⌊h / (Hq / Hkv)⌋.

import { checkDims, checkLength, type FloatArray } from './matmul-reference.js';

/** Shapes of one attention call (the same fields as the backend's AttentionDims). */
export interface AttentionDims {
  B: number; Tq: number; Tk: number; Hq: number; Hkv: number; D: number; scale: number;
}

/** Validates dims and buffer lengths; returns the query-heads-per-kv-head group size. */
export function checkAttention(
  op: string, dims: AttentionDims, q: FloatArray, k: FloatArray, v: FloatArray,
): number {
  const { B, Tq, Tk, Hq, Hkv, D, scale } = dims;
  checkDims(op, { B, Tq, Tk, Hq, Hkv, D });
  if (Hkv === 0 ? Hq !== 0 : Hq % Hkv !== 0) {
    throw new Error(`${op}: Hq (${Hq}) must be a multiple of Hkv (${Hkv}) for grouped-query attention`);
  }
  if (!Number.isFinite(scale)) throw new Error(`${op}: scale must be finite, got ${scale}`);
  checkLength(op, 'q', q, B * Tq * Hq * D);
  checkLength(op, 'k', k, B * Tk * Hkv * D);
  checkLength(op, 'v', v, B * Tk * Hkv * D);
  return Hkv === 0 ? 1 : Hq / Hkv;
}

/** Validates the per-query key ranges: 0 ≤ kvStart and kvEnd ≤ Tk (kvEnd ≤ kvStart means "no keys"). */
export function checkRanges(op: string, dims: AttentionDims, kvStart: Int32Array, kvEnd: Int32Array): void {
  const n = dims.B * dims.Tq;
  checkLength(op, 'kvStart', kvStart, n);
  checkLength(op, 'kvEnd', kvEnd, n);
  for (let i = 0; i < n; i++) {
    if (kvStart[i] < 0 || kvEnd[i] > dims.Tk) {
      throw new Error(`${op}: key range [${kvStart[i]}, ${kvEnd[i]}) of query row ${i} is outside [0, Tk=${dims.Tk})`);
    }
  }
}

/** Builds the boolean mask [B, Tq, Tk] equivalent to the key ranges. */
export function rangesToMask(dims: AttentionDims, kvStart: Int32Array, kvEnd: Int32Array): Uint8Array {
  const { B, Tq, Tk } = dims;
  const mask = new Uint8Array(B * Tq * Tk);
  for (let r = 0; r < B * Tq; r++) {
    for (let j = kvStart[r]; j < kvEnd[r]; j++) mask[r * Tk + j] = 1;
  }
  return mask;
}

/** Probabilities p [B, Hq, Tq, Tk] (0 where masked) and lse [B, Hq, Tq], computed from full score rows. */
function probabilities(
  q: FloatArray, k: FloatArray, mask: Uint8Array, dims: AttentionDims, group: number,
): { p: Float64Array; lse: Float64Array } {
  const { B, Tq, Tk, Hq, Hkv, D, scale } = dims;
  const p = new Float64Array(B * Hq * Tq * Tk);
  const lse = new Float64Array(B * Hq * Tq);
  const s = new Float64Array(Tk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < Tq; t++) {
        const row = (b * Hq + h) * Tq + t;
        // s_j = scale · q·k_j for allowed keys, -∞ otherwise; m = max_j s_j
        let m = -Infinity;
        for (let j = 0; j < Tk; j++) {
          if (!mask[(b * Tq + t) * Tk + j]) { s[j] = -Infinity; continue; }
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[((b * Tq + t) * Hq + h) * D + d] * k[((b * Tk + j) * Hkv + g) * D + d];
          s[j] = scale * dot;
          if (s[j] > m) m = s[j];
        }
        if (m === -Infinity) { lse[row] = -Infinity; continue; } // no allowed key: p = 0
        // lse = m + log Σ_j exp(s_j - m);  p_j = exp(s_j - lse)
        let sum = 0;
        for (let j = 0; j < Tk; j++) sum += Math.exp(s[j] - m);
        lse[row] = m + Math.log(sum);
        for (let j = 0; j < Tk; j++) p[row * Tk + j] = Math.exp(s[j] - lse[row]);
      }
    }
  }
  return { p, lse };
}

/** Forward with a boolean mask [B, Tq, Tk]; writes out [B, Tq, Hq, D] and lse [B, Hq, Tq]. */
export function attentionReferenceMasked(
  q: FloatArray, k: FloatArray, v: FloatArray, mask: Uint8Array, dims: AttentionDims,
  out: FloatArray, lse: FloatArray,
): void {
  const op = 'attentionReferenceMasked';
  const group = checkAttention(op, dims, q, k, v);
  const { B, Tq, Tk, Hq, Hkv, D } = dims;
  checkLength(op, 'mask', mask, B * Tq * Tk);
  checkLength(op, 'out', out, B * Tq * Hq * D);
  checkLength(op, 'lse', lse, B * Hq * Tq);
  const P = probabilities(q, k, mask, dims, group);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < Tq; t++) {
        const row = (b * Hq + h) * Tq + t;
        lse[row] = P.lse[row];
        for (let d = 0; d < D; d++) {
          // out_td = Σ_j p_tj · v_jd
          let acc = 0;
          for (let j = 0; j < Tk; j++) acc += P.p[row * Tk + j] * v[((b * Tk + j) * Hkv + g) * D + d];
          out[((b * Tq + t) * Hq + h) * D + d] = acc;
        }
      }
    }
  }
}

/** Forward with per-query key ranges (same contract as attentionForward in attention.ts). */
export function attentionReference(
  q: FloatArray, k: FloatArray, v: FloatArray, kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims,
  out: FloatArray, lse: FloatArray,
): void {
  checkRanges('attentionReference', dims, kvStart, kvEnd);
  attentionReferenceMasked(q, k, v, rangesToMask(dims, kvStart, kvEnd), dims, out, lse);
}

/** Backward with per-query key ranges; dq, dk, dv are overwritten (same contract as attentionBackward). */
export function attentionBackwardReference(
  q: FloatArray, k: FloatArray, v: FloatArray, dOut: FloatArray, kvStart: Int32Array, kvEnd: Int32Array,
  dims: AttentionDims, dq: FloatArray, dk: FloatArray, dv: FloatArray,
): void {
  const op = 'attentionBackwardReference';
  const group = checkAttention(op, dims, q, k, v);
  checkRanges(op, dims, kvStart, kvEnd);
  const { B, Tq, Tk, Hq, Hkv, D, scale } = dims;
  checkLength(op, 'dOut', dOut, B * Tq * Hq * D);
  const { p } = probabilities(q, k, rangesToMask(dims, kvStart, kvEnd), dims, group);
  const dq64 = new Float64Array(B * Tq * Hq * D);
  const dk64 = new Float64Array(B * Tk * Hkv * D);
  const dv64 = new Float64Array(B * Tk * Hkv * D);
  const dP = new Float64Array(Tk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < Tq; t++) {
        const row = (b * Hq + h) * Tq + t;
        const qo = ((b * Tq + t) * Hq + h) * D;
        // dP_j = dO·v_j;  D_t = Σ_j p_j dP_j
        let Dt = 0;
        for (let j = 0; j < Tk; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += dOut[qo + d] * v[((b * Tk + j) * Hkv + g) * D + d];
          dP[j] = dot;
          Dt += p[row * Tk + j] * dot;
        }
        for (let j = 0; j < Tk; j++) {
          const pj = p[row * Tk + j];
          const dS = pj * (dP[j] - Dt); // dS_j = p_j (dP_j - D_t)
          const ko = ((b * Tk + j) * Hkv + g) * D;
          for (let d = 0; d < D; d++) {
            dq64[qo + d] += scale * dS * k[ko + d];
            dk64[ko + d] += scale * dS * q[qo + d];
            dv64[ko + d] += pj * dOut[qo + d];
          }
        }
      }
    }
  }
  dq.set(dq64);
  dk.set(dk64);
  dv.set(dv64);
}
