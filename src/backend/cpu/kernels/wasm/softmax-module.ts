// The row sums of log-softmax (../softmax.ts) as a WebAssembly function (emitted with encoder.ts), for float32
// rows of `cols` floats (cols a multiple of 4), in float64 lanes like the JS loop:
//
// sumExpRows(x, rows, cols, ms): m_r = max_c x_rc;  s_r = Σ_c exp(x_rc - m_r);  ms[r] = (m_r, s_r) as float64 pairs
//
// The caller forms log-softmax = x - (m + log s) (wasm has no log). The max is the JS loop's (a NaN never wins
// a comparison); each exp argument x - m is the JS loop's float64 value, its exp is emitExp64 (Taylor degree 10
// after range reduction, within ~2e-13 relative of Math.exp), and the sum runs in four float64 lanes instead of
// one: s differs from the JS loop's by ~1e-13 relative, which moves a float32 output by at most one rounding.

import { CodeBuilder, ValType } from './encoder.js';
import { emitExp64Interleaved, expLocals } from './exp-simd.js';
import { countedLoop } from './matmul-module.js';

const i32 = ValType.i32;
export const SUM_EXP_ROWS_PARAMS = [i32, i32, i32, i32];

/** The byte lanes that swap the two float64 lanes of a vector. */
const SWAP_F64 = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

export function buildSumExpRows(): CodeBuilder {
  const f = new CodeBuilder(SUM_EXP_ROWS_PARAMS.length);
  const x = 0, rows = 1, cols = 2, ms = 3;
  const r = f.local(i32), c = f.local(i32), p = f.local(i32), row = f.local(i32);
  const mx = f.local(ValType.v128), mV = f.local(ValType.v128), m = f.local(ValType.f32);
  const halves = [0, 8].map((half) => ({ half, x: f.local(ValType.v128), e: f.local(ValType.v128), t: expLocals(f),
    acc: f.local(ValType.v128) }));
  f.localGet(x).localSet(row);
  countedLoop(f, r, rows, () => {
    // m = max of the row: lane-wise pseudo-max (x first: a NaN in x never replaces the running max), then lanes
    f.v128ConstF32(-Infinity).localSet(mx);
    f.localGet(row).localSet(p);
    f.i32Const(0).localSet(c);
    f.block().loop().localGet(c).localGet(cols).i32GeU().brIf(1);
    f.localGet(p).v128Load(0).localGet(mx).f32x4Pmax().localSet(mx);
    f.localGet(p).i32Const(16).i32Add().localSet(p);
    f.localGet(c).i32Const(4).i32Add().localSet(c).br(0).end().end();
    f.localGet(mx).f32x4ExtractLane(0).localGet(mx).f32x4ExtractLane(1).f32Max()
      .localGet(mx).f32x4ExtractLane(2).f32Max().localGet(mx).f32x4ExtractLane(3).f32Max().localSet(m);
    f.localGet(m).f64PromoteF32().f64x2Splat().localSet(mV);
    // s = Σ exp(x - m) over the row, four columns (two float64 pairs, their exps interleaved) at a time
    for (const h of halves) f.v128ConstF64(0).localSet(h.acc);
    f.localGet(row).localSet(p);
    f.i32Const(0).localSet(c);
    f.block().loop().localGet(c).localGet(cols).i32GeU().brIf(1);
    for (const h of halves) {
      f.localGet(p).v128Load64Zero(h.half).f64x2PromoteLowF32x4().localGet(mV).f64x2Sub().localSet(h.x);
    }
    emitExp64Interleaved(f, halves.map((h) => ({ x: h.x, out: h.e, t: h.t })));
    for (const h of halves) f.localGet(h.acc).localGet(h.e).f64x2Add().localSet(h.acc);
    f.localGet(p).i32Const(16).i32Add().localSet(p);
    f.localGet(c).i32Const(4).i32Add().localSet(c).br(0).end().end();
    // ms[r] = (m, lanes of acc₀ + acc₁ summed)
    f.localGet(halves[0].acc).localGet(halves[1].acc).f64x2Add().localSet(halves[0].acc);
    f.localGet(ms).localGet(r).i32Const(16).i32Mul().i32Add().localGet(m).f64PromoteF32().f64Store(0);
    f.localGet(ms).localGet(r).i32Const(16).i32Mul().i32Add()
      .localGet(halves[0].acc).localGet(halves[0].acc).localGet(halves[0].acc).i8x16Shuffle(SWAP_F64).f64x2Add()
      .f64x2ExtractLane(0).f64Store(8);
    f.localGet(row).localGet(cols).i32Const(4).i32Mul().i32Add().localSet(row);
  });
  return f;
}
