// The matmul packing routines of matmul-units.ts (packA, packB) as WebAssembly functions (emitted with
// encoder.ts), for operands first copied into wasm memory as they lie. They move whole 16-byte vectors where the JS
// loops move one float at a time (those loops were ~12% of a BLT training step's matmul time).
// Byte pointers and byte strides; `count` full panels (the JS drivers pack a ragged last panel themselves).
//
// packPanels4(src, ld, dst, K, count): dst[((j·K + k)·4 + c] = src[k·ld + 4j + c]   (c < 4; packA of aᵀ)
// packPanels8(src, ld, dst, K, count): dst[((j·K + k)·8 + c] = src[k·ld + 8j + c]   (c < 8; packB of B)
// packPanelsT8(src, ld, dst, K, count): dst[((j·K + k)·8 + c] = src[(8j + c)·ld + k] (c < 8; packB of bᵀ)
//   (indices in floats). The transposing one reads 8 rows × 4 columns, transposes them as two 4×4 blocks with
//   shuffles and writes 4 packed rows of 8; a last K mod 4 columns go one float at a time.

import { CodeBuilder, HI_HALVES, HI_PAIRS, LO_HALVES, LO_PAIRS, ValType } from './encoder.js';
import { countedLoop } from './matmul-module.js';

const i32 = ValType.i32;
export const PACK_PANELS_PARAMS = [i32, i32, i32, i32, i32];

/** packPanels4 / packPanels8: `vecs` = 1 or 2 vectors of 4 floats per packed row. */
export function buildPackPanels(vecs: 1 | 2): CodeBuilder {
  const f = new CodeBuilder(PACK_PANELS_PARAMS.length);
  const src = 0, ld = 1, dst = 2, K = 3, count = 4;
  const j = f.local(i32), k = f.local(i32), from = f.local(i32);
  countedLoop(f, j, count, () => {
    // from = src + j·16·vecs: the panel's first column in row 0
    f.localGet(src).localGet(j).i32Const(16 * vecs).i32Mul().i32Add().localSet(from);
    countedLoop(f, k, K, () => {
      for (let v = 0; v < vecs; v++) f.localGet(dst).localGet(from).v128Load(16 * v).v128Store(16 * v);
      f.localGet(dst).i32Const(16 * vecs).i32Add().localSet(dst);
      f.localGet(from).localGet(ld).i32Add().localSet(from);
    });
  });
  return f;
}

export function buildPackPanelsT8(): CodeBuilder {
  const f = new CodeBuilder(PACK_PANELS_PARAMS.length);
  const src = 0, ld = 1, dst = 2, K = 3, count = 4;
  const j = f.local(i32), k = f.local(i32), K4 = f.local(i32);
  const row = Array.from({ length: 8 }, () => f.local(i32)); // pointers to column k of the panel's 8 source rows
  const x = Array.from({ length: 8 }, () => f.local(ValType.v128));
  const t = Array.from({ length: 4 }, () => f.local(ValType.v128));
  f.localGet(K).i32Const(~3).i32And().localSet(K4);
  countedLoop(f, j, count, () => {
    // row[c] = src + (8j + c)·ld
    f.localGet(src).localGet(j).i32Const(8).i32Mul().localGet(ld).i32Mul().i32Add().localSet(row[0]);
    for (let c = 1; c < 8; c++) f.localGet(row[c - 1]).localGet(ld).i32Add().localSet(row[c]);
    // four columns at a time: x[c] = row c, columns k .. k+3
    f.i32Const(0).localSet(k);
    f.block().loop().localGet(k).localGet(K4).i32GeU().brIf(1);
    for (let c = 0; c < 8; c++) f.localGet(row[c]).v128Load(0).localSet(x[c]);
    for (const half of [0, 4]) {
      // transpose rows half .. half+3: t holds interleaved pairs, then column e of the 4×4 block is stored as
      // packed row k + e, floats half .. half+3
      f.localGet(x[half]).localGet(x[half + 1]).i8x16Shuffle(LO_PAIRS).localSet(t[0]);
      f.localGet(x[half]).localGet(x[half + 1]).i8x16Shuffle(HI_PAIRS).localSet(t[1]);
      f.localGet(x[half + 2]).localGet(x[half + 3]).i8x16Shuffle(LO_PAIRS).localSet(t[2]);
      f.localGet(x[half + 2]).localGet(x[half + 3]).i8x16Shuffle(HI_PAIRS).localSet(t[3]);
      for (let e = 0; e < 4; e++) {
        f.localGet(dst).localGet(t[e >> 1]).localGet(t[2 + (e >> 1)]).i8x16Shuffle(e & 1 ? HI_HALVES : LO_HALVES)
          .v128Store(32 * e + 4 * half);
      }
    }
    f.localGet(dst).i32Const(128).i32Add().localSet(dst);
    for (let c = 0; c < 8; c++) f.localGet(row[c]).i32Const(16).i32Add().localSet(row[c]);
    f.localGet(k).i32Const(4).i32Add().localSet(k).br(0).end().end();
    // the last K mod 4 columns, one float at a time
    f.block().loop().localGet(k).localGet(K).i32GeU().brIf(1);
    for (let c = 0; c < 8; c++) {
      f.localGet(dst).localGet(row[c]).f32Load(0).f32Store(4 * c);
      f.localGet(row[c]).i32Const(4).i32Add().localSet(row[c]);
    }
    f.localGet(dst).i32Const(32).i32Add().localSet(dst);
    f.localGet(k).i32Const(1).i32Add().localSet(k).br(0).end().end();
  });
  return f;
}
