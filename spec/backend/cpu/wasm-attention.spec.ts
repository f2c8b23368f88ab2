// Tests for the WebAssembly SIMD attention (src/backend/cpu/kernels/wasm/attention-wasm.ts) against the float64
// materialising reference (attention-reference.ts), over random shapes, head groupings, scales and every kind of
// key range (causal, window, patches, random, empty rows), at both SIMD levels (relaxed FMA where this Node has
// it, and plain SIMD); plus the accuracy of the inline exp it uses. The forward's two paths (blocks of rows on
// the micro-kernel, and one query at a time for short calls) must agree bit for bit, and so must a row computed
// alone and the same row inside a whole-sequence call: cached generation relies on both.
//
// Error model (first order in u = 2⁻²⁴, γ_n = n·u / (1 - n·u); all sums in float32, any order, Higham eq. 3.5):
//   scores   x_tj = scale·fl(q_t·k_j): |Δx_tj| ≤ δ_t = scale·γ_D·max_j Σ_d |q_td k_jd| + u·max_j |x_tj|
//   exp      relative error ≤ ε_e = 4u (2 ulp measured below, doubled), argument rounding u·|x_tj - m_t|; below
//            e^-87.3 (≈ 2⁻¹²⁶) the clamped exp returns ~2⁻¹²⁶ instead of a subnormal: an absolute error η = 2⁻¹²⁶,
//            carried into every sum below as η·Σ|other factor|
//   softmax  p_tj = e_tj / l_t: errors in x move p_tj by a factor within exp(±2δ_t); l_t adds γ_n, p = e/l adds u:
//            |Δp_tj| ≤ θ_t·p_tj,   θ_t = 2δ_t + u·spread_t + ε_e + γ_n + 2u   (spread_t = max_j |x_tj - m_t|)
//   out      Σ_j p_tj v_j in float32: |Δout_td| ≤ (θ_t + γ_n)·Σ_j p_tj |v_jd| (+ u|out| for the final store)
//   lse      m + log l: |Δlse_t| ≤ δ_t + γ_n + 2u·(1 + |lse_t|)
// Backward (lse from the wasm forward, and x - lse rounded: p carries θ'_t = θ_t + |Δlse_t| + u·(spread_t + |lse_t - m_t|)):
//   dS_tj = p_tj (dP_tj - D_t), dP_tj = fl(dO_t·v_j), two float32 roundings:
//            |ΔdS_tj| ≤ E_tj = p_tj·(θ'_t·|dP_tj - D_t| + γ_D·A_tj + u·C_t + Σ_d |dO_td|·|Δout_td|) + 2u·|dS_tj|
//            with A_tj = Σ_d |dO_td v_jd|, C_t = Σ_d |dO_td out_td| (D_t is summed in float64 from the float32 out of
//            the wasm forward, whose own error bound |Δout_td| is the one above)
//   dq_td = scale Σ_j dS_tj k_jd:   |Δ| ≤ scale·Σ_j (E_tj + γ_n |dS_tj|)·|k_jd| + 2u|dq_td|  (sum, then ·scale: 2 roundings)
//   dk_jd = scale Σ_t dS_tj q_td:   |Δ| ≤ scale·Σ_t (E_tj + γ_m |dS_tj|)·|q_td| + 2u|dk_jd|   (m = queries summed)
//   dv_jd = Σ_t p_tj dO_td:         |Δ| ≤ Σ_t (θ'_t + γ_m)·p_tj·|dO_td| + 2u|dv_jd|
// The bounds are evaluated here in float64 from the reference's exact p, dP, D, with n = Tk (at least the keys
// a block spans) and m = Hq/Hkv·Tq. A missed key, a wrong row of the mask or a wrong head is an O(1) error.

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { attentionBackwardReference, attentionReference, type AttentionDims } from '../../../src/backend/cpu/kernels/attention-reference.js';
import {
  wasmAttentionBackwardUnits, wasmAttentionBlockUnits, wasmAttentionForwardUnits, wasmAttentionQueryRowsUnits,
} from '../../../src/backend/cpu/kernels/wasm/attention-wasm.js';
import { wasmKernels } from '../../../src/backend/cpu/kernels/wasm/module.js';
import { relaxedSimdAvailable, setWasmSimdLevel, wasmSimdLevel, type WasmSimdLevel } from '../../../src/backend/cpu/kernels/wasm/simd-features.js';
import { enableRelaxedSimd } from '../../../src/backend/cpu/kernels/wasm/node-flags.js';
import { makeRanges, type RangeKind } from '../../helpers/attention-ranges.js';

const u = 2 ** -24;
const eta = 2 ** -126;
const gamma = (n: number): number => (n * u) / (1 - n * u);

function randomF32(n: number, seed: number, amp: number): Float32Array {
  const arr = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = ((s / 2 ** 32) * 2 - 1) * amp;
  }
  return arr;
}

afterAll(() => setWasmSimdLevel(null));

await enableRelaxedSimd(); // Node 20: relaxed SIMD is behind a V8 flag; test both levels where the engine has it
const levels: WasmSimdLevel[] = relaxedSimdAvailable() ? ['relaxed', 'simd'] : ['simd'];

interface Case {
  B: number; Tq: number; Tk: number; Hkv: number; group: number; D: number; scale: number; amp: number;
  kind: RangeKind; seed: number;
}

/** Runs the wasm forward and backward and the reference, and checks every output against its bound. */
function check(c: Case): void {
  const dims: AttentionDims = { B: c.B, Tq: c.Tq, Tk: c.Tk, Hq: c.Hkv * c.group, Hkv: c.Hkv, D: c.D, scale: c.scale };
  const { B, Tq, Tk, Hq, Hkv, D, scale } = dims;
  const [kvStart, kvEnd] = makeRanges(c.kind, B, Tq, Tk, c.seed);
  const q = randomF32(B * Tq * Hq * D, c.seed + 1, c.amp), k = randomF32(B * Tk * Hkv * D, c.seed + 2, c.amp);
  const v = randomF32(B * Tk * Hkv * D, c.seed + 3, 2), dOut = randomF32(B * Tq * Hq * D, c.seed + 4, 1);
  const wasm = wasmKernels()!;
  const out = new Float32Array(q.length).fill(NaN), lse = new Float32Array(B * Hq * Tq).fill(NaN);
  wasmAttentionForwardUnits(wasm, q, k, v, kvStart, kvEnd, dims, out, lse, 0, B * Hq);
  const dq = new Float32Array(q.length).fill(NaN), dk = new Float32Array(k.length).fill(NaN);
  const dv = new Float32Array(v.length).fill(NaN);
  wasmAttentionBackwardUnits(wasm, q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv, 0, B * Hkv);

  const ref = new Float64Array(q.length), refLse = new Float64Array(lse.length);
  attentionReference(q, k, v, kvStart, kvEnd, dims, ref, refLse);
  const rdq = new Float64Array(q.length), rdk = new Float64Array(k.length), rdv = new Float64Array(v.length);
  attentionBackwardReference(q, k, v, dOut, kvStart, kvEnd, dims, rdq, rdk, rdv);

  const bq = new Float64Array(q.length), bk = new Float64Array(k.length), bv = new Float64Array(v.length);
  const bo = new Float64Array(q.length);
  const x = new Float64Array(Tk), p = new Float64Array(Tk), dP = new Float64Array(Tk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < Hq; h++) {
      const g = Math.floor(h / c.group);
      for (let t = 0; t < Tq; t++) {
        const row = (b * Hq + h) * Tq + t, qo = ((b * Tq + t) * Hq + h) * D;
        const j0 = kvStart[b * Tq + t], j1 = kvEnd[b * Tq + t];
        if (j1 <= j0) continue;
        let m = -Infinity, maxAbsQK = 0, maxAbsX = 0;
        for (let j = j0; j < j1; j++) {
          const ko = ((b * Tk + j) * Hkv + g) * D;
          let dot = 0, abs = 0, dpj = 0;
          for (let d = 0; d < D; d++) { dot += q[qo + d] * k[ko + d]; abs += Math.abs(q[qo + d] * k[ko + d]); dpj += dOut[qo + d] * v[ko + d]; }
          x[j] = scale * dot; dP[j] = dpj;
          m = Math.max(m, x[j]); maxAbsQK = Math.max(maxAbsQK, abs); maxAbsX = Math.max(maxAbsX, Math.abs(x[j]));
        }
        let l = 0, spread = 0;
        for (let j = j0; j < j1; j++) { l += Math.exp(x[j] - m); spread = Math.max(spread, m - x[j]); }
        let Dt = 0, Ct = 0;
        for (let j = j0; j < j1; j++) { p[j] = Math.exp(x[j] - m) / l; Dt += p[j] * dP[j]; }
        for (let d = 0; d < D; d++) Ct += Math.abs(dOut[qo + d] * ref[qo + d]);
        const delta = scale * gamma(D) * maxAbsQK + u * maxAbsX;
        const theta = 2 * delta + u * spread + 4 * u + gamma(Tk) + 2 * u;
        const dLse = delta + gamma(Tk) + 2 * u * (1 + Math.abs(refLse[row]));
        const thetaB = theta + dLse + u * (spread + Math.abs(refLse[row] - m)), gm = gamma(c.group * Tq);
        expect(Math.abs(lse[row] - refLse[row])).toBeLessThanOrEqual(dLse);
        for (let j = j0; j < j1; j++) {
          const ko = ((b * Tk + j) * Hkv + g) * D;
          for (let d = 0; d < D; d++) bo[qo + d] += ((theta + gamma(Tk)) * p[j] + eta) * Math.abs(v[ko + d]);
        }
        // D_t = dO_t·out_t uses the wasm forward's out: its error Σ_d |dO_td|·|Δout_td| (replaces u·C_t above)
        let dErr = 0;
        for (let d = 0; d < D; d++) dErr += Math.abs(dOut[qo + d]) * (bo[qo + d] + 2 * u * Math.abs(ref[qo + d]));
        for (let j = j0; j < j1; j++) {
          const ko = ((b * Tk + j) * Hkv + g) * D;
          let A = 0;
          for (let d = 0; d < D; d++) A += Math.abs(dOut[qo + d] * v[ko + d]);
          const dS = p[j] * (dP[j] - Dt);
          const E = p[j] * (thetaB * Math.abs(dP[j] - Dt) + gamma(D) * A + u * Ct + dErr) + 2 * u * Math.abs(dS)
            + eta * (Math.abs(dP[j] - Dt) + gamma(D) * A + dErr);
          for (let d = 0; d < D; d++) {
            bq[qo + d] += scale * (E + gamma(Tk) * Math.abs(dS)) * Math.abs(k[ko + d]);
            bk[ko + d] += scale * (E + gm * Math.abs(dS)) * Math.abs(q[qo + d]);
            bv[ko + d] += ((thetaB + gm) * p[j] + eta) * Math.abs(dOut[qo + d]);
          }
        }
      }
    }
  }
  const within = (what: string, got: Float32Array, want: Float64Array, bound: Float64Array): void => {
    for (let i = 0; i < want.length; i++) {
      if (want[i] === -Infinity && got[i] === -Infinity) continue;
      const err = Math.abs(got[i] - want[i]);
      if (!(err <= bound[i] + 2 * u * Math.abs(want[i]) + 2 ** -140)) { // 2⁻¹⁴⁰: subnormal roundings, ≤ 2⁻¹⁵⁰ per operation
        throw new Error(`${what}[${i}] (${JSON.stringify(c)}): got ${got[i]}, want ${want[i]}, |err| ${err} > ${bound[i]}`);
      }
    }
  };
  within('out', out, ref, bo);
  for (let i = 0; i < lse.length; i++) if (refLse[i] === -Infinity) expect(lse[i]).toBe(-Infinity);
  within('dq', dq, rdq, bq);
  within('dk', dk, rdk, bk);
  within('dv', dv, rdv, bv);
}

/** Where two float32 arrays differ as bits (NaN payloads aside), or null when they are the same. */
function firstBitDifference(a: Float32Array, b: Float32Array): string | null {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `[${i}]: ${a[i]} vs ${b[i]}`;
  return null;
}

/** Both forward paths on one case: the same out and lse, bit for bit. */
function checkPathsAgree(c: Case): void {
  const dims: AttentionDims = { B: c.B, Tq: c.Tq, Tk: c.Tk, Hq: c.Hkv * c.group, Hkv: c.Hkv, D: c.D, scale: c.scale };
  const { B, Tq, Tk, Hq, Hkv, D } = dims;
  const [kvStart, kvEnd] = makeRanges(c.kind, B, Tq, Tk, c.seed);
  const q = randomF32(B * Tq * Hq * D, c.seed + 1, c.amp), k = randomF32(B * Tk * Hkv * D, c.seed + 2, c.amp);
  const v = randomF32(B * Tk * Hkv * D, c.seed + 3, 2);
  const wasm = wasmKernels()!;
  const run = (path: typeof wasmAttentionBlockUnits): [Float32Array, Float32Array] => {
    const out = new Float32Array(q.length).fill(NaN), lse = new Float32Array(B * Hq * Tq).fill(NaN);
    path(wasm, q, k, v, kvStart, kvEnd, dims, out, lse, 0, B * Hq);
    return [out, lse];
  };
  const [outB, lseB] = run(wasmAttentionBlockUnits), [outR, lseR] = run(wasmAttentionQueryRowsUnits);
  const diff = firstBitDifference(outB, outR) ?? firstBitDifference(lseB, lseR);
  if (diff) throw new Error(`block and one-query paths differ at ${diff} (${JSON.stringify(c)})`);
  // each row alone (B = 1, Tq = 1, as a step of cached generation calls it) against the whole call
  const [outW, lseW] = run(wasmAttentionForwardUnits);
  const one: AttentionDims = { ...dims, B: 1, Tq: 1 };
  for (let b = 0; b < B; b++) {
    const kb = k.subarray(b * Tk * Hkv * D, (b + 1) * Tk * Hkv * D), vb = v.subarray(b * Tk * Hkv * D, (b + 1) * Tk * Hkv * D);
    for (let t = 0; t < Tq; t++) {
      const r = b * Tq + t, qo = r * Hq * D;
      const out = new Float32Array(Hq * D).fill(NaN), lse = new Float32Array(Hq).fill(NaN);
      wasmAttentionForwardUnits(wasm, q.subarray(qo, qo + Hq * D), kb, vb, kvStart.subarray(r, r + 1),
        kvEnd.subarray(r, r + 1), one, out, lse, 0, Hq);
      const wantLse = Float32Array.from({ length: Hq }, (_, h) => lseW[(b * Hq + h) * Tq + t]);
      const rowDiff = firstBitDifference(outW.subarray(qo, qo + Hq * D), out) ?? firstBitDifference(wantLse, lse);
      if (rowDiff) throw new Error(`row (${b}, ${t}) alone differs at ${rowDiff} (${JSON.stringify(c)})`);
    }
  }
}

const caseArb = fc.record({
  B: fc.integer({ min: 1, max: 2 }),
  Tq: fc.integer({ min: 1, max: 70 }),
  Tk: fc.integer({ min: 1, max: 75 }),
  Hkv: fc.integer({ min: 1, max: 2 }),
  group: fc.integer({ min: 1, max: 3 }),
  D: fc.integer({ min: 1, max: 20 }),
  scale: fc.double({ min: 0.05, max: 1.5, noNaN: true }),
  amp: fc.constantFrom(0.5, 2, 4),
  kind: fc.constantFrom<RangeKind>('random', 'causal', 'window', 'patches', 'empty'),
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

describe('wasm SIMD attention vs the float64 reference (within the float32 error model)', () => {
  it('runs on this engine, and the chosen level is reported', () => {
    expect(wasmKernels()).not.toBeNull();
    expect(['relaxed', 'simd']).toContain(wasmSimdLevel());
  });

  for (const level of levels) {
    it(`forward and backward, random shapes and ranges (level ${level})`, () => {
      setWasmSimdLevel(level);
      expect(wasmSimdLevel()).toBe(level);
      fc.assert(fc.property(caseArb, (c) => { check(c); }), { numRuns: 60 });
    });

    it(`the one-query and block paths, and a row alone, give the same bits (level ${level})`, () => {
      setWasmSimdLevel(level);
      fc.assert(fc.property(caseArb, (c) => { checkPathsAgree(c); }), { numRuns: 60 });
      // generation's shapes: 8 heads of 32 dims, keys not a multiple of 4 or 8, a cache longer than the range
      checkPathsAgree({ B: 1, Tq: 5, Tk: 579, Hkv: 8, group: 1, D: 32, scale: 1 / Math.sqrt(32), amp: 2, kind: 'causal', seed: 3 });
      checkPathsAgree({ B: 2, Tq: 12, Tk: 97, Hkv: 2, group: 2, D: 12, scale: 0.4, amp: 4, kind: 'window', seed: 8 });
    });

    it(`BLT-sized blocks: causal T = 200, D = 32, 2 heads (level ${level})`, () => {
      setWasmSimdLevel(level);
      check({ B: 1, Tq: 200, Tk: 200, Hkv: 2, group: 1, D: 32, scale: 1 / Math.sqrt(32), amp: 2, kind: 'causal', seed: 5 });
      check({ B: 2, Tq: 67, Tk: 130, Hkv: 1, group: 2, D: 24, scale: 0.3, amp: 2, kind: 'patches', seed: 9 });
    });

    it(`exp is within 2 float32 ulp of Math.exp on [-87, 88] (level ${level})`, () => {
      setWasmSimdLevel(level);
      const wasm = wasmKernels()!;
      const n = 1 << 16;
      if (wasm.memory.buffer.byteLength < 8 * n) wasm.memory.grow(Math.ceil((8 * n - wasm.memory.buffer.byteLength) / 65536));
      const mem = new Float32Array(wasm.memory.buffer);
      let worst = 0;
      for (let rep = 0; rep < 4; rep++) {
        for (let i = 0; i < n; i++) mem[i] = Math.fround(-87 + (175 * (rep * n + i)) / (4 * n));
        wasm.expRows(0, 4 * n, n);
        for (let i = 0; i < n; i++) {
          const want = Math.exp(mem[i]);
          const ulp = 2 ** (Math.floor(Math.log2(want)) - 23);
          worst = Math.max(worst, Math.abs(mem[n + i] - want) / ulp);
        }
      }
      expect(worst).toBeLessThanOrEqual(2);
    });
  }
});
