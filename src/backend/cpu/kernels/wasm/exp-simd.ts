// exp(x) on four float32 lanes, emitted inline into a kernel (WebAssembly has no exp instruction).
//
// Range reduction: x = n·ln 2 + r with n = round(x / ln 2), |r| ≤ ln 2 / 2, where n·ln 2 is subtracted in two
// parts (C1 = 0.693359375 is exact in float32 with few bits; C2 = ln 2 - C1) so r keeps its low bits
// (Cody & Waite). Then e^r ≈ 1 + r + r²·P(r) with a degree-5 polynomial P (the coefficients of Cephes' expf,
// relative error ~1e-7 on the interval), and 2^n is built directly as the float32 bit pattern (n + 127) << 23.
// x is first clamped to [-87.3, 88.3] so that n stays in [-126, 127] (no overflow to inf, no denormals); callers
// that need exp(-∞) = 0 select the zero themselves. Measured against Math.exp on 10⁶ points of [-87, 88]:
// at most 2 float32 ulp (spec/backend/cpu/wasm-attention.spec.ts).

import { CodeBuilder, ValType } from './encoder.js';
import type { WasmSimdLevel } from './simd-features.js';

const LOG2E = 1.44269504088896341;
const C1 = 0.693359375;
const C2 = -2.12194440e-4;
/** 1.5·2²³ + 127 and 1.5·2⁵² + 1023: added to an integer-valued n, they leave n + bias in the low mantissa bits. */
const EXP_BIAS_32 = 12582912 + 127;
const EXP_BIAS_64 = 6755399441055744 + 1023;
const P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/** Scratch v128 locals of one exp emitter (declare once per function with expLocals). */
export interface ExpLocals { n: number; r: number; p: number }

export function expLocals(f: CodeBuilder): ExpLocals {
  return { n: f.local(ValType.v128), r: f.local(ValType.v128), p: f.local(ValType.v128) };
}

/** Emits local `out` = exp(local `x`) (x is left unchanged; out may be x). */
export function emitExp(f: CodeBuilder, level: WasmSimdLevel, x: number, out: number, t: ExpLocals): void {
  emitExpInterleaved(f, level, [{ x, out, t }]);
}

/**
 * emitExp for several independent vectors at once, each step emitted for all of them before the next. One exp is
 * a chain of ~12 dependent operations; interleaved, the chains of different vectors overlap instead of waiting on
 * each other's latencies. Every vector goes through the same operations as alone (same bits).
 */
export function emitExpInterleaved(f: CodeBuilder, level: WasmSimdLevel,
  vs: { x: number; out: number; t: ExpLocals }[]): void {
  // r = clamp(x, -87.3, 88.3), with the one-instruction pseudo-max and -min (x first, so a NaN x stays NaN)
  for (const { x, t } of vs) {
    f.localGet(x).v128ConstF32(-87.33654).f32x4Pmax().v128ConstF32(88.37626).f32x4Pmin().localSet(t.r);
  }
  // n = round(r · log2 e)
  for (const { t } of vs) f.localGet(t.r).v128ConstF32(LOG2E).f32x4Mul().f32x4Nearest().localSet(t.n);
  // r = r - n·C1 - n·C2
  for (const { t } of vs) {
    f.localGet(t.r).localGet(t.n).v128ConstF32(C1).f32x4Mul().f32x4Sub()
      .localGet(t.n).v128ConstF32(C2).f32x4Mul().f32x4Sub().localSet(t.r);
  }
  // p = P0; p = p·r + P_i (Horner)
  for (const { t } of vs) f.v128ConstF32(P[0]).localSet(t.p);
  for (let i = 1; i < P.length; i++) {
    for (const { t } of vs) {
      if (level === 'relaxed') f.localGet(t.p).localGet(t.r).v128ConstF32(P[i]).f32x4RelaxedMadd().localSet(t.p);
      else f.localGet(t.p).localGet(t.r).f32x4Mul().v128ConstF32(P[i]).f32x4Add().localSet(t.p);
    }
  }
  // e^r = p·r² + r + 1
  for (const { out, t } of vs) {
    f.localGet(t.p).localGet(t.r).f32x4Mul().localGet(t.r).f32x4Mul().localGet(t.r).f32x4Add()
      .v128ConstF32(1).f32x4Add().localSet(out);
  }
  // 2^n as the bits (n + 127) << 23: n + (1.5·2²³ + 127) is exact and holds n + 127 in its low mantissa bits,
  // and the shift by 23 drops everything above them (n + 127 < 2⁹); out = e^r · 2^n
  for (const { out, t } of vs) {
    f.localGet(out).localGet(t.n).v128ConstF32(EXP_BIAS_32).f32x4Add().i32Const(23).i32x4Shl()
      .f32x4Mul().localSet(out);
  }
}

/**
 * Emits local `out` = exp(local `x`) on two float64 lanes, for kernels that must round like the float64 JS loops
 * (one rounding when the result is stored as float32). Same reduction with fdlibm's split of ln 2
 * (LN2_HI has its low bits zero, so n·LN2_HI is exact), then the Taylor series of e^r to degree 10:
 * |r| ≤ ln 2 / 2 leaves a truncation error below r¹¹/11! ≈ 2·10⁻¹³, far under float32's 6·10⁻⁸. x is clamped to
 * [-700, 700] (no overflow; 2^n as the bits (n + 1023) << 52).
 */
export function emitExp64(f: CodeBuilder, x: number, out: number, t: ExpLocals): void {
  emitExp64Interleaved(f, [{ x, out, t }]);
}

/**
 * emitExp64 for several independent vectors at once, each step emitted for all of them before the next: a single
 * exp is a chain of ~25 dependent float64 operations, so one at a time the CPU waits on latencies; interleaved,
 * the chains overlap. Every vector goes through the same operations as in emitExp64 (same bits).
 */
export function emitExp64Interleaved(f: CodeBuilder, vs: { x: number; out: number; t: ExpLocals }[]): void {
  for (const { x, t } of vs) f.localGet(x).v128ConstF64(-700).f64x2Pmax().v128ConstF64(700).f64x2Pmin().localSet(t.r);
  for (const { t } of vs) f.localGet(t.r).v128ConstF64(Math.LOG2E).f64x2Mul().f64x2Nearest().localSet(t.n);
  for (const { t } of vs) {
    f.localGet(t.r).localGet(t.n).v128ConstF64(6.93147180369123816490e-01).f64x2Mul().f64x2Sub()
      .localGet(t.n).v128ConstF64(1.90821492927058770002e-10).f64x2Mul().f64x2Sub().localSet(t.r);
  }
  // Horner: p = 1/10!; p = p·r + 1/k! for k = 9 .. 0
  let fact = 1;
  const inv: number[] = [];
  for (let k = 0; k <= 10; k++) { if (k > 0) fact *= k; inv.push(1 / fact); }
  for (const { t } of vs) f.v128ConstF64(inv[10]).localSet(t.p);
  for (let k = 9; k >= 0; k--) {
    for (const { t } of vs) f.localGet(t.p).localGet(t.r).f64x2Mul().v128ConstF64(inv[k]).f64x2Add().localSet(t.p);
  }
  // out = p · 2^n, 2^n as the bits (n + 1023) << 52 (the same trick as in emitExpInterleaved: n + 1023 < 2¹¹)
  for (const { out, t } of vs) {
    f.localGet(t.p).localGet(t.n).v128ConstF64(EXP_BIAS_64).f64x2Add().i32Const(52).i64x2Shl().f64x2Mul().localSet(out);
  }
}
