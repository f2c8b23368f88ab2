// The row-wise parts of the WebAssembly attention kernels (attention-wasm.ts), emitted with encoder.ts. The
// products (S = Q·Kᵀ, O = P·V, dP = dO·Vᵀ, dQ = dS·K, dK += dSᵀ·Q, dV += Pᵀ·dO) run on the matmul kernel of
// matmul-module.ts; these two functions sit between them, four key columns (one f32x4) at a time.
//
// Both work on a block of `rows` query rows (a multiple of 4) against `n` key columns starting at key `lo`
// (n a multiple of 8), with the scores S [rows][n] as the matmul kernel wrote them (row stride n). Row r may
// only see keys in its own range [start_r, end_r), read from `ranges` as int32 pairs; every other column gets
// probability 0.
//
// softmaxRows(s, n, rows, lo, ranges, scale, pp, ml):                                   (forward)
//   x_rj = scale·s_rj (-∞ outside the range);  m_r = max_j x_rj;  e_rj = exp(x_rj - m_r);  l_r = Σ_j e_rj
//   p_rj = e_rj / l_r, written to pp as the A operand of O = P·V: [rows/4][n][4] (4 rows side by side);
//   (m_r, l_r) written to ml as float32 pairs (the caller forms lse_r = m_r + log l_r; l_r = 0: empty row).
// gradRows(s, dp, n, rows, lo, ranges, scale, lseD, dsA, dsT, pT):                     (backward)
//   p_rj = exp(scale·s_rj - lse_r) (0 outside the range),  dS_rj = p_rj · (dP_rj - D_r)   (lseD: (lse_r, D_r) pairs)
//   dS is written twice, as the A operand of dQ = dS·K ([rows/4][n][4], dsA) and of dK = dSᵀ·Q ([n/4][rows][4],
//   dsT: 4 keys side by side for every query row); P as the A operand of dV = Pᵀ·dO ([n/4][rows][4], pT).

import { CodeBuilder, ValType } from './encoder.js';
import { emitExp, expLocals } from './exp-simd.js';
import { countedLoop } from './matmul-module.js';
import type { WasmSimdLevel } from './simd-features.js';

const i32 = ValType.i32, f32 = ValType.f32;
export const SOFTMAX_ROWS_PARAMS = [i32, i32, i32, i32, i32, f32, i32, i32];
export const GRAD_ROWS_PARAMS = [i32, i32, i32, i32, i32, i32, f32, i32, i32, i32, i32];

/** Emits: local inside = (jv >= splat(start)) & (jv < splat(end)) as an i32x4 lane mask. */
function emitRangeMask(f: CodeBuilder, jv: number, startV: number, endV: number, inside: number): void {
  f.localGet(jv).localGet(startV).i32x4GeS().localGet(jv).localGet(endV).i32x4LtS().v128And().localSet(inside);
}

/** Emits: local startV, endV = splat(ranges[2r]), splat(ranges[2r + 1]); jv = lo + [0, 1, 2, 3]. */
function emitRowSetup(f: CodeBuilder, ranges: number, r: number, lo: number, startV: number, endV: number,
  jv: number): void {
  f.localGet(ranges).localGet(r).i32Const(8).i32Mul().i32Add().i32Load(0).i32x4Splat().localSet(startV);
  f.localGet(ranges).localGet(r).i32Const(8).i32Mul().i32Add().i32Load(4).i32x4Splat().localSet(endV);
  f.localGet(lo).i32x4Splat().v128ConstI32(0, 1, 2, 3).i32x4Add().localSet(jv);
}

/** Emits a scalar reduction of the four lanes of local v with the binary f32 op `op` (leaves an f32). */
function emitLanes(f: CodeBuilder, v: number, op: (f: CodeBuilder) => void): void {
  f.localGet(v).f32x4ExtractLane(0).localGet(v).f32x4ExtractLane(1);
  op(f);
  f.localGet(v).f32x4ExtractLane(2);
  op(f);
  f.localGet(v).f32x4ExtractLane(3);
  op(f);
}

/** Emits the address pp + ((r>>2)·n + c)·16 + (r&3)·4 of element (row r, column c) of a [rows/4][n][4] panel. */
function emitPanelAddress(f: CodeBuilder, pp: number, r: number, n: number, c: number): void {
  f.localGet(pp).localGet(r).i32Const(2).i32ShrU().localGet(n).i32Mul().localGet(c).i32Add().i32Const(16).i32Mul()
    .i32Add().localGet(r).i32Const(3).i32And().i32Const(4).i32Mul().i32Add();
}

export function buildSoftmaxRows(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(SOFTMAX_ROWS_PARAMS.length);
  const s = 0, n = 1, rows = 2, lo = 3, ranges = 4, scale = 5, pp = 6, ml = 7;
  const r = f.local(i32), c = f.local(i32), ptr = f.local(i32), q = f.local(i32);
  const m = f.local(f32), l = f.local(f32);
  const startV = f.local(ValType.v128), endV = f.local(ValType.v128), jv = f.local(ValType.v128);
  const inside = f.local(ValType.v128), x = f.local(ValType.v128), e = f.local(ValType.v128);
  const acc = f.local(ValType.v128), scaleV = f.local(ValType.v128);
  const t = expLocals(f);
  f.localGet(scale).f32x4Splat().localSet(scaleV);
  countedLoop(f, r, rows, () => {
    emitRowSetup(f, ranges, r, lo, startV, endV, jv);
    // pass 1: x = scale·s (-∞ outside the range), stored back; acc = lane-wise max
    f.v128ConstF32(-Infinity).localSet(acc);
    f.localGet(s).localGet(r).localGet(n).i32Mul().i32Const(4).i32Mul().i32Add().localSet(ptr);
    f.i32Const(0).localSet(c);
    f.block().loop().localGet(c).localGet(n).i32GeU().brIf(1);
    emitRangeMask(f, jv, startV, endV, inside);
    f.localGet(ptr).v128Load(0).localGet(scaleV).f32x4Mul().v128ConstF32(-Infinity).localGet(inside).v128Bitselect()
      .localSet(x);
    f.localGet(ptr).localGet(x).v128Store(0);
    f.localGet(acc).localGet(x).f32x4Max().localSet(acc);
    f.localGet(jv).v128ConstI32(4).i32x4Add().localSet(jv);
    f.localGet(ptr).i32Const(16).i32Add().localSet(ptr).localGet(c).i32Const(4).i32Add().localSet(c).br(0).end().end();
    // m = max of the lanes; an empty row (m = -∞) uses m = 0 so that x - m stays -∞, not NaN
    emitLanes(f, acc, (g) => g.f32Max());
    f.localSet(m);
    f.f32Const(0).localGet(m).localGet(m).f32Const(-Infinity).f32Eq().select().localSet(m);
    // pass 2: e = exp(x - m) (0 where x = -∞), stored back; acc = lane-wise sum
    f.f32Const(0).f32x4Splat().localSet(acc);
    f.localGet(s).localGet(r).localGet(n).i32Mul().i32Const(4).i32Mul().i32Add().localSet(ptr);
    countedLoopBy4(f, c, n, () => {
      f.localGet(ptr).v128Load(0).localSet(x);
      f.localGet(x).localGet(m).f32x4Splat().f32x4Sub().localSet(e);
      emitExp(f, level, e, e, t);
      f.f32Const(0).f32x4Splat().localGet(e).localGet(x).v128ConstF32(-Infinity).f32x4Eq().v128Bitselect().localSet(e);
      f.localGet(ptr).localGet(e).v128Store(0);
      f.localGet(acc).localGet(e).f32x4Add().localSet(acc);
      f.localGet(ptr).i32Const(16).i32Add().localSet(ptr);
    });
    emitLanes(f, acc, (g) => g.f32Add());
    f.localSet(l);
    // ml[r] = (m, l)
    f.localGet(ml).localGet(r).i32Const(8).i32Mul().i32Add().localGet(m).f32Store(0);
    f.localGet(ml).localGet(r).i32Const(8).i32Mul().i32Add().localGet(l).f32Store(4);
    // pass 3: p = e / l (0 for an empty row), written into the panel layout of pp, one lane per column
    f.f32Const(1).localGet(l).f32Div().f32Const(0).localGet(l).f32Const(0).f32Gt().select().f32x4Splat().localSet(acc);
    f.localGet(s).localGet(r).localGet(n).i32Mul().i32Const(4).i32Mul().i32Add().localSet(ptr);
    f.i32Const(0).localSet(c);
    emitPanelAddress(f, pp, r, n, c);
    f.localSet(q);
    countedLoopBy4(f, c, n, () => {
      f.localGet(ptr).v128Load(0).localGet(acc).f32x4Mul().localSet(e);
      for (let lane = 0; lane < 4; lane++) f.localGet(q).localGet(e).v128Store32Lane(16 * lane, lane);
      f.localGet(q).i32Const(64).i32Add().localSet(q);
      f.localGet(ptr).i32Const(16).i32Add().localSet(ptr);
    });
  });
  return f;
}

/** `for (counter = 0; counter < limit; counter += 4) body()`. */
function countedLoopBy4(f: CodeBuilder, counter: number, limit: number, body: () => void): void {
  f.i32Const(0).localSet(counter);
  f.block().loop().localGet(counter).localGet(limit).i32GeU().brIf(1);
  body();
  f.localGet(counter).i32Const(4).i32Add().localSet(counter).br(0).end().end();
}

export function buildGradRows(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(GRAD_ROWS_PARAMS.length);
  const s = 0, dp = 1, n = 2, rows = 3, lo = 4, ranges = 5, scale = 6, lseD = 7, dsA = 8, dsT = 9, pT = 10;
  const r = f.local(i32), c = f.local(i32), ptr = f.local(i32), q = f.local(i32), qt = f.local(i32);
  const lse = f.local(f32);
  const startV = f.local(ValType.v128), endV = f.local(ValType.v128), jv = f.local(ValType.v128);
  const inside = f.local(ValType.v128), x = f.local(ValType.v128), p = f.local(ValType.v128);
  const ds = f.local(ValType.v128), scaleV = f.local(ValType.v128), lseV = f.local(ValType.v128);
  const dV = f.local(ValType.v128);
  const t = expLocals(f);
  f.localGet(scale).f32x4Splat().localSet(scaleV);
  countedLoop(f, r, rows, () => {
    emitRowSetup(f, ranges, r, lo, startV, endV, jv);
    // lse_r (0 for an empty row: every p is masked to 0 anyway) and D_r
    f.localGet(lseD).localGet(r).i32Const(8).i32Mul().i32Add().f32Load(0).localSet(lse);
    f.f32Const(0).localGet(lse).localGet(lse).f32Const(-Infinity).f32Eq().select().f32x4Splat().localSet(lseV);
    f.localGet(lseD).localGet(r).i32Const(8).i32Mul().i32Add().f32Load(4).f32x4Splat().localSet(dV);
    f.localGet(r).localGet(n).i32Mul().i32Const(4).i32Mul().localSet(ptr); // byte offset of row r in s and dp
    f.i32Const(0).localSet(c);
    emitPanelAddress(f, dsA, r, n, c); // q: (row r, column 0) of dsA
    f.localSet(q);
    f.localGet(r).i32Const(16).i32Mul().localSet(qt); // byte offset of (key block 0, row r) in dsT / pT
    countedLoopBy4(f, c, n, () => {
      emitRangeMask(f, jv, startV, endV, inside);
      // p = exp(scale·s - lse) inside the range, else 0
      f.localGet(s).localGet(ptr).i32Add().v128Load(0).localGet(scaleV).f32x4Mul().localGet(lseV).f32x4Sub().localSet(x);
      emitExp(f, level, x, p, t);
      f.localGet(p).f32Const(0).f32x4Splat().localGet(inside).v128Bitselect().localSet(p);
      // dS = p · (dP - D)
      f.localGet(dp).localGet(ptr).i32Add().v128Load(0).localGet(dV).f32x4Sub().localGet(p).f32x4Mul().localSet(ds);
      for (let lane = 0; lane < 4; lane++) f.localGet(q).localGet(ds).v128Store32Lane(16 * lane, lane);
      f.localGet(dsT).localGet(qt).i32Add().localGet(ds).v128Store(0);
      f.localGet(pT).localGet(qt).i32Add().localGet(p).v128Store(0);
      f.localGet(jv).v128ConstI32(4).i32x4Add().localSet(jv);
      f.localGet(ptr).i32Const(16).i32Add().localSet(ptr);
      f.localGet(q).i32Const(64).i32Add().localSet(q);
      f.localGet(qt).localGet(rows).i32Const(16).i32Mul().i32Add().localSet(qt);
    });
  });
  return f;
}
