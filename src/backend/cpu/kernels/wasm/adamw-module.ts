// The AdamW update of ../adamw.ts as a WebAssembly function (emitted with encoder.ts), two float32 parameters at
// a time in float64 lanes:
//
// adamwRows(p, g, m, v, n, gradScale, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, bc1, bc2, lr, eps)
//   gi = g·gradScale;  pi = p·decay
//   m = fround(beta1·m + oneMinusBeta1·gi);  v = fround(beta2·v + (oneMinusBeta2·gi)·gi)
//   p = fround(pi - (lr·(m / bc1)) / (sqrt(v / bc2) + eps))
//
// for i < n (n a multiple of 4; byte pointers; p, m, v updated in place). Each iteration updates two independent
// pairs, so that their chains of divisions and square roots overlap. Every step is the JS loop's float64
// operation in the JS loop's order (+, -, ×, ÷ and sqrt are correctly rounded in both), and m and v are rounded to
// float32 when stored and read back as stored, as the JS loop's typed-array stores do: the same bits.

import { CodeBuilder, ValType } from './encoder.js';

export const ADAMW_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32,
  ...Array.from({ length: 10 }, () => ValType.f64)];

export function buildAdamwRows(): CodeBuilder {
  const f = new CodeBuilder(ADAMW_ROWS_PARAMS.length);
  const p = 0, g = 1, m = 2, v = 3, n = 4;
  const scalars = ['gradScale', 'decay', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'bc1', 'bc2', 'lr', 'eps'];
  const i = f.local(ValType.i32);
  // each scalar splat once into a v128 local before the loop
  const c: Record<string, number> = {};
  scalars.forEach((name, k) => {
    c[name] = f.local(ValType.v128);
    f.localGet(5 + k).f64x2Splat().localSet(c[name]);
  });
  const at = (ptr: number) => f.localGet(ptr).localGet(i).i32Const(4).i32Mul().i32Add();
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  for (const off of [0, 8]) {
    const gi = f.local(ValType.v128), mi = f.local(ValType.v128), vi = f.local(ValType.v128);
    const load2 = (ptr: number) => at(ptr).v128Load64Zero(off).f64x2PromoteLowF32x4();
    load2(g).localGet(c.gradScale).f64x2Mul().localSet(gi);
    // m = β1 m + (1 - β1) g', stored as float32 and used as stored
    f.localGet(c.beta1);
    load2(m).f64x2Mul().localGet(c.oneMinusBeta1).localGet(gi).f64x2Mul().f64x2Add()
      .f32x4DemoteF64x2Zero().f64x2PromoteLowF32x4().localSet(mi);
    at(m).localGet(mi).f32x4DemoteF64x2Zero().v128Store64Lane(off, 0);
    // v = β2 v + ((1 - β2) g') g'
    f.localGet(c.beta2);
    load2(v).f64x2Mul().localGet(c.oneMinusBeta2).localGet(gi).f64x2Mul().localGet(gi).f64x2Mul().f64x2Add()
      .f32x4DemoteF64x2Zero().f64x2PromoteLowF32x4().localSet(vi);
    at(v).localGet(vi).f32x4DemoteF64x2Zero().v128Store64Lane(off, 0);
    // p = p·decay - (lr · m̂) / (√v̂ + eps)
    at(p);
    load2(p).localGet(c.decay).f64x2Mul();
    f.localGet(c.lr).localGet(mi).localGet(c.bc1).f64x2Div().f64x2Mul();
    f.localGet(vi).localGet(c.bc2).f64x2Div().f64x2Sqrt().localGet(c.eps).f64x2Add().f64x2Div().f64x2Sub();
    f.f32x4DemoteF64x2Zero().v128Store64Lane(off, 0);
  }
  f.localGet(i).i32Const(4).i32Add().localSet(i).br(0).end().end();
  return f;
}
