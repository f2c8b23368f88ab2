// SwiGLU's gate, forward and backward, as WebAssembly functions (emitted with encoder.ts), computed in float64
// (like the JS loops of ../swiglu.ts, whose formulas these follow term by term):
//
// swigluRows(gate, up, out, n):                 out[i] = fround(silu(gate[i])) · up[i]
// swigluBackwardRows(g, gate, up, dGate, dUp, n):
//     s = 1 / (1 + exp(-x)),  x = gate[i]
//     dUp[i]   = g[i] · x · s                        (∂/∂up of silu(x)·up)
//     dGate[i] = g[i] · up[i] · s · (1 + x (1 - s))  (silu'(x) = s (1 + x (1 - s)))
//
// for i < n (n a multiple of 8; byte pointers; results rounded once to float32 on store). The forward rounds silu
// to float32 before the product, so it has the bits of the unfused silu-then-mul (the product of two float32
// values is exact in float64). exp is exp-simd.ts' float64 emitter (relative error < 1e-12).
// Each iteration takes 8 elements as VECTORS = 4 float64x2 vectors whose exps are interleaved: one exp is a long
// chain of dependent operations, and four independent chains keep the CPU busy (~3x faster than one at a time).

import { CodeBuilder, ValType } from './encoder.js';
import { emitExp64Interleaved, expLocals, type ExpLocals } from './exp-simd.js';

export const SWIGLU_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32, ValType.i32];
export const SWIGLU_BACKWARD_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32];

/** float64x2 vectors per loop iteration (2 elements each). */
const VECTORS = 4;

/** Pushes the address p + 4i (the float32 at index i of the array at byte pointer p). */
function at(f: CodeBuilder, p: number, i: number): CodeBuilder {
  return f.localGet(p).localGet(i).i32Const(4).i32Mul().i32Add();
}

/** Pushes the two float32 elements at p + 4i + offset bytes, promoted to float64 lanes. */
function load2(f: CodeBuilder, p: number, i: number, offset: number): CodeBuilder {
  return at(f, p, i).v128Load64Zero(offset).f64x2PromoteLowF32x4();
}

interface Lane { offset: number; x: number; e: number; t: ExpLocals }

/** Per vector v: its byte offset 8v in the iteration's 8 elements and its locals (x, e and the exp's scratch). */
function lanes(f: CodeBuilder): Lane[] {
  return Array.from({ length: VECTORS }, (_, v) => ({
    offset: 8 * v, x: f.local(ValType.v128), e: f.local(ValType.v128), t: expLocals(f),
  }));
}

export function buildSwigluRows(): CodeBuilder {
  const f = new CodeBuilder(SWIGLU_ROWS_PARAMS.length);
  const gate = 0, up = 1, out = 2, n = 3;
  const i = f.local(ValType.i32);
  const ls = lanes(f);
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  for (const l of ls) {
    load2(f, gate, i, l.offset).localSet(l.x);
    f.v128ConstF64(0).localGet(l.x).f64x2Sub().localSet(l.e);
  }
  emitExp64Interleaved(f, ls.map((l) => ({ x: l.e, out: l.e, t: l.t })));  // e = exp(-x)
  for (const l of ls) {
    at(f, out, i);
    f.localGet(l.x).localGet(l.e).v128ConstF64(1).f64x2Add().f64x2Div()      // silu = x / (1 + e)
      .f32x4DemoteF64x2Zero().f64x2PromoteLowF32x4();                         // rounded to float32
    load2(f, up, i, l.offset).f64x2Mul();                                     // · up (exact in float64)
    f.f32x4DemoteF64x2Zero().v128Store64Lane(l.offset, 0);
  }
  f.localGet(i).i32Const(2 * VECTORS).i32Add().localSet(i).br(0).end().end();
  return f;
}

export function buildSwigluBackwardRows(): CodeBuilder {
  const f = new CodeBuilder(SWIGLU_BACKWARD_ROWS_PARAMS.length);
  const g = 0, gate = 1, up = 2, dGate = 3, dUp = 4, n = 5;
  const i = f.local(ValType.i32);
  const ls = lanes(f); // e holds exp(-x), then s
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  for (const l of ls) {
    load2(f, gate, i, l.offset).localSet(l.x);
    f.v128ConstF64(0).localGet(l.x).f64x2Sub().localSet(l.e);
  }
  emitExp64Interleaved(f, ls.map((l) => ({ x: l.e, out: l.e, t: l.t })));  // exp(-x)
  for (const l of ls) {
    const s = l.e;
    f.v128ConstF64(1).localGet(l.e).v128ConstF64(1).f64x2Add().f64x2Div().localSet(s); // s = 1 / (1 + exp(-x))
    // dUp = (g · x) · s, in the JS loop's order
    at(f, dUp, i);
    load2(f, g, i, l.offset).localGet(l.x).f64x2Mul().localGet(s).f64x2Mul().f32x4DemoteF64x2Zero().v128Store64Lane(l.offset, 0);
    // dGate = ((g · up) · s) · (x · (1 - s) + 1)
    at(f, dGate, i);
    load2(f, g, i, l.offset);
    load2(f, up, i, l.offset).f64x2Mul().localGet(s).f64x2Mul();
    f.localGet(l.x).v128ConstF64(1).localGet(s).f64x2Sub().f64x2Mul().v128ConstF64(1).f64x2Add().f64x2Mul();
    f.f32x4DemoteF64x2Zero().v128Store64Lane(l.offset, 0);
  }
  f.localGet(i).i32Const(2 * VECTORS).i32Add().localSet(i).br(0).end().end();
  return f;
}
