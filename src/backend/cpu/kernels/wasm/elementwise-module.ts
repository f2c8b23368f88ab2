// Elementwise WebAssembly functions, four float32 lanes at a time (emitted with encoder.ts).
//
// expRows(src, dst, n):     dst[i] = exp(src[i])                 (float32 lanes: the emitter's accuracy test)
// exp64Rows(src, dst, n):   dst[i] = exp(src[i])                 (in float64, like the two below)
// sigmoidRows(src, dst, n): dst[i] = 1 / (1 + exp(-src[i]))       (in float64, two lanes at a time: rounded once,
// siluRows(src, dst, n):    dst[i] = src[i] / (1 + exp(-src[i]))    as the JS loop rounds; a float32 version broke
//                                                                   the 1e-5 entropy golden against HF)
// sumSquaresRows(src, n, out): the float64 at out = Σ_i src[i]² (float64 lanes, four interleaved pairs of partial
//                              sums, n a multiple of 8)
// binaryRows_<op>(a, b, dst, n): dst[i] = a[i] op b[i]   (op = add, sub, mul, div; n a multiple of 8; float32
//                                                          lanes, which round exactly as the float64 JS loop does)
// for i < n (n a multiple of 4; byte pointers), with the inline exps of exp-simd.ts. The accuracy of that exp
// against Math.exp is checked by spec/backend/cpu/wasm-attention.spec.ts (the attention row functions use the
// same emitter); elementwise-wasm.ts calls these for float32 tensors.

import { CodeBuilder, ValType } from './encoder.js';
import { emitExp, emitExp64Interleaved, expLocals } from './exp-simd.js';
import type { WasmSimdLevel } from './simd-features.js';

export const EXP_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32];

/** The unary functions this module exports, by op name ('exp' is expRows, float32 lanes, used by tests only). */
export type WasmUnaryOp = 'exp' | 'exp64' | 'sigmoid' | 'silu';

/** Builds `<op>Rows(src, dst, n)`: one f32x4 of src at a time through the op (see the header). */
export function buildUnaryRows(level: WasmSimdLevel, op: WasmUnaryOp): CodeBuilder {
  const f = new CodeBuilder(EXP_ROWS_PARAMS.length);
  const src = 0, dst = 1, n = 2;
  const i = f.local(ValType.i32);
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  if (op === 'exp') {
    const x = f.local(ValType.v128), e = f.local(ValType.v128), t = expLocals(f);
    f.localGet(src).localGet(i).i32Const(4).i32Mul().i32Add().v128Load(0).localSet(x);
    emitExp(f, level, x, e, t);
    f.localGet(dst).localGet(i).i32Const(4).i32Mul().i32Add().localGet(e).v128Store(0);
  } else {
    // two lanes at a time in float64, like the JS loop: exp64 = exp(x); with e = exp(-x), sigmoid = 1 / (1 + e),
    // silu = x / (1 + e); one rounding to float32 at the end. The two halves' exps are interleaved.
    const halves = [0, 8].map((half) => ({ half, x: f.local(ValType.v128), e: f.local(ValType.v128), t: expLocals(f) }));
    for (const h of halves) {
      f.localGet(src).localGet(i).i32Const(4).i32Mul().i32Add().v128Load64Zero(h.half).f64x2PromoteLowF32x4().localSet(h.x);
      if (op === 'exp64') f.localGet(h.x).localSet(h.e);
      else f.v128ConstF64(0).localGet(h.x).f64x2Sub().localSet(h.e);
    }
    emitExp64Interleaved(f, halves.map((h) => ({ x: h.e, out: h.e, t: h.t })));
    for (const h of halves) {
      if (op !== 'exp64') {
        if (op === 'sigmoid') f.v128ConstF64(1);
        else f.localGet(h.x);
        f.localGet(h.e).v128ConstF64(1).f64x2Add().f64x2Div().localSet(h.e);
      }
      f.localGet(dst).localGet(i).i32Const(4).i32Mul().i32Add().localGet(h.e).f32x4DemoteF64x2Zero().v128Store64Lane(h.half, 0);
    }
  }
  f.localGet(i).i32Const(4).i32Add().localSet(i).br(0).end().end();
  return f;
}

export const BINARY_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32, ValType.i32];

/** The same-shape binary ops with a wasm version. */
export type WasmBinaryOp = 'add' | 'sub' | 'mul' | 'div';
export const WASM_BINARY_OPS: readonly WasmBinaryOp[] = ['add', 'sub', 'mul', 'div'];

/**
 * Builds `binaryRows_<op>(a, b, dst, n)`: dst[i] = a[i] op b[i], eight floats (two f32x4) per iteration.
 * Same bits as the JS loop, which computes in float64 and rounds once: for +, -, × and ÷ of two float32 values
 * the float64 result rounded to float32 equals the correctly rounded float32 operation, because float64 carries
 * more than 2·24 + 2 bits (the double-rounding theorem), and f32x4 operations are correctly rounded IEEE ones.
 */
export function buildBinaryRows(op: WasmBinaryOp): CodeBuilder {
  const f = new CodeBuilder(BINARY_ROWS_PARAMS.length);
  const a = 0, b = 1, dst = 2, n = 3;
  const i = f.local(ValType.i32);
  const apply = (): CodeBuilder => (op === 'add' ? f.f32x4Add() : op === 'sub' ? f.f32x4Sub() : op === 'mul' ? f.f32x4Mul() : f.f32x4Div());
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  for (const offset of [0, 16]) {
    f.localGet(dst).localGet(i).i32Const(4).i32Mul().i32Add();
    f.localGet(a).localGet(i).i32Const(4).i32Mul().i32Add().v128Load(offset);
    f.localGet(b).localGet(i).i32Const(4).i32Mul().i32Add().v128Load(offset);
    apply();
    f.v128Store(offset);
  }
  f.localGet(i).i32Const(8).i32Add().localSet(i).br(0).end().end();
  return f;
}

export const SUM_SQUARES_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32];

/** Builds `sumSquaresRows(src, n, out)`: Σ src[i]² in float64, eight floats per iteration in four accumulators. */
export function buildSumSquaresRows(): CodeBuilder {
  const f = new CodeBuilder(SUM_SQUARES_ROWS_PARAMS.length);
  const src = 0, n = 1, out = 2;
  const i = f.local(ValType.i32), p = f.local(ValType.i32), x = f.local(ValType.v128);
  const acc = [0, 1, 2, 3].map(() => f.local(ValType.v128));
  for (const a of acc) f.v128ConstF64(0).localSet(a);
  f.localGet(src).localSet(p);
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  acc.forEach((a, k) => {
    f.localGet(p).v128Load64Zero(8 * k).f64x2PromoteLowF32x4().localSet(x);
    f.localGet(a).localGet(x).localGet(x).f64x2Mul().f64x2Add().localSet(a);
  });
  f.localGet(p).i32Const(32).i32Add().localSet(p);
  f.localGet(i).i32Const(8).i32Add().localSet(i).br(0).end().end();
  // out = both lanes of (acc0 + acc1) + (acc2 + acc3), summed: lane 0 + lane 1
  f.localGet(acc[0]).localGet(acc[1]).f64x2Add().localGet(acc[2]).localGet(acc[3]).f64x2Add().f64x2Add().localSet(x);
  f.localGet(out).localGet(x).localGet(x).localGet(x)
    .i8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).f64x2Add().v128Store64Lane(0, 0);
  return f;
}
