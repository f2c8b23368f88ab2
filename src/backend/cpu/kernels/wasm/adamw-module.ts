// The AdamW update of ../adamw.ts as a WebAssembly function (emitted with encoder.ts), four float32 parameters at
// a time in float32 arithmetic, the formula and precision of the WebGPU kernel (adamw.wgsl.ts) and of PyTorch's
// float32 AdamW:
//
// adamwRows(p, g, m, v, n, gradScale, decay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, bc1, bc2, lr, eps)
//   gi = g·gradScale;  pi = p·decay
//   m = beta1·m + oneMinusBeta1·gi;  v = beta2·v + (oneMinusBeta2·gi)·gi
//   p = pi - (lr·(m / bc1)) / (sqrt(v / bc2) + eps)
//
// for i < n (n a multiple of 4; byte pointers; p, m, v updated in place; the scalars arrive as float32). Each
// operation rounds to float32, where the JS loop computes in float64 and rounds each stored value once: the two
// differ by a few float32 roundings (spec/backend/cpu/adamw.spec.ts states the bound).

import { CodeBuilder, ValType } from './encoder.js';

export const ADAMW_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32,
  ...Array.from({ length: 10 }, () => ValType.f32)];

export function buildAdamwRows(): CodeBuilder {
  const f = new CodeBuilder(ADAMW_ROWS_PARAMS.length);
  const p = 0, g = 1, m = 2, v = 3, n = 4;
  const scalars = ['gradScale', 'decay', 'beta1', 'oneMinusBeta1', 'beta2', 'oneMinusBeta2', 'bc1', 'bc2', 'lr', 'eps'];
  const i = f.local(ValType.i32);
  // each scalar splat once into a v128 local before the loop
  const c: Record<string, number> = {};
  scalars.forEach((name, k) => {
    c[name] = f.local(ValType.v128);
    f.localGet(5 + k).f32x4Splat().localSet(c[name]);
  });
  const gi = f.local(ValType.v128), mi = f.local(ValType.v128), vi = f.local(ValType.v128);
  const at = (ptr: number) => f.localGet(ptr).localGet(i).i32Const(4).i32Mul().i32Add();
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  at(g).v128Load(0).localGet(c.gradScale).f32x4Mul().localSet(gi);
  // m = β1 m + (1 - β1) g'
  f.localGet(c.beta1);
  at(m).v128Load(0).f32x4Mul().localGet(c.oneMinusBeta1).localGet(gi).f32x4Mul().f32x4Add().localSet(mi);
  at(m).localGet(mi).v128Store(0);
  // v = β2 v + ((1 - β2) g') g'
  f.localGet(c.beta2);
  at(v).v128Load(0).f32x4Mul().localGet(c.oneMinusBeta2).localGet(gi).f32x4Mul().localGet(gi).f32x4Mul().f32x4Add()
    .localSet(vi);
  at(v).localGet(vi).v128Store(0);
  // p = p·decay - (lr · m̂) / (√v̂ + eps)
  at(p);
  at(p).v128Load(0).localGet(c.decay).f32x4Mul();
  f.localGet(c.lr).localGet(mi).localGet(c.bc1).f32x4Div().f32x4Mul();
  f.localGet(vi).localGet(c.bc2).f32x4Div().f32x4Sqrt().localGet(c.eps).f32x4Add().f32x4Div().f32x4Sub();
  f.v128Store(0);
  f.localGet(i).i32Const(4).i32Add().localSet(i).br(0).end().end();
  return f;
}
