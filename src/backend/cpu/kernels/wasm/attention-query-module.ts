// The one-query attention path of the WebAssembly kernels (attention-wasm.ts, used when a call has very few
// query rows, as every step of cached generation does), emitted with encoder.ts. The block path packs K and V
// into panels for the 4×8 matmul micro-kernel; for one query that packing costs more than the products it feeds.
// These two functions read K and V as they lie instead: rows of D floats, `ld` bytes apart (the rows of all kv
// heads, copied into wasm memory with one memcpy per batch item).
//
// They add in exactly the order the micro-kernel does, so a row computed here has the same bits as the same row
// computed inside a block (the generation tests compare cached and whole-sequence forwards bit for bit):
//
// rowScores(q, k, ld, n, D, s):                                         (S = q·Kᵀ for one query, n keys)
//   s_j = Σ_d q_d · k_jd, for j < n (n a multiple of 4), summed over d = 0, 1, .. D-1 into a float32 that starts
//   at 0, one multiply-add (acc = q_d·k_jd + acc) per d: the micro-kernel's order for one column of S.
//   Tiling: four keys per step, one f32x4 of four scores. Four dims at a time, the four keys' rows are loaded
//   (one f32x4 each) and transposed with shuffles into one vector per dim (lane i = key j+i), then multiplied
//   by q_d broadcast, d in order; the last D mod 4 dims gather k_jd into the lanes (v128.load32_lane).
// rowValues(p, pStride, v, ld, n, D8, o):                               (o = p·V for one query, n keys)
//   o_d = Σ_j p_j · v_jd, for d < D8 (a multiple of 8), summed over j = 0, 1, .. n-1 from 0, acc = p_j·v_jd + acc:
//   the micro-kernel's order for one row of P·V. p_j is read at p + j·pStride (the layout softmaxRows writes).
//   Tiling: eight dims per step, two f32x4 accumulators; for each key, two loads of its row, p_j broadcast.
//   Reads v_jd up to D8 in every row: the caller leaves D8 - D readable floats after the last row.

import { CodeBuilder, HI_HALVES, HI_PAIRS, LO_HALVES, LO_PAIRS, ValType } from './encoder.js';
import { countedLoop, emitMadd } from './matmul-module.js';
import type { WasmSimdLevel } from './simd-features.js';

const i32 = ValType.i32;
export const ROW_SCORES_PARAMS = [i32, i32, i32, i32, i32, i32];
export const ROW_VALUES_PARAMS = [i32, i32, i32, i32, i32, i32, i32];


export function buildRowScores(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(ROW_SCORES_PARAMS.length);
  const q = 0, k = 1, ld = 2, n = 3, D = 4, s = 5;
  const j = f.local(i32), d = f.local(i32), pq = f.local(i32);
  const pk = [f.local(i32), f.local(i32), f.local(i32), f.local(i32)]; // rows j .. j+3 at column d
  const acc = f.local(ValType.v128), kv = f.local(ValType.v128), qs = f.local(ValType.v128);
  const rows = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)];
  const t = [f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128), f.local(ValType.v128)];
  const D4 = f.local(i32);
  f.localGet(D).i32Const(~3).i32And().localSet(D4); // dims taken four at a time
  f.i32Const(0).localSet(j);
  f.block().loop().localGet(j).localGet(n).i32GeU().brIf(1);
  // pk[r] = k + (j + r)·ld; pq = q; acc = 0
  f.localGet(k).localGet(j).localGet(ld).i32Mul().i32Add().localSet(pk[0]);
  for (let r = 1; r < 4; r++) f.localGet(pk[r - 1]).localGet(ld).i32Add().localSet(pk[r]);
  f.localGet(q).localSet(pq);
  f.f32Const(0).f32x4Splat().localSet(acc);
  // dims d .. d+3 while four remain: rows[r] = k_(j+r), d..d+3; transposed, cols[e] = [k_j,d+e .. k_j+3,d+e]
  f.i32Const(0).localSet(d);
  f.block().loop().localGet(d).localGet(D4).i32GeU().brIf(1);
  for (let r = 0; r < 4; r++) f.localGet(pk[r]).v128Load(0).localSet(rows[r]);
  f.localGet(rows[0]).localGet(rows[1]).i8x16Shuffle(LO_PAIRS).localSet(t[0]); // [r0.0 r1.0 r0.1 r1.1]
  f.localGet(rows[0]).localGet(rows[1]).i8x16Shuffle(HI_PAIRS).localSet(t[1]); // [r0.2 r1.2 r0.3 r1.3]
  f.localGet(rows[2]).localGet(rows[3]).i8x16Shuffle(LO_PAIRS).localSet(t[2]);
  f.localGet(rows[2]).localGet(rows[3]).i8x16Shuffle(HI_PAIRS).localSet(t[3]);
  for (let e = 0; e < 4; e++) {
    // cols[e] from t[e >> 1] and t[2 + (e >> 1)]: low halves for even e, high halves for odd e
    f.localGet(t[e >> 1]).localGet(t[2 + (e >> 1)]).i8x16Shuffle(e & 1 ? HI_HALVES : LO_HALVES).localSet(kv);
    f.localGet(pq).v128Load32Splat(4 * e).localSet(qs);
    emitMadd(f, level, acc, qs, kv);
  }
  for (const p of [...pk, pq]) f.localGet(p).i32Const(16).i32Add().localSet(p);
  f.localGet(d).i32Const(4).i32Add().localSet(d).br(0).end().end();
  // the last dims one at a time
  f.block().loop().localGet(d).localGet(D).i32GeU().brIf(1);
  // kv = [k_j,d, k_j+1,d, k_j+2,d, k_j+3,d]; acc = q_d·kv + acc
  f.localGet(pk[0]).v128Load32Splat(0).localSet(kv);
  for (let r = 1; r < 4; r++) f.localGet(pk[r]).localGet(kv).v128Load32Lane(0, r).localSet(kv);
  f.localGet(pq).v128Load32Splat(0).localSet(qs);
  emitMadd(f, level, acc, qs, kv);
  for (const p of [...pk, pq]) f.localGet(p).i32Const(4).i32Add().localSet(p);
  f.localGet(d).i32Const(1).i32Add().localSet(d).br(0).end().end();
  // s[j .. j+3] = acc
  f.localGet(s).localGet(j).i32Const(4).i32Mul().i32Add().localGet(acc).v128Store(0);
  f.localGet(j).i32Const(4).i32Add().localSet(j).br(0).end().end();
  return f;
}

export function buildRowValues(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(ROW_VALUES_PARAMS.length);
  const p = 0, pStride = 1, v = 2, ld = 3, n = 4, D8 = 5, o = 6;
  const c = f.local(i32), j = f.local(i32), pp = f.local(i32), pv = f.local(i32);
  const acc0 = f.local(ValType.v128), acc1 = f.local(ValType.v128);
  const ps = f.local(ValType.v128), v0 = f.local(ValType.v128), v1 = f.local(ValType.v128);
  f.i32Const(0).localSet(c);
  f.block().loop().localGet(c).localGet(D8).i32GeU().brIf(1);
  // dims c .. c+7: pv = v + 4c, pp = p, acc = 0
  f.localGet(v).localGet(c).i32Const(4).i32Mul().i32Add().localSet(pv);
  f.localGet(p).localSet(pp);
  f.f32Const(0).f32x4Splat().localSet(acc0);
  f.f32Const(0).f32x4Splat().localSet(acc1);
  countedLoop(f, j, n, () => {
    // acc = p_j·v_j[c .. c+7] + acc
    f.localGet(pp).v128Load32Splat(0).localSet(ps);
    f.localGet(pv).v128Load(0).localSet(v0);
    f.localGet(pv).v128Load(16).localSet(v1);
    emitMadd(f, level, acc0, ps, v0);
    emitMadd(f, level, acc1, ps, v1);
    f.localGet(pp).localGet(pStride).i32Add().localSet(pp);
    f.localGet(pv).localGet(ld).i32Add().localSet(pv);
  });
  // o[c .. c+7] = acc
  f.localGet(o).localGet(c).i32Const(4).i32Mul().i32Add().localGet(acc0).v128Store(0);
  f.localGet(o).localGet(c).i32Const(4).i32Mul().i32Add().localGet(acc1).v128Store(16);
  f.localGet(c).i32Const(8).i32Add().localSet(c).br(0).end().end();
  return f;
}
