// The WebAssembly SIMD matmul micro-kernel, emitted instruction by instruction with encoder.ts.
//
//   C[i, j] (+)= Σ_k A[i, k] · B[k, j]     over packed float32 panels, accumulated in float32 (like BLAS sgemm)
//
// Exported function `kernel(ap, bp, c, K, rowBlocks, panels, ldc, bStride, accumulate)` (all i32; pointers, ldc
// and bStride in bytes):
//   ap: A packed as [rowBlocks][K][4]  (4 rows of A side by side for every k; see matmul-units.ts packA)
//   bp: B packed as panels of [K][8]   (8 columns of B side by side for every k), panel jb at bp + jb·bStride
//       (bStride = 32·K for a densely packed B; attention passes a longer stride to start at a row offset)
//   c:  output tiles, row r of tile (ib, jb) at c + (4·ib + r)·ldc + 32·jb  (8 float32 = 32 bytes per tile row)
//   accumulate: 0 → C = A·B, otherwise C += A·B (the tile starts from C's values instead of zero).
// Loop nest: row block ib → column panel jb → k. The 4×8 output tile is held in eight f32x4 (v128) locals,
// acc[r][h] = C[4·ib + r, 8·jb + 4h .. 8·jb + 4h + 3]; each k step loads two vectors of B, broadcasts the four
// values of A one at a time (v128.load32_splat), and does 8 vector multiply-adds (64 flops).
// The k loop is deliberately NOT unrolled: V8's TurboFan keeps the loads of a loop body in program order but
// sinks the multiply-adds after them, so an unrolled-by-2 body loads 2·(2 + 4) vectors before the first FMA,
// 8 accumulators + 12 loaded values exceed the 16 xmm registers (one is V8's scratch) and three accumulators
// are spilled to the stack every iteration (seen with node --print-wasm-code). One step per iteration needs
// 8 + 2 + 4 = 14 registers: no spills, and the kernel on an L1-resident tile went from ~25 to ~43-54 GFLOP/s
// on the AMD EPYC dev VM (Node 20, relaxed SIMD). A 6×8 tile (12 accumulators) spills and was slower.
// The multiply-add is f32x4.relaxed_madd (one FMA instruction) at level 'relaxed', f32x4.mul then f32x4.add
// at level 'simd' (simd-features.ts).

import { CodeBuilder, ValType } from './encoder.js';
import type { WasmSimdLevel } from './simd-features.js';

/** Tile shape of the micro-kernel: rows of A per row block, columns of B per panel. */
export const TILE_ROWS = 4;
export const TILE_COLS = 8;

/** The kernel's parameter types (all i32), in order: ap, bp, c, K, rowBlocks, panels, ldc, bStride, accumulate. */
export const MATMUL_KERNEL_PARAMS = Array.from({ length: 9 }, () => ValType.i32);
/** kernelRowsA takes one more: lda, the byte distance between rows of a row-major A. */
export const MATMUL_ROWS_KERNEL_PARAMS = Array.from({ length: 10 }, () => ValType.i32);

/**
 * How the kernel reads A: 'packed' = [rowBlocks][K][4] (the `kernel` export), 'rows' = row-major with row stride
 * lda bytes, A[i, k] at ap + i·lda + 4k (the `kernelRowsA` export: a row-major A is used where it lies, without
 * packing; the four rows of a block are four pointers). The order of every sum is the same in both.
 */
export type ALayout = 'packed' | 'rows';

/** Emits `for (counter = 0; counter < limit; counter++) body()` as block/loop/br_if. */
export function countedLoop(f: CodeBuilder, counter: number, limit: number, body: () => void): void {
  f.i32Const(0).localSet(counter);            // counter = 0
  f.block();                                   // label 1: exit
  f.loop();                                    // label 0: next iteration
  f.localGet(counter).localGet(limit).i32GeU().brIf(1); // if (counter >= limit) break
  body();
  f.localGet(counter).i32Const(1).i32Add().localSet(counter); // counter++
  f.br(0);                                     // continue
  f.end();
  f.end();
}

/** Emits acc = a·b + acc for three v128 locals (fused at level 'relaxed'). */
export function emitMadd(f: CodeBuilder, level: WasmSimdLevel, acc: number, a: number, b: number): void {
  if (level === 'relaxed') f.localGet(a).localGet(b).localGet(acc).f32x4RelaxedMadd().localSet(acc);
  else f.localGet(acc).localGet(a).localGet(b).f32x4Mul().f32x4Add().localSet(acc);
}

/** Builds the kernel's function body (see the header for the contract). */
export function buildMatmulKernel(level: WasmSimdLevel, aLayout: ALayout = 'packed'): CodeBuilder {
  const rows = aLayout === 'rows';
  const f = new CodeBuilder(rows ? MATMUL_ROWS_KERNEL_PARAMS.length : MATMUL_KERNEL_PARAMS.length);
  const ap = 0, bp = 1, c = 2, K = 3, rowBlocks = 4, panels = 5, ldc = 6, bStride = 7, accumulate = 8, lda = 9;
  const ib = f.local(ValType.i32), jb = f.local(ValType.i32), k = f.local(ValType.i32);
  const pa = f.local(ValType.i32), pb = f.local(ValType.i32), pc = f.local(ValType.i32);
  // acc[r][h]: row r of the tile, columns 4h..4h+3.
  const acc = Array.from({ length: TILE_ROWS }, () => [f.local(ValType.v128), f.local(ValType.v128)]);
  const b0 = f.local(ValType.v128), b1 = f.local(ValType.v128), av = f.local(ValType.v128);
  // 'rows': the four row pointers of the block (pa is row 0)
  const pr = rows ? [pa, f.local(ValType.i32), f.local(ValType.i32), f.local(ValType.i32)] : [];

  /** One k step from pa, pb: acc[r][h] += A[4ib + r, k] · B[k, 8jb + 4h ..]. */
  const step = (): void => {
    f.localGet(pb).v128Load(0).localSet(b0);
    f.localGet(pb).v128Load(16).localSet(b1);
    for (let r = 0; r < TILE_ROWS; r++) {
      if (rows) f.localGet(pr[r]).v128Load32Splat(0).localSet(av); // A[4ib + r, k] in row r
      else f.localGet(pa).v128Load32Splat(4 * r).localSet(av); // packed: 4 rows side by side
      emitMadd(f, level, acc[r][0], av, b0);
      emitMadd(f, level, acc[r][1], av, b1);
    }
  };
  /** pc = c + 4·ib·ldc + 32·jb: the tile's top-left. */
  const tileAddress = (): void => {
    f.localGet(c).localGet(ib).i32Const(TILE_ROWS).i32Mul().localGet(ldc).i32Mul().i32Add()
      .localGet(jb).i32Const(32).i32Mul().i32Add().localSet(pc);
  };

  countedLoop(f, ib, rowBlocks, () => {
    countedLoop(f, jb, panels, () => {
      tileAddress();
      // acc = accumulate ? C tile : 0
      f.localGet(accumulate).if();
      for (let r = 0; r < TILE_ROWS; r++) {
        f.localGet(pc).localGet(ldc).i32Const(r).i32Mul().i32Add().v128Load(0).localSet(acc[r][0]);
        f.localGet(pc).localGet(ldc).i32Const(r).i32Mul().i32Add().v128Load(16).localSet(acc[r][1]);
      }
      f.else();
      for (const row of acc) for (const v of row) f.f32Const(0).f32x4Splat().localSet(v);
      f.end();
      if (rows) {
        // pr[r] = ap + (4·ib + r)·lda: the block's rows of A
        f.localGet(ap).localGet(ib).i32Const(TILE_ROWS).i32Mul().localGet(lda).i32Mul().i32Add().localSet(pr[0]);
        for (let r = 1; r < TILE_ROWS; r++) f.localGet(pr[r - 1]).localGet(lda).i32Add().localSet(pr[r]);
      } else {
        // pa = ap + ib·K·16 (this row block's [K][4] float32)
        f.localGet(ap).localGet(ib).localGet(K).i32Mul().i32Const(4 * TILE_ROWS).i32Mul().i32Add().localSet(pa);
      }
      // pb = bp + jb·bStride (this panel's [K][8] float32)
      f.localGet(bp).localGet(jb).localGet(bStride).i32Mul().i32Add().localSet(pb);
      countedLoop(f, k, K, () => {
        step();
        // next k: 4 float32 of packed A, or 1 float32 of each row; 8 float32 of B
        if (rows) for (const p of pr) f.localGet(p).i32Const(4).i32Add().localSet(p);
        else f.localGet(pa).i32Const(16).i32Add().localSet(pa);
        f.localGet(pb).i32Const(32).i32Add().localSet(pb);
      });
      // store the 4 rows of the tile, ldc bytes apart
      for (let r = 0; r < TILE_ROWS; r++) {
        f.localGet(pc).localGet(acc[r][0]).v128Store(0);
        f.localGet(pc).localGet(acc[r][1]).v128Store(16);
        if (r < TILE_ROWS - 1) f.localGet(pc).localGet(ldc).i32Add().localSet(pc);
      }
    });
  });
  return f;
}
