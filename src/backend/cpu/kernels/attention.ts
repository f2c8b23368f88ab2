// Fused scaled-dot-product attention on the CPU, flash-style (online softmax), with a per-query key range mask.
// Forward and backward; attention-reference.ts is the plain materialise-everything version it is tested against.
//
//   s_tj = scale · q_t · k_j  for kvStart[t] ≤ j < kvEnd[t]      (every BLT mask is such a contiguous range)
//   out_t = Σ_j softmax_j(s_t)_j · v_j,   lse_t = log Σ_j exp(s_tj)   (out_t = 0, lse_t = -∞ for an empty range)
//
// Blocking (the same register-blocking idea as matmul.ts): for each (batch b, kv head g) K and V are packed once
// into float64 panels, then every query head h of g's group is processed in blocks of 4 query rows:
//   kp  [⌈Tk/4⌉][D][4]  "key panels": 4 consecutive keys side by side, for S = Q·Kᵀ;
//   vp  [⌈D/4⌉][Tk][4]  "dim panels": 4 consecutive feature dims of every key, for O += P·V.
// Each 4×4 tile of S (4 queries × 4 keys) or of O (4 queries × 4 dims) is computed by a micro-kernel with 16
// float64 locals (8 loads per 16 multiply-adds). Keys are visited in tiles of KEY_TILE, over the union of the 4
// queries' ranges; a key outside one query's own range gets score -∞ (probability 0) for that query.
//
// Forward, per key tile (online softmax, FlashAttention): (1) S tile and each row's tile max; (2) when the running
// max m grows, rescale l ← l·exp(m_old - m) and the output accumulator likewise; (3) p = exp(s - m), l += Σp,
// acc += P·V. Finally out = acc / l and lse = m + log l. No [Tq, Tk] matrix ever exists.
//
// Backward (FlashAttention-2 style recomputation from lse; dO = ∂L/∂out), per 4-query block and key tile:
//   p_tj = exp(s_tj - lse_t),  D_t = dO_t · out_t,  dP_tj = dO_t · v_j,  dS_tj = p_tj · (dP_tj - D_t)
//   dq_t = scale · Σ_j dS_tj k_j,   dk_j = scale · Σ_t dS_tj q_t,   dv_j = Σ_t p_tj dO_t
// dq for the block is a float64 accumulator; dk and dv for (b, g) are float64 scratch [Tk, D] summed over all
// query heads of the group and written once at the end.
//
// Layouts (contiguous row-major): q [B, Tq, Hq, D]; k, v [B, Tk, Hkv, D]; out [B, Tq, Hq, D]; lse [B, Hq, Tq];
// kvStart, kvEnd [B, Tq]. Query head h uses kv head ⌊h / (Hq / Hkv)⌋ (grouped-query attention).
//
// Work is organised in units, u = (batch b, query head h) for attentionForwardUnits and u = (batch b, kv head g)
// for attentionBackwardUnits, so that attention-threads.ts can hand units to worker threads. Those two functions and the helpers they call
// (packKeyPanels, packDimPanels, scoreTile, accumulateTile, blockRanges, KEY_TILE) must stay self-contained:
// thread-pool.ts ships their source text to the workers.

import { checkLength, type FloatArray } from './matmul-reference.js';
import { checkAttention, checkRanges, type AttentionDims } from './attention-reference.js';

export type { AttentionDims } from './attention-reference.js';

/** Keys per online-softmax tile (one rescale of the accumulator per tile). A multiple of 4. */
export const KEY_TILE = 64;

/** kp[(jp·D + d)·4 + c] = x[key 4·jp + c, d] (0 past Tk): 4 keys side by side. Row j of x starts at base + j·stride. */
export function packKeyPanels(x: FloatArray, base: number, stride: number, Tk: number, D: number, kp: Float64Array): void {
  const panels = (Tk + 3) >> 2;
  for (let jp = 0; jp < panels; jp++) {
    for (let c = 0; c < 4; c++) {
      const j = jp * 4 + c;
      const row = base + j * stride;
      for (let d = 0; d < D; d++) kp[(jp * D + d) * 4 + c] = j < Tk ? x[row + d] : 0;
    }
  }
}

/** vp[(dp·Tk + j)·4 + c] = x[key j, 4·dp + c] (0 past D): 4 feature dims of each key side by side. */
export function packDimPanels(x: FloatArray, base: number, stride: number, Tk: number, D: number, vp: Float64Array): void {
  const panels = (D + 3) >> 2;
  for (let j = 0; j < Tk; j++) {
    const row = base + j * stride;
    for (let dp = 0; dp < panels; dp++) {
      for (let c = 0; c < 4; c++) {
        const d = dp * 4 + c;
        vp[(dp * Tk + j) * 4 + c] = d < D ? x[row + d] : 0;
      }
    }
  }
}

/**
 * Scores of a 4-query block against one tile of keys: st[r·KEY_TILE + (j - j0)] = scale · q_r·k_j for keys
 * j in [j0, j1) inside query r's own range [start[r], end[r]), and -∞ otherwise.
 * qp is the block packed [D][4]; kp the key panels; j0 is a multiple of 4; tile is a 16-float scratch.
 */
export function scoreTile(
  qp: Float64Array, kp: Float64Array, D: number, scale: number, j0: number, j1: number,
  start: Int32Array, end: Int32Array, st: Float64Array, tile: Float64Array,
): void {
  for (let jp = j0 >> 2; jp * 4 < j1; jp++) {
    // 4×4 micro-kernel: c_rc = q_r · k_(4jp+c)
    let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
    let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
    let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
    let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
    let pk = jp * D * 4;
    for (let d = 0, pq = 0; d < D; d++, pq += 4, pk += 4) {
      const a0 = qp[pq], a1 = qp[pq + 1], a2 = qp[pq + 2], a3 = qp[pq + 3];
      const b0 = kp[pk], b1 = kp[pk + 1], b2 = kp[pk + 2], b3 = kp[pk + 3];
      c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
      c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
      c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
      c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    }
    tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
    tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
    tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
    tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 4; c++) {
        const j = jp * 4 + c;
        const inside = j < j1 && j >= start[r] && j < end[r];
        st[r * KEY_TILE + j - j0] = inside ? scale * tile[r * 4 + c] : -Infinity;
      }
    }
  }
}

/**
 * acc[(dp·4 + r)·4 + c] += Σ_{j in [j0, j1)} w[(j - j0)·4 + r] · vp[(dp·Tk + j)·4 + c]: a [4 × tile] weight
 * block (w packed [tile][4]) times the tile's rows of a dim-panel-packed matrix, into a [⌈D/4⌉][4][4] accumulator.
 */
export function accumulateTile(
  w: Float64Array, vp: Float64Array, Tk: number, D: number, j0: number, j1: number, acc: Float64Array,
): void {
  const panels = (D + 3) >> 2;
  for (let dp = 0; dp < panels; dp++) {
    const o = dp * 16;
    let c00 = acc[o], c01 = acc[o + 1], c02 = acc[o + 2], c03 = acc[o + 3];
    let c10 = acc[o + 4], c11 = acc[o + 5], c12 = acc[o + 6], c13 = acc[o + 7];
    let c20 = acc[o + 8], c21 = acc[o + 9], c22 = acc[o + 10], c23 = acc[o + 11];
    let c30 = acc[o + 12], c31 = acc[o + 13], c32 = acc[o + 14], c33 = acc[o + 15];
    let pv = (dp * Tk + j0) * 4;
    for (let j = j0, pw = 0; j < j1; j++, pw += 4, pv += 4) {
      const a0 = w[pw], a1 = w[pw + 1], a2 = w[pw + 2], a3 = w[pw + 3];
      const b0 = vp[pv], b1 = vp[pv + 1], b2 = vp[pv + 2], b3 = vp[pv + 3];
      c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
      c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
      c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
      c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
    }
    acc[o] = c00; acc[o + 1] = c01; acc[o + 2] = c02; acc[o + 3] = c03;
    acc[o + 4] = c10; acc[o + 5] = c11; acc[o + 6] = c12; acc[o + 7] = c13;
    acc[o + 8] = c20; acc[o + 9] = c21; acc[o + 10] = c22; acc[o + 11] = c23;
    acc[o + 12] = c30; acc[o + 13] = c31; acc[o + 14] = c32; acc[o + 15] = c33;
  }
}

/**
 * Loads the key ranges of the 4-query block t0.. of batch row b into start/end (queries past Tq get an empty
 * range) and returns the union [lo, hi) of the non-empty ones, lo rounded down to a multiple of 4 (hi ≤ lo if
 * every range is empty).
 */
export function blockRanges(
  kvStart: Int32Array, kvEnd: Int32Array, b: number, Tq: number, t0: number, start: Int32Array, end: Int32Array,
): [number, number] {
  let lo = Infinity, hi = 0;
  for (let r = 0; r < 4; r++) {
    const t = t0 + r;
    start[r] = t < Tq ? kvStart[b * Tq + t] : 0;
    end[r] = t < Tq ? kvEnd[b * Tq + t] : 0;
    if (end[r] > start[r]) {
      if (start[r] < lo) lo = start[r];
      if (end[r] > hi) hi = end[r];
    }
  }
  return hi > 0 ? [lo & ~3, hi] : [0, 0];
}

/** Forward: writes out [B, Tq, Hq, D] and lse [B, Hq, Tq] (natural log; -∞ for an empty key range). */
export function attentionForward(
  q: FloatArray, k: FloatArray, v: FloatArray, kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims,
  out: FloatArray, lse: FloatArray,
): void {
  checkAttentionForward('attentionForward', q, k, v, kvStart, kvEnd, dims, out, lse);
  attentionForwardUnits(q, k, v, kvStart, kvEnd, dims, out, lse, 0, dims.B * dims.Hq);
}

/** Validates an attentionForward call. */
export function checkAttentionForward(
  op: string, q: FloatArray, k: FloatArray, v: FloatArray, kvStart: Int32Array, kvEnd: Int32Array,
  dims: AttentionDims, out: FloatArray, lse: FloatArray,
): void {
  checkAttention(op, dims, q, k, v);
  checkRanges(op, dims, kvStart, kvEnd);
  checkLength(op, 'out', out, dims.B * dims.Tq * dims.Hq * dims.D);
  checkLength(op, 'lse', lse, dims.B * dims.Hq * dims.Tq);
}

/**
 * The forward for work units [unitStart, unitEnd), unit u = (batch b = ⌊u / Hq⌋, query head h = u mod Hq): all
 * queries of that head. Units write disjoint rows of out and lse (threads split by unit). K and V of kv head
 * g = ⌊h / group⌋ are packed once per run of consecutive units that share (b, g).
 */
export function attentionForwardUnits(
  q: FloatArray, k: FloatArray, v: FloatArray, kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims,
  out: FloatArray, lse: FloatArray, unitStart: number, unitEnd: number,
): void {
  const { Tq, Tk, Hq, Hkv, D, scale } = dims;
  const group = Hq / Hkv;
  const dPanels = (D + 3) >> 2;
  const kp = new Float64Array(((Tk + 3) >> 2) * D * 4); // [⌈Tk/4⌉][D][4]
  const vp = new Float64Array(dPanels * Tk * 4); // [⌈D/4⌉][Tk][4]
  const qp = new Float64Array(D * 4); // 4 query rows, [D][4]
  const acc = new Float64Array(dPanels * 16); // Σ_j exp(s_rj - m_r) v_j, [⌈D/4⌉][4][4]
  const st = new Float64Array(4 * KEY_TILE); // scores of the tile, [4][KEY_TILE]
  const pt = new Float64Array(KEY_TILE * 4); // probabilities of the tile, [KEY_TILE][4]
  const m = new Float64Array(4); // running max per query row
  const l = new Float64Array(4); // running Σ exp(s - m) per query row
  const start = new Int32Array(4), end = new Int32Array(4);
  const tile = new Float64Array(16);
  let packedBase = -1; // kvBase of the K, V currently in kp, vp
  for (let u = unitStart; u < unitEnd; u++) {
    const b = Math.floor(u / Hq), h = u - b * Hq;
    const g = Math.floor(h / group);
    const kvBase = (b * Tk * Hkv + g) * D; // key/value j of head g starts at kvBase + j·Hkv·D
    if (kvBase !== packedBase) {
      packKeyPanels(k, kvBase, Hkv * D, Tk, D, kp);
      packDimPanels(v, kvBase, Hkv * D, Tk, D, vp);
      packedBase = kvBase;
    }
    for (let t0 = 0; t0 < Tq; t0 += 4) {
      const [lo, hi] = blockRanges(kvStart, kvEnd, b, Tq, t0, start, end);
      for (let r = 0; r < 4; r++) {
        const qo = ((b * Tq + t0 + r) * Hq + h) * D;
        for (let d = 0; d < D; d++) qp[d * 4 + r] = t0 + r < Tq ? q[qo + d] : 0;
      }
      acc.fill(0);
      m.fill(-Infinity);
      l.fill(0);
      for (let j0 = lo; j0 < hi; j0 += KEY_TILE) {
        const j1 = j0 + KEY_TILE < hi ? j0 + KEY_TILE : hi;
        // (1) s_rj = scale · q_r·k_j (-∞ outside query r's range)
        scoreTile(qp, kp, D, scale, j0, j1, start, end, st, tile);
        for (let r = 0; r < 4; r++) {
          let tileMax = -Infinity;
          for (let j = 0; j < j1 - j0; j++) if (st[r * KEY_TILE + j] > tileMax) tileMax = st[r * KEY_TILE + j];
          // (2) the running max grew: rescale l and acc row r by exp(m_old - m_new)
          if (tileMax > m[r]) {
            const alpha = Math.exp(m[r] - tileMax);
            l[r] *= alpha;
            for (let dp = 0; dp < dPanels; dp++) {
              for (let c = 0; c < 4; c++) acc[(dp * 4 + r) * 4 + c] *= alpha;
            }
            m[r] = tileMax;
          }
          // (3) p_rj = exp(s_rj - m_r); l_r += p_rj
          let sum = 0;
          for (let j = 0; j < j1 - j0; j++) {
            const s = st[r * KEY_TILE + j];
            const p = s === -Infinity ? 0 : Math.exp(s - m[r]);
            pt[j * 4 + r] = p;
            sum += p;
          }
          l[r] += sum;
        }
        // (3) acc += P·V
        accumulateTile(pt, vp, Tk, D, j0, j1, acc);
      }
      // out_r = acc_r / l_r,  lse_r = m_r + log l_r  (out = 0, lse = -∞ when the range was empty: l = 0)
      for (let r = 0; r < 4 && t0 + r < Tq; r++) {
        const qo = ((b * Tq + t0 + r) * Hq + h) * D;
        const inv = l[r] > 0 ? 1 / l[r] : 0;
        for (let d = 0; d < D; d++) out[qo + d] = acc[((d >> 2) * 4 + r) * 4 + (d & 3)] * inv;
        lse[(b * Hq + h) * Tq + t0 + r] = l[r] > 0 ? m[r] + Math.log(l[r]) : -Infinity;
      }
    }
  }
}

/**
 * Backward: given the forward's out and lse and dOut = ∂L/∂out, writes dq [B, Tq, Hq, D] and dk, dv
 * [B, Tk, Hkv, D] (all overwritten; dk/dv sum over the query heads that share a kv head).
 */
export function attentionBackward(
  q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, dOut: FloatArray,
  kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims, dq: FloatArray, dk: FloatArray, dv: FloatArray,
): void {
  checkAttentionBackward('attentionBackward', q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv);
  attentionBackwardUnits(q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv, 0, dims.B * dims.Hkv);
}

/** Validates an attentionBackward call. */
export function checkAttentionBackward(
  op: string, q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, dOut: FloatArray,
  kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims, dq: FloatArray, dk: FloatArray, dv: FloatArray,
): void {
  checkAttention(op, dims, q, k, v);
  checkRanges(op, dims, kvStart, kvEnd);
  const { B, Tq, Tk, Hq, Hkv, D } = dims;
  for (const [name, arr, n] of [
    ['out', out, B * Tq * Hq * D], ['lse', lse, B * Hq * Tq], ['dOut', dOut, B * Tq * Hq * D],
    ['dq', dq, B * Tq * Hq * D], ['dk', dk, B * Tk * Hkv * D], ['dv', dv, B * Tk * Hkv * D],
  ] as const) checkLength(op, name, arr, n);
}

/**
 * The backward for work units [unitStart, unitEnd), unit u = (batch b = ⌊u / Hkv⌋, kv head g = u mod Hkv):
 * dq rows of g's query heads and the dk, dv rows of head g, which no other unit writes.
 */
export function attentionBackwardUnits(
  q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, dOut: FloatArray,
  kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims, dq: FloatArray, dk: FloatArray, dv: FloatArray,
  unitStart: number, unitEnd: number,
): void {
  const { Tq, Tk, Hq, Hkv, D, scale } = dims;
  const group = Hq / Hkv;
  const dPanels = (D + 3) >> 2;
  const kPanels = (Tk + 3) >> 2;
  const kp = new Float64Array(kPanels * D * 4); // K as key panels, for S = Q·Kᵀ
  const vk = new Float64Array(kPanels * D * 4); // V as key panels, for dP = dO·Vᵀ
  const kd = new Float64Array(dPanels * Tk * 4); // K as dim panels, for dQ += dS·K
  const qp = new Float64Array(D * 4); // the block's q rows, [D][4]
  const op4 = new Float64Array(D * 4); // the block's dO rows, [D][4]
  const dqAcc = new Float64Array(dPanels * 16); // Σ_j dS_rj k_j, [⌈D/4⌉][4][4]
  const st = new Float64Array(4 * KEY_TILE); // scores s_rj, then reused below
  const dpt = new Float64Array(4 * KEY_TILE); // dP_rj = dO_r·v_j
  const pt = new Float64Array(KEY_TILE * 4); // p_rj, [KEY_TILE][4]
  const dst = new Float64Array(KEY_TILE * 4); // dS_rj, [KEY_TILE][4]
  const dkAcc = new Float64Array(Tk * D); // Σ dS_tj q_t for kv head g (scale applied at the end)
  const dvAcc = new Float64Array(Tk * D); // Σ p_tj dO_t for kv head g
  const Dr = new Float64Array(4), lseR = new Float64Array(4);
  const start = new Int32Array(4), end = new Int32Array(4);
  const tile = new Float64Array(16);
  for (let u = unitStart; u < unitEnd; u++) {
    const b = Math.floor(u / Hkv), g = u - b * Hkv;
    const kvBase = (b * Tk * Hkv + g) * D;
    packKeyPanels(k, kvBase, Hkv * D, Tk, D, kp);
    packKeyPanels(v, kvBase, Hkv * D, Tk, D, vk);
    packDimPanels(k, kvBase, Hkv * D, Tk, D, kd);
    dkAcc.fill(0);
    dvAcc.fill(0);
    for (let h = g * group; h < (g + 1) * group; h++) {
      for (let t0 = 0; t0 < Tq; t0 += 4) {
        const [lo, hi] = blockRanges(kvStart, kvEnd, b, Tq, t0, start, end);
        for (let r = 0; r < 4; r++) {
          const valid = t0 + r < Tq;
          const qo = ((b * Tq + t0 + r) * Hq + h) * D;
          let Dt = 0; // D_r = dO_r · out_r
          for (let d = 0; d < D; d++) {
            qp[d * 4 + r] = valid ? q[qo + d] : 0;
            op4[d * 4 + r] = valid ? dOut[qo + d] : 0;
            if (valid) Dt += dOut[qo + d] * out[qo + d];
          }
          Dr[r] = Dt;
          lseR[r] = valid ? lse[(b * Hq + h) * Tq + t0 + r] : 0;
        }
        dqAcc.fill(0);
        for (let j0 = lo; j0 < hi; j0 += KEY_TILE) {
          const j1 = j0 + KEY_TILE < hi ? j0 + KEY_TILE : hi;
          const n = j1 - j0;
          // s_rj = scale · q_r·k_j (-∞ outside the range) and dP_rj = dO_r·v_j (ranges ignored: p = 0 there)
          scoreTile(qp, kp, D, scale, j0, j1, start, end, st, tile);
          scoreTile(op4, vk, D, 1, j0, j1, start, end, dpt, tile);
          for (let r = 0; r < 4; r++) {
            for (let j = 0; j < n; j++) {
              const s = st[r * KEY_TILE + j];
              const p = s === -Infinity ? 0 : Math.exp(s - lseR[r]); // p_rj = exp(s_rj - lse_r)
              pt[j * 4 + r] = p;
              dst[j * 4 + r] = p === 0 ? 0 : p * (dpt[r * KEY_TILE + j] - Dr[r]); // dS = p (dP - D)
            }
          }
          // dq_r += Σ_j dS_rj k_j
          accumulateTile(dst, kd, Tk, D, j0, j1, dqAcc);
          // dk_j += Σ_r dS_rj q_r,  dv_j += Σ_r p_rj dO_r
          for (let j = j0; j < j1; j++) {
            const w = (j - j0) * 4;
            const s0 = dst[w], s1 = dst[w + 1], s2 = dst[w + 2], s3 = dst[w + 3];
            const p0 = pt[w], p1 = pt[w + 1], p2 = pt[w + 2], p3 = pt[w + 3];
            if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0) continue;
            const row = j * D;
            for (let d = 0, x = 0; d < D; d++, x += 4) {
              dkAcc[row + d] += s0 * qp[x] + s1 * qp[x + 1] + s2 * qp[x + 2] + s3 * qp[x + 3];
              dvAcc[row + d] += p0 * op4[x] + p1 * op4[x + 1] + p2 * op4[x + 2] + p3 * op4[x + 3];
            }
          }
        }
        for (let r = 0; r < 4 && t0 + r < Tq; r++) {
          const qo = ((b * Tq + t0 + r) * Hq + h) * D;
          for (let d = 0; d < D; d++) dq[qo + d] = scale * dqAcc[((d >> 2) * 4 + r) * 4 + (d & 3)];
        }
      }
    }
    for (let j = 0; j < Tk; j++) {
      const ko = kvBase + j * Hkv * D;
      for (let d = 0; d < D; d++) {
        dk[ko + d] = scale * dkAcc[j * D + d];
        dv[ko + d] = dvAcc[j * D + d];
      }
    }
  }
}
