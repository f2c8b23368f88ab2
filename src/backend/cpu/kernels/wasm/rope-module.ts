// RoPE's rotation (../rope.ts) as a WebAssembly function (emitted with encoder.ts), for float32 x, in float64
// lanes like the JS loop. One interleaved pair (x₀, x₁) is one f64x2 vector v, and its angle's table entry is two
// vectors cc = [c, c] and ss = [-s, s] (s already negated for the inverse rotation):
//
//   out = v·cc + swap(v)·ss = [x₀c - x₁s, x₁c + x₀s]
//
// which is the JS loop's x₀·c - x₁·s and x₀·s + x₁·c with the same float64 roundings (each product rounded, then
// the sum; negation and the order of an addition's operands change no bits), rounded once to float32 on store.
//
// ropeRows(x, tab, out, rows, T, H, half): x and out are `rows` rows of H heads of 2·half floats ([B·T, H, Dh]);
// row r is at position r mod T, whose half entries of 32 bytes (cc, ss) start at tab + (r mod T)·half·32.
// Byte pointers.

import { CodeBuilder, ValType } from './encoder.js';
import { countedLoop } from './matmul-module.js';

const i32 = ValType.i32;
export const ROPE_ROWS_PARAMS = [i32, i32, i32, i32, i32, i32, i32];

/** The byte lanes that swap the two float64 lanes of a vector. */
const SWAP_F64 = [8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7];

export function buildRopeRows(): CodeBuilder {
  const f = new CodeBuilder(ROPE_ROWS_PARAMS.length);
  const x = 0, tab = 1, out = 2, rows = 3, T = 4, H = 5, half = 6;
  const r = f.local(i32), h = f.local(i32), t = f.local(i32), i = f.local(i32);
  const px = f.local(i32), po = f.local(i32), rowTab = f.local(i32), pt = f.local(i32);
  const v = f.local(ValType.v128);
  f.localGet(x).localSet(px);
  f.localGet(out).localSet(po);
  f.i32Const(0).localSet(i); // position of row r: r mod T
  countedLoop(f, r, rows, () => {
    f.localGet(tab).localGet(i).localGet(half).i32Mul().i32Const(32).i32Mul().i32Add().localSet(rowTab);
    countedLoop(f, h, H, () => {
      f.localGet(rowTab).localSet(pt);
      countedLoop(f, t, half, () => {
        f.localGet(px).v128Load64Zero(0).f64x2PromoteLowF32x4().localSet(v);
        // out pair = v·cc + swap(v)·ss, stored as two float32
        f.localGet(po);
        f.localGet(v).localGet(pt).v128Load(0).f64x2Mul();
        f.localGet(v).localGet(v).i8x16Shuffle(SWAP_F64).localGet(pt).v128Load(16).f64x2Mul();
        f.f64x2Add().f32x4DemoteF64x2Zero().v128Store64Lane(0, 0);
        f.localGet(px).i32Const(8).i32Add().localSet(px);
        f.localGet(po).i32Const(8).i32Add().localSet(po);
        f.localGet(pt).i32Const(32).i32Add().localSet(pt);
      });
    });
    // i = (i + 1) mod T
    f.localGet(i).i32Const(1).i32Add().localSet(i);
    f.localGet(i).i32Const(0).localGet(i).localGet(T).i32Ne().select().localSet(i);
  });
  return f;
}
