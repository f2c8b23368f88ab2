// Elementwise WebAssembly functions, four float32 lanes at a time (emitted with encoder.ts).
//
// expRows(src, dst, n): dst[i] = exp(src[i]) for i < n (n a multiple of 4; byte pointers), with the inline
// exp of exp-simd.ts. Its accuracy against Math.exp is what spec/backend/cpu/wasm-attention.spec.ts checks, and
// the attention row functions use the same emitter.

import { CodeBuilder, ValType } from './encoder.js';
import { emitExp, expLocals } from './exp-simd.js';
import type { WasmSimdLevel } from './simd-features.js';

export const EXP_ROWS_PARAMS = [ValType.i32, ValType.i32, ValType.i32];

export function buildExpRows(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(EXP_ROWS_PARAMS.length);
  const src = 0, dst = 1, n = 2;
  const i = f.local(ValType.i32), x = f.local(ValType.v128);
  const t = expLocals(f);
  f.i32Const(0).localSet(i);
  f.block().loop().localGet(i).localGet(n).i32GeU().brIf(1);
  f.localGet(src).localGet(i).i32Const(4).i32Mul().i32Add().v128Load(0).localSet(x);
  emitExp(f, level, x, x, t);
  f.localGet(dst).localGet(i).i32Const(4).i32Mul().i32Add().localGet(x).v128Store(0);
  f.localGet(i).i32Const(4).i32Add().localSet(i).br(0).end().end();
  return f;
}
