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
