// RMSNorm forward and backward (../rms-norm.ts) as WebAssembly functions (emitted with encoder.ts), for float32
// rows of length D (a multiple of 4), computed in float64 lanes like the JS loops:
//
// rmsNormRows(x, w, y, rstd, rows, D, eps):
//   rs = 1 / sqrt(Σ_d x_d² / D + eps)  (stored to rstd as float32, used as stored);  y_d = w_d · (x_d · rs)
// rmsNormBackwardRows(dy, x, w, rstd, dx, dwAcc, rows, D):
//   dot = Σ_d (w_d · dy_d) · x_d;  c = (rs·rs·rs·dot) / D;  dx_d = (rs · w_d) · dy_d - c · x_d;
//   dwAcc_d += (dy_d · x_d) · rs        (dwAcc: D float64 values, accumulated over calls)
//
// Byte pointers. Every elementwise step is the JS loop's float64 operation in its order; only the two sums over d
// (Σ x², and dot) are taken in two interleaved lanes, each lane in order, then added: a different association than
// the JS loop's, so a result may differ from it by a float64 rounding of the sum (about 1e-16 relative), far below
// the one float32 rounding of the stored value. dwAcc keeps the JS order exactly (rows one after another).

import { CodeBuilder, ValType } from './encoder.js';
import { countedLoop } from './matmul-module.js';

const i32 = ValType.i32;
export const RMS_NORM_ROWS_PARAMS = [i32, i32, i32, i32, i32, i32, ValType.f64];
export const RMS_NORM_BACKWARD_ROWS_PARAMS = [i32, i32, i32, i32, i32, i32, i32, i32];

/** The byte lanes that swap the two float64 lanes of a vector. */
const SWAP_F64 = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

/** Emits local `v` = both lanes set to lane 0 + lane 1 of `v`. */
function emitLaneSum(f: CodeBuilder, v: number): void {
  f.localGet(v).localGet(v).localGet(v).i8x16Shuffle(SWAP_F64).f64x2Add().localSet(v);
}

/** Pushes the two float32 values at byte address (local p) + offset as float64 lanes. */
function load2(f: CodeBuilder, p: number, offset = 0): CodeBuilder {
  return f.localGet(p).v128Load64Zero(offset).f64x2PromoteLowF32x4();
}

export function buildRmsNormRows(): CodeBuilder {
  const f = new CodeBuilder(RMS_NORM_ROWS_PARAMS.length);
  const x = 0, w = 1, y = 2, rstd = 3, rows = 4, D = 5, eps = 6;
  const r = f.local(i32), d = f.local(i32), px = f.local(i32), pw = f.local(i32), py = f.local(i32), D2 = f.local(i32);
  const ss = f.local(ValType.v128), ss2 = f.local(ValType.v128), v = f.local(ValType.v128), rs = f.local(ValType.v128);
  const epsV = f.local(ValType.v128), dV = f.local(ValType.v128);
  f.localGet(eps).f64x2Splat().localSet(epsV);
  f.localGet(D).f64ConvertI32U().f64x2Splat().localSet(dV);
  f.localGet(D).i32Const(1).i32ShrU().localSet(D2); // pairs per row
  countedLoop(f, r, rows, () => {
    // ss = Σ x² over the row, two pairs of lanes (d ≡ 0, 1 and d ≡ 2, 3 mod 4), then summed
    f.v128ConstF64(0).localSet(ss);
    f.v128ConstF64(0).localSet(ss2);
    f.localGet(x).localSet(px);
    f.i32Const(0).localSet(d);
    f.block().loop().localGet(d).localGet(D2).i32GeU().brIf(1);
    load2(f, px).localSet(v);
    f.localGet(ss).localGet(v).localGet(v).f64x2Mul().f64x2Add().localSet(ss);
    load2(f, px, 8).localSet(v);
    f.localGet(ss2).localGet(v).localGet(v).f64x2Mul().f64x2Add().localSet(ss2);
    f.localGet(px).i32Const(16).i32Add().localSet(px);
    f.localGet(d).i32Const(2).i32Add().localSet(d).br(0).end().end();
    f.localGet(ss).localGet(ss2).f64x2Add().localSet(ss);
    emitLaneSum(f, ss);
    // rs = 1 / sqrt(ss / D + eps), stored as float32 and used as stored
    f.v128ConstF64(1).localGet(ss).localGet(dV).f64x2Div().localGet(epsV).f64x2Add().f64x2Sqrt().f64x2Div()
      .f32x4DemoteF64x2Zero().localSet(rs);
    f.localGet(rstd).localGet(r).i32Const(4).i32Mul().i32Add().localGet(rs).v128Store32Lane(0, 0);
    f.localGet(rs).f64x2PromoteLowF32x4().localSet(rs);
    // y = w · (x · rs), two values at a time
    f.localGet(x).localSet(px);
    f.localGet(w).localSet(pw);
    f.localGet(y).localSet(py);
    f.i32Const(0).localSet(d);
    f.block().loop().localGet(d).localGet(D2).i32GeU().brIf(1);
    f.localGet(py);
    load2(f, pw);
    load2(f, px).localGet(rs).f64x2Mul().f64x2Mul().f32x4DemoteF64x2Zero().v128Store64Lane(0, 0);
    for (const p of [px, pw, py]) f.localGet(p).i32Const(8).i32Add().localSet(p);
    f.localGet(d).i32Const(1).i32Add().localSet(d).br(0).end().end();
    f.localGet(x).localGet(D).i32Const(4).i32Mul().i32Add().localSet(x);
    f.localGet(y).localGet(D).i32Const(4).i32Mul().i32Add().localSet(y);
  });
  return f;
}

export function buildRmsNormBackwardRows(): CodeBuilder {
  const f = new CodeBuilder(RMS_NORM_BACKWARD_ROWS_PARAMS.length);
  const dy = 0, x = 1, w = 2, rstd = 3, dx = 4, dwAcc = 5, rows = 6, D = 7;
  const r = f.local(i32), d = f.local(i32), D2 = f.local(i32);
  const pdy = f.local(i32), px = f.local(i32), pw = f.local(i32), pdx = f.local(i32), pacc = f.local(i32);
  const dot = f.local(ValType.v128), dot2 = f.local(ValType.v128), rs = f.local(ValType.v128), c = f.local(ValType.v128);
  const dV = f.local(ValType.v128), vdy = f.local(ValType.v128), vx = f.local(ValType.v128);
  f.localGet(D).f64ConvertI32U().f64x2Splat().localSet(dV);
  f.localGet(D).i32Const(1).i32ShrU().localSet(D2);
  countedLoop(f, r, rows, () => {
    f.localGet(rstd).localGet(r).i32Const(4).i32Mul().i32Add().v128Load32Splat(0).f64x2PromoteLowF32x4().localSet(rs);
    // dot = Σ (w · dy) · x, two pairs of lanes as in the forward
    f.v128ConstF64(0).localSet(dot);
    f.v128ConstF64(0).localSet(dot2);
    f.localGet(dy).localSet(pdy);
    f.localGet(x).localSet(px);
    f.localGet(w).localSet(pw);
    f.i32Const(0).localSet(d);
    f.block().loop().localGet(d).localGet(D2).i32GeU().brIf(1);
    for (const [acc, off] of [[dot, 0], [dot2, 8]] as const) {
      f.localGet(acc);
      load2(f, pw, off);
      load2(f, pdy, off).f64x2Mul();
      load2(f, px, off).f64x2Mul().f64x2Add().localSet(acc);
    }
    for (const p of [pdy, px, pw]) f.localGet(p).i32Const(16).i32Add().localSet(p);
    f.localGet(d).i32Const(2).i32Add().localSet(d).br(0).end().end();
    f.localGet(dot).localGet(dot2).f64x2Add().localSet(dot);
    emitLaneSum(f, dot);
    // c = (rs · rs · rs · dot) / D
    f.localGet(rs).localGet(rs).f64x2Mul().localGet(rs).f64x2Mul().localGet(dot).f64x2Mul().localGet(dV).f64x2Div()
      .localSet(c);
    // dx = (rs · w) · dy - c · x;  dwAcc += (dy · x) · rs
    f.localGet(dy).localSet(pdy);
    f.localGet(x).localSet(px);
    f.localGet(w).localSet(pw);
    f.localGet(dx).localSet(pdx);
    f.localGet(dwAcc).localSet(pacc);
    f.i32Const(0).localSet(d);
    f.block().loop().localGet(d).localGet(D2).i32GeU().brIf(1);
    load2(f, pdy).localSet(vdy);
    load2(f, px).localSet(vx);
    f.localGet(pdx);
    f.localGet(rs);
    load2(f, pw).f64x2Mul().localGet(vdy).f64x2Mul().localGet(c).localGet(vx).f64x2Mul().f64x2Sub()
      .f32x4DemoteF64x2Zero().v128Store64Lane(0, 0);
    f.localGet(pacc).localGet(pacc).v128Load(0).localGet(vdy).localGet(vx).f64x2Mul().localGet(rs).f64x2Mul()
      .f64x2Add().v128Store(0);
    for (const p of [pdy, px, pw, pdx]) f.localGet(p).i32Const(8).i32Add().localSet(p);
    f.localGet(pacc).i32Const(16).i32Add().localSet(pacc);
    f.localGet(d).i32Const(1).i32Add().localSet(d).br(0).end().end();
    for (const p of [dy, x, dx]) f.localGet(p).localGet(D).i32Const(4).i32Mul().i32Add().localSet(p);
  });
  return f;
}
