// The row-wise parts of the WebAssembly attention kernels (attention-wasm.ts), emitted with encoder.ts. The
// products (S = Q·Kᵀ, O = P·V, dP = dO·Vᵀ, dQ = dS·K, dK += dSᵀ·Q, dV += Pᵀ·dO) run on the matmul kernel of
// matmul-module.ts; these two functions sit between them, four key columns (one f32x4) at a time, and four query
// rows side by side: the four rows' exps are interleaved (one exp is a long chain of dependent operations), and
// a 4×4 shuffle transpose turns four rows' vectors into the four columns of a [rows/4][n][4] panel.
//
// Both work on a block of `rows` query rows (a multiple of 4; softmaxRows also takes a last 1-3 rows one at a
// time, e.g. a single query) against `n` key columns starting at key `lo` (n a multiple of 4), with the scores
// S [rows][n] as the matmul kernel wrote them (row stride n). Row r may only see keys in its own range
// [start_r, end_r), read from `ranges` as int32 pairs; every other column gets probability 0. A row's arithmetic
// does not depend on how many rows are taken together.
//
// softmaxRows(s, n, rows, lo, ranges, scale, pp, ml):                                   (forward)
//   x_rj = scale·s_rj (-∞ outside the range);  m_r = max_j x_rj;  e_rj = exp(x_rj - m_r);  l_r = Σ_j e_rj
//   p_rj = e_rj / l_r, written to pp as the A operand of O = P·V: [rows/4][n][4] (4 rows side by side);
//   (m_r, l_r) written to ml as float32 pairs (the caller forms lse_r = m_r + log l_r; l_r = 0: empty row).
// gradRows(s, dp, n, rows, lo, ranges, scale, lseD, dsA, dsT, pT):                     (backward)
//   p_rj = exp(scale·s_rj - lse_r) (0 outside the range),  dS_rj = p_rj · (dP_rj - D_r)   (lseD: (lse_r, D_r) pairs)
//   dS is written twice, as the A operand of dQ = dS·K ([rows/4][n][4], dsA) and of dK = dSᵀ·Q ([n/4][rows][4],
//   dsT: 4 keys side by side for every query row); P as the A operand of dV = Pᵀ·dO ([n/4][rows][4], pT).

import { CodeBuilder, emitTranspose4, ValType } from './encoder.js';
import { emitExpInterleaved, expLocals } from './exp-simd.js';
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

/** Per-row v128 locals of the row functions, for the rows of a group that are processed side by side. */
function rowLocals(f: CodeBuilder, g: number): number[] {
  return Array.from({ length: g }, () => f.local(ValType.v128));
}

export function buildSoftmaxRows(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(SOFTMAX_ROWS_PARAMS.length);
  const s = 0, n = 1, rows = 2, lo = 3, ranges = 4, scale = 5, pp = 6, ml = 7;
  const r = f.local(i32), c = f.local(i32), q = f.local(i32), rowBytes = f.local(i32);
  const m = f.local(f32), l = f.local(f32);
  const startV = f.local(ValType.v128), endV = f.local(ValType.v128), jv = f.local(ValType.v128);
  const inside = f.local(ValType.v128), scaleV = f.local(ValType.v128);
  const ptr = Array.from({ length: 4 }, () => f.local(i32));
  const x = rowLocals(f, 4), e = rowLocals(f, 4), acc = rowLocals(f, 4), mV = rowLocals(f, 4), tr = rowLocals(f, 4);
  const t = Array.from({ length: 4 }, () => expLocals(f));
  f.localGet(scale).f32x4Splat().localSet(scaleV);
  f.localGet(n).i32Const(4).i32Mul().localSet(rowBytes);
  // pass 1, row by row: x = scale·s (-∞ outside the range), stored back; m_r = max_j x_rj, stored as ml[r].m,
  // where an empty row (m = -∞) gets m = 0 so that x - m stays -∞, not NaN
  countedLoop(f, r, rows, () => {
    emitRowSetup(f, ranges, r, lo, startV, endV, jv);
    f.v128ConstF32(-Infinity).localSet(acc[0]);
    f.localGet(s).localGet(r).localGet(rowBytes).i32Mul().i32Add().localSet(ptr[0]);
    countedLoopBy4(f, c, n, () => {
      emitRangeMask(f, jv, startV, endV, inside);
      f.localGet(ptr[0]).v128Load(0).localGet(scaleV).f32x4Mul().v128ConstF32(-Infinity).localGet(inside)
        .v128Bitselect().localSet(x[0]);
      f.localGet(ptr[0]).localGet(x[0]).v128Store(0);
      f.localGet(acc[0]).localGet(x[0]).f32x4Pmax().localSet(acc[0]); // pseudo-max: x = -∞ never wins
      f.localGet(jv).v128ConstI32(4).i32x4Add().localSet(jv);
      f.localGet(ptr[0]).i32Const(16).i32Add().localSet(ptr[0]);
    });
    emitLanes(f, acc[0], (g) => g.f32Max());
    f.localSet(m);
    f.localGet(ml).localGet(r).i32Const(8).i32Mul().i32Add()
      .f32Const(0).localGet(m).localGet(m).f32Const(-Infinity).f32Eq().select().f32Store(0);
  });
  // passes 2 and 3 for the g rows r .. r+g-1 side by side (g = 4: their exps overlap, and P goes into its panel
  // with a 4×4 transpose; g = 1: lane by lane). A row's arithmetic is the same for either g.
  const rowsTogether = (g: number): void => {
    for (let i = 0; i < g; i++) {
      f.localGet(ml).localGet(r).i32Const(8).i32Mul().i32Add().f32Load(8 * i).f32x4Splat().localSet(mV[i]);
      f.f32Const(0).f32x4Splat().localSet(acc[i]);
      f.localGet(s).localGet(r).i32Const(i).i32Add().localGet(rowBytes).i32Mul().i32Add().localSet(ptr[i]);
    }
    // pass 2: e = exp(x - m) (0 where x = -∞), stored back; acc = lane-wise sum
    countedLoopBy4(f, c, n, () => {
      for (let i = 0; i < g; i++) f.localGet(ptr[i]).v128Load(0).localTee(x[i]).localGet(mV[i]).f32x4Sub().localSet(e[i]);
      emitExpInterleaved(f, level, Array.from({ length: g }, (_, i) => ({ x: e[i], out: e[i], t: t[i] })));
      for (let i = 0; i < g; i++) {
        f.f32Const(0).f32x4Splat().localGet(e[i]).localGet(x[i]).v128ConstF32(-Infinity).f32x4Eq().v128Bitselect()
          .localSet(e[i]);
        f.localGet(ptr[i]).localGet(e[i]).v128Store(0);
        f.localGet(acc[i]).localGet(e[i]).f32x4Add().localSet(acc[i]);
        f.localGet(ptr[i]).i32Const(16).i32Add().localSet(ptr[i]);
      }
    });
    // l_r = Σ lanes, stored as ml[r].l; acc becomes splat(1 / l_r) (0 for an empty row)
    for (let i = 0; i < g; i++) {
      emitLanes(f, acc[i], (h) => h.f32Add());
      f.localSet(l);
      f.localGet(ml).localGet(r).i32Const(8).i32Mul().i32Add().localGet(l).f32Store(8 * i + 4);
      f.f32Const(1).localGet(l).f32Div().f32Const(0).localGet(l).f32Const(0).f32Gt().select().f32x4Splat()
        .localSet(acc[i]);
      f.localGet(s).localGet(r).i32Const(i).i32Add().localGet(rowBytes).i32Mul().i32Add().localSet(ptr[i]);
    }
    // pass 3: p = e / l, written into the panel layout of pp: (row r, column c) at pp + ((r>>2)·n + c)·16 + (r&3)·4
    f.i32Const(0).localSet(c);
    emitPanelAddress(f, pp, r, n, c);
    f.localSet(q);
    countedLoopBy4(f, c, n, () => {
      for (let i = 0; i < g; i++) {
        f.localGet(ptr[i]).v128Load(0).localGet(acc[i]).f32x4Mul().localSet(e[i]);
        f.localGet(ptr[i]).i32Const(16).i32Add().localSet(ptr[i]);
      }
      if (g === 4) emitTranspose4(f, e, tr, (col, push) => { f.localGet(q); push(); f.v128Store(16 * col); });
      else for (let lane = 0; lane < 4; lane++) f.localGet(q).localGet(e[0]).v128Store32Lane(16 * lane, lane);
      f.localGet(q).i32Const(64).i32Add().localSet(q);
    });
  };
  // groups of four rows while four remain (a block's rows4), then the last rows one at a time (a single query)
  f.i32Const(0).localSet(r);
  f.block().loop().localGet(r).i32Const(4).i32Add().localGet(rows).i32GtU().brIf(1);
  rowsTogether(4);
  f.localGet(r).i32Const(4).i32Add().localSet(r).br(0).end().end();
  f.block().loop().localGet(r).localGet(rows).i32GeU().brIf(1);
  rowsTogether(1);
  f.localGet(r).i32Const(1).i32Add().localSet(r).br(0).end().end();
  return f;
}

/** `for (counter = 0; counter < limit; counter += 4) body()`. */
function countedLoopBy4(f: CodeBuilder, counter: number, limit: number, body: () => void): void {
  f.i32Const(0).localSet(counter);
  f.block().loop().localGet(counter).localGet(limit).i32GeU().brIf(1);
  body();
  f.localGet(counter).i32Const(4).i32Add().localSet(counter).br(0).end().end();
}

/** rows must be a multiple of 4: each group of four rows is processed side by side (their exps overlap). */
export function buildGradRows(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(GRAD_ROWS_PARAMS.length);
  const s = 0, dp = 1, n = 2, rows = 3, lo = 4, ranges = 5, scale = 6, lseD = 7, dsA = 8, dsT = 9, pT = 10;
  const r = f.local(i32), c = f.local(i32), ptr = f.local(i32), q = f.local(i32), qt = f.local(i32);
  const rowBytes = f.local(i32), lse = f.local(f32);
  const jv = f.local(ValType.v128), scaleV = f.local(ValType.v128), inside = f.local(ValType.v128);
  const startV = rowLocals(f, 4), endV = rowLocals(f, 4), lseV = rowLocals(f, 4), dV = rowLocals(f, 4);
  const p = rowLocals(f, 4), ds = rowLocals(f, 4), tr = rowLocals(f, 4);
  const t = Array.from({ length: 4 }, () => expLocals(f));
  f.localGet(scale).f32x4Splat().localSet(scaleV);
  f.localGet(n).i32Const(4).i32Mul().localSet(rowBytes);
  f.i32Const(0).localSet(r);
  f.block().loop().localGet(r).localGet(rows).i32GeU().brIf(1);
  for (let i = 0; i < 4; i++) {
    // startV, endV = splat(range of row r+i); lseV = splat(lse_r) (0 for an empty row: its p are masked to 0
    // anyway); dV = splat(D_r)
    const entry = (): CodeBuilder => f.localGet(ranges).localGet(r).i32Const(8).i32Mul().i32Add();
    entry().i32Load(8 * i).i32x4Splat().localSet(startV[i]);
    entry().i32Load(8 * i + 4).i32x4Splat().localSet(endV[i]);
    const pair = (): CodeBuilder => f.localGet(lseD).localGet(r).i32Const(8).i32Mul().i32Add();
    pair().f32Load(8 * i).localSet(lse);
    f.f32Const(0).localGet(lse).localGet(lse).f32Const(-Infinity).f32Eq().select().f32x4Splat().localSet(lseV[i]);
    pair().f32Load(8 * i + 4).f32x4Splat().localSet(dV[i]);
  }
  f.localGet(lo).i32x4Splat().v128ConstI32(0, 1, 2, 3).i32x4Add().localSet(jv);
  f.localGet(r).localGet(rowBytes).i32Mul().localSet(ptr); // byte offset of row r in s and dp
  f.i32Const(0).localSet(c);
  emitPanelAddress(f, dsA, r, n, c); // q: (row r, column 0) of dsA
  f.localSet(q);
  f.localGet(r).i32Const(16).i32Mul().localSet(qt); // byte offset of (key block 0, row r) in dsT / pT
  countedLoopBy4(f, c, n, () => {
    // p = exp(scale·s - lse) inside the row's range, else 0
    for (let i = 0; i < 4; i++) {
      f.localGet(s).localGet(ptr).i32Add().localGet(rowBytes).i32Const(i).i32Mul().i32Add().v128Load(0)
        .localGet(scaleV).f32x4Mul().localGet(lseV[i]).f32x4Sub().localSet(p[i]);
    }
    emitExpInterleaved(f, level, p.map((v, i) => ({ x: v, out: v, t: t[i] })));
    for (let i = 0; i < 4; i++) {
      emitRangeMask(f, jv, startV[i], endV[i], inside);
      f.localGet(p[i]).f32Const(0).f32x4Splat().localGet(inside).v128Bitselect().localSet(p[i]);
      // dS = p · (dP - D)
      f.localGet(dp).localGet(ptr).i32Add().localGet(rowBytes).i32Const(i).i32Mul().i32Add().v128Load(0)
        .localGet(dV[i]).f32x4Sub().localGet(p[i]).f32x4Mul().localSet(ds[i]);
      f.localGet(dsT).localGet(qt).i32Add().localGet(ds[i]).v128Store(16 * i);
      f.localGet(pT).localGet(qt).i32Add().localGet(p[i]).v128Store(16 * i);
    }
    // dS of the four rows as dsA's four columns c .. c+3, each [row r .. r+3]
    emitTranspose4(f, ds, tr, (col, push) => { f.localGet(q); push(); f.v128Store(16 * col); });
    f.localGet(jv).v128ConstI32(4).i32x4Add().localSet(jv);
    f.localGet(ptr).i32Const(16).i32Add().localSet(ptr);
    f.localGet(q).i32Const(64).i32Add().localSet(q);
    f.localGet(qt).localGet(rows).i32Const(16).i32Mul().i32Add().localSet(qt);
  });
  f.localGet(r).i32Const(4).i32Add().localSet(r).br(0).end().end();
  return f;
}
