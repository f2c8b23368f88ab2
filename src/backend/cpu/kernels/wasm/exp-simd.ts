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
const P = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/** Scratch v128 locals of one exp emitter (declare once per function with expLocals). */
export interface ExpLocals { n: number; r: number; p: number }

export function expLocals(f: CodeBuilder): ExpLocals {
  return { n: f.local(ValType.v128), r: f.local(ValType.v128), p: f.local(ValType.v128) };
}

/** Emits local `out` = exp(local `x`) (x is left unchanged). */
export function emitExp(f: CodeBuilder, level: WasmSimdLevel, x: number, out: number, t: ExpLocals): void {
  // r = clamp(x, -87.3, 88.3)
  f.localGet(x).v128ConstF32(-87.33654).f32x4Max().v128ConstF32(88.37626).f32x4Min().localSet(t.r);
  // n = round(r · log2 e)
  f.localGet(t.r).v128ConstF32(LOG2E).f32x4Mul().f32x4Nearest().localSet(t.n);
  // r = r - n·C1 - n·C2
  f.localGet(t.r).localGet(t.n).v128ConstF32(C1).f32x4Mul().f32x4Sub()
    .localGet(t.n).v128ConstF32(C2).f32x4Mul().f32x4Sub().localSet(t.r);
  // p = P0; p = p·r + P_i (Horner)
  f.v128ConstF32(P[0]).localSet(t.p);
  for (let i = 1; i < P.length; i++) {
    if (level === 'relaxed') f.localGet(t.p).localGet(t.r).v128ConstF32(P[i]).f32x4RelaxedMadd().localSet(t.p);
    else f.localGet(t.p).localGet(t.r).f32x4Mul().v128ConstF32(P[i]).f32x4Add().localSet(t.p);
  }
  // e^r = p·r² + r + 1
  f.localGet(t.p).localGet(t.r).f32x4Mul().localGet(t.r).f32x4Mul().localGet(t.r).f32x4Add()
    .v128ConstF32(1).f32x4Add().localSet(out);
  // 2^n as bits: (int(n) + 127) << 23; out = e^r · 2^n
  f.localGet(out).localGet(t.n).i32x4TruncSatF32x4S().v128ConstI32(127).i32x4Add().i32Const(23).i32x4Shl()
    .f32x4Mul().localSet(out);
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
  for (const { x, t } of vs) f.localGet(x).v128ConstF64(-700).f64x2Max().v128ConstF64(700).f64x2Min().localSet(t.r);
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
  // out = p · 2^n
  for (const { out, t } of vs) {
    f.localGet(t.p).localGet(t.n).i32x4TruncSatF64x2SZero().i64x2ExtendLowI32x4S().v128ConstI64(1023).i64x2Add()
      .i32Const(52).i64x2Shl().f64x2Mul().localSet(out);
  }
}
