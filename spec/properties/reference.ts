// reference.ts — plain-loop float64 references for the WebGPU kernels, each with its rounding-error bound
// (shared by spec/webgpu and the property checks of spec/properties/checks.ts, which also run in the demo page).
//
// The bounds follow the standard model fl(a op b) = (a op b)(1 + d), |d| <= u = 2^-24 (Higham, "Accuracy and
// Stability of Numerical Algorithms", ch. 3): a dot product of length n accumulated in f32 in ANY order has
// |error| <= gamma_n * sum |x_i||y_i|, gamma_n = n u / (1 - n u). WGSL's exp is allowed an error of
// (3 + 2|x|) ULP (WGSL spec, "Floating Point Accuracy"); log 3 ULP, or 2^-21 absolute near 1.

import { U32 } from './random.js';

const gamma = (n: number) => (n * U32) / (1 - n * U32);

export interface MatmulRef {
  c: Float64Array;
  /** Per-element bound: gamma_{K+1} * sum_k |a||b| + K * 2^-126 (a subnormal product flushed per term). */
  bound: Float64Array;
}

export function refMatmul(
  a: Float32Array, b: Float32Array,
  s: { batch: number; M: number; K: number; N: number; transA: boolean; transB: boolean; aBatchStride: number; bBatchStride: number },
): MatmulRef {
  const { batch, M, K, N } = s;
  const c = new Float64Array(batch * M * N);
  const bound = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        let abs = 0;
        for (let k = 0; k < K; k++) {
          const av = a[z * s.aBatchStride + (s.transA ? k * M + i : i * K + k)];
          const bv = b[z * s.bBatchStride + (s.transB ? j * K + k : k * N + j)];
          sum += av * bv;
          abs += Math.abs(av * bv);
        }
        c[(z * M + i) * N + j] = sum;
        // K products and K-1 additions, plus the final rounding to f32 storage: gamma_{K+1}.
        bound[(z * M + i) * N + j] = gamma(K + 1) * abs + K * 2 ** -126;
      }
    }
  }
  return { c, bound };
}

export interface AttnDims {
  B: number; Tq: number; Tk: number; Hq: number; Hkv: number; D: number; scale: number;
}

export interface AttnInputs {
  q: Float32Array; k: Float32Array; v: Float32Array; kvStart: Int32Array; kvEnd: Int32Array;
}

const qIdx = (d: AttnDims, b: number, t: number, h: number) => ((b * d.Tq + t) * d.Hq + h) * d.D;
const kIdx = (d: AttnDims, b: number, j: number, hk: number) => ((b * d.Tk + j) * d.Hkv + hk) * d.D;

/** The clamped key range [lo, hi) of query t in row b. */
export function keyRange(d: AttnDims, x: AttnInputs, b: number, t: number): [number, number] {
  const lo = Math.max(0, Math.min(d.Tk, x.kvStart[b * d.Tq + t]));
  const hi = Math.max(lo, Math.min(d.Tk, x.kvEnd[b * d.Tq + t]));
  return [lo, hi];
}

export interface AttnRef {
  out: Float64Array; lse: Float64Array; outBound: Float64Array; lseBound: Float64Array;
}

/**
 * Attention forward in f64 and its error bound for an f32 flash-style kernel.
 * Error model per query row (first order, doubled for the second-order terms):
 *   score error e_s = gamma_{D+2} * scale * max_j sum_d |q_d k_jd|;
 *   exp error   e_x = (3 + 2X) u with X = max_j (m - s_j), the widest exp argument (also covers the
 *                     running-max rescale factors);
 *   weights w_j = p_j / l: relative error dw = 4 e_s + 4 e_x + (Tk + 2) u (s_j and m, p_j and l, sum of l);
 *   out_d: (dw + gamma_{Tk+1}) * sum_j w_j |v_jd|;   lse: 3 e_s + 2 e_x + (Tk + 2) u + 2^-21 + 2u|lse|.
 */
export function refAttention(d: AttnDims, x: AttnInputs): AttnRef {
  const G = d.Hq / d.Hkv;
  const out = new Float64Array(d.B * d.Tq * d.Hq * d.D);
  const outBound = new Float64Array(out.length);
  const lse = new Float64Array(d.B * d.Hq * d.Tq);
  const lseBound = new Float64Array(lse.length);
  for (let b = 0; b < d.B; b++) {
    for (let t = 0; t < d.Tq; t++) {
      const [lo, hi] = keyRange(d, x, b, t);
      for (let h = 0; h < d.Hq; h++) {
        const hk = Math.floor(h / G);
        const qo = qIdx(d, b, t, h);
        const li = (b * d.Hq + h) * d.Tq + t;
        if (hi <= lo) {
          lse[li] = -Infinity;
          continue; // out stays 0, bound 0: the kernel must write exact zeros
        }
        const s: number[] = [];
        let absMax = 0;
        for (let j = lo; j < hi; j++) {
          const ko = kIdx(d, b, j, hk);
          let dot = 0;
          let abs = 0;
          for (let e = 0; e < d.D; e++) {
            dot += x.q[qo + e] * x.k[ko + e];
            abs += Math.abs(x.q[qo + e] * x.k[ko + e]);
          }
          s.push(d.scale * dot);
          absMax = Math.max(absMax, d.scale * abs);
        }
        const m = Math.max(...s);
        const p = s.map((sj) => Math.exp(sj - m));
        const l = p.reduce((acc, pj) => acc + pj, 0);
        lse[li] = m + Math.log(l);
        const eS = gamma(d.D + 2) * absMax;
        const X = m - Math.min(...s);
        const eX = (3 + 2 * X) * U32;
        const dw = 4 * eS + 4 * eX + (hi - lo + 2) * U32;
        lseBound[li] = 2 * (3 * eS + 2 * eX + (hi - lo + 2) * U32 + 2 ** -21 + 2 * U32 * Math.abs(lse[li]));
        for (let e = 0; e < d.D; e++) {
          let acc = 0;
          let accAbs = 0;
          for (let j = lo; j < hi; j++) {
            const vv = x.v[kIdx(d, b, j, hk) + e];
            acc += (p[j - lo] / l) * vv;
            accAbs += (p[j - lo] / l) * Math.abs(vv);
          }
          out[qo + e] = acc;
          outBound[qo + e] = 2 * (dw + gamma(hi - lo + 1)) * accAbs;
        }
      }
    }
  }
  return { out, lse, outBound, lseBound };
}

export interface AttnGradRef {
  dq: Float64Array; dk: Float64Array; dv: Float64Array;
  dqBound: Float64Array; dkBound: Float64Array; dvBound: Float64Array;
}

/**
 * Attention backward in f64 from the SAME f32 out and lse the kernel receives, with the error bound.
 *   P_ij = exp(s_ij - lse_i); dP_ij = dO_i . v_j; Delta_i = dO_i . O_i; dS_ij = P_ij (dP_ij - Delta_i)
 *   dq_i = scale sum_j dS_ij k_j;  dk_j = scale sum_i dS_ij q_i;  dv_j = sum_i P_ij dO_i
 * Error model (first order, doubled): eP_ij = P_ij (e_s + (3 + 2|s_ij - lse_i|) u);
 *   e_dP = gamma_D sum |dO||v|, e_Delta = gamma_D sum |dO||O|;
 *   e_dS = eP |dP - Delta| + P (e_dP + e_Delta) + u |dS|;
 *   dq: scale sum_j (e_dS + gamma_{n+2} |dS|) |k_jd| (n = keys summed), dk likewise over the queries
 *   (all heads of the group), dv: sum_i (eP + gamma_{n+1} P) |dO_id|.
 */
export function refAttentionBackward(
  d: AttnDims, x: AttnInputs, out: Float32Array, lse: Float32Array, dOut: Float32Array,
): AttnGradRef {
  const G = d.Hq / d.Hkv;
  const dq = new Float64Array(d.B * d.Tq * d.Hq * d.D);
  const dqB = new Float64Array(dq.length);
  const dk = new Float64Array(d.B * d.Tk * d.Hkv * d.D);
  const dkB = new Float64Array(dk.length);
  const dv = new Float64Array(dk.length);
  const dvB = new Float64Array(dk.length);
  // Number of (query, head) pairs that see key j: the accumulation length of dk_j and dv_j.
  const nq = new Float64Array(d.B * d.Tk * d.Hkv);
  for (let b = 0; b < d.B; b++)
    for (let t = 0; t < d.Tq; t++) {
      const [lo, hi] = keyRange(d, x, b, t);
      for (let h = 0; h < d.Hq; h++) for (let j = lo; j < hi; j++) nq[(b * d.Tk + j) * d.Hkv + Math.floor(h / G)]++;
    }
  for (let b = 0; b < d.B; b++) {
    for (let t = 0; t < d.Tq; t++) {
      const [lo, hi] = keyRange(d, x, b, t);
      for (let h = 0; h < d.Hq; h++) {
        const hk = Math.floor(h / G);
        const qo = qIdx(d, b, t, h);
        const L = lse[(b * d.Hq + h) * d.Tq + t];
        let delta = 0;
        let deltaAbs = 0;
        for (let e = 0; e < d.D; e++) {
          delta += dOut[qo + e] * out[qo + e];
          deltaAbs += Math.abs(dOut[qo + e] * out[qo + e]);
        }
        for (let j = lo; j < hi; j++) {
          const ko = kIdx(d, b, j, hk);
          let dot = 0, abs = 0, dP = 0, dPAbs = 0;
          for (let e = 0; e < d.D; e++) {
            dot += x.q[qo + e] * x.k[ko + e];
            abs += Math.abs(x.q[qo + e] * x.k[ko + e]);
            dP += dOut[qo + e] * x.v[ko + e];
            dPAbs += Math.abs(dOut[qo + e] * x.v[ko + e]);
          }
          const s = d.scale * dot;
          const P = Math.exp(s - L);
          const dS = P * (dP - delta);
          const eP = P * (gamma(d.D + 2) * d.scale * abs + (3 + 2 * Math.abs(s - L)) * U32);
          const eDS = eP * Math.abs(dP - delta) + P * (gamma(d.D) * (dPAbs + deltaAbs)) + U32 * Math.abs(dS);
          const nk = nq[(b * d.Tk + j) * d.Hkv + hk];
          for (let e = 0; e < d.D; e++) {
            dq[qo + e] += d.scale * dS * x.k[ko + e];
            dqB[qo + e] += 2 * d.scale * (eDS + gamma(hi - lo + 2) * Math.abs(dS)) * Math.abs(x.k[ko + e]);
            dk[ko + e] += d.scale * dS * x.q[qo + e];
            dkB[ko + e] += 2 * d.scale * (eDS + gamma(nk + 2) * Math.abs(dS)) * Math.abs(x.q[qo + e]);
            dv[ko + e] += P * dOut[qo + e];
            dvB[ko + e] += 2 * (eP + gamma(nk + 1) * P) * Math.abs(dOut[qo + e]);
          }
        }
      }
    }
  }
  return { dq, dk, dv, dqBound: dqB, dkBound: dkB, dvBound: dvB };
}

/** Index of the first element outside its bound, or -1; used to build readable failure messages. */
export function firstViolation(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>): number {
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (w === -Infinity ? g !== -Infinity : !(Math.abs(g - w) <= bound[i])) return i;
  }
  return -1;
}
