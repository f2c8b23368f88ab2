// The WebAssembly SIMD matmul micro-kernel, emitted instruction by instruction with encoder.ts.
//
//   C[i, j] = Σ_k A[i, k] · B[k, j]        over packed float32 panels, accumulated in float32 (like BLAS sgemm)
//
// Exported function `kernel(ap, bp, c, K, rowBlocks, panels, ldc)` (all i32; pointers and ldc in bytes):
//   ap: A packed as [rowBlocks][K][4]  (4 rows of A side by side for every k; see matmul-wasm.ts packA)
//   bp: B packed as [panels][K][8]     (8 columns of B side by side for every k; see matmul-wasm.ts packB)
//   c:  output tiles, row r of tile (ib, jb) at c + (4·ib + r)·ldc + 32·jb  (8 float32 = 32 bytes per tile row)
// Loop nest: row block ib → column panel jb → k. The 4×8 output tile is held in eight f32x4 (v128) locals,
// acc[r][h] = C[4·ib + r, 8·jb + 4h .. 8·jb + 4h + 3]; each k step loads two vectors of B, broadcasts the four
// values of A one at a time (v128.load32_splat), and does 8 vector multiplies + 8 vector adds (64 flops).
// 8 accumulators + 2 B vectors + 1 A vector = 11 vector registers, which fits the 16 of SSE/AVX on x86-64
// (a 6×8 tile, 15 registers, measured ~20% slower under V8). One core of the 2-vCPU dev VM: ~30-38 GFLOP/s
// at 256-1024 including packing, vs ~4-5 for the JS float64 kernel.
// (There is no fused multiply-add in baseline wasm SIMD; relaxed SIMD's is not on by default in Node 20.)

import { CodeBuilder, ValType, encodeModule } from './encoder.js';

/** Tile shape of the micro-kernel: rows of A per row block, columns of B per panel. */
export const TILE_ROWS = 4;
export const TILE_COLS = 8;

/** Emits `for (counter = 0; counter < limit; counter++) body()` as block/loop/br_if. */
function countedLoop(f: CodeBuilder, counter: number, limit: number, body: () => void): void {
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

/** Builds the kernel's function body (see the header for the contract). */
function buildKernel(): CodeBuilder {
  const f = new CodeBuilder(7);
  // Parameters 0..6.
  const ap = 0, bp = 1, c = 2, K = 3, rowBlocks = 4, panels = 5, ldc = 6;
  const ib = f.local(ValType.i32), jb = f.local(ValType.i32), k = f.local(ValType.i32);
  const pa = f.local(ValType.i32), pb = f.local(ValType.i32), pc = f.local(ValType.i32);
  // acc[r][h]: row r of the tile, columns 4h..4h+3.
  const acc = Array.from({ length: TILE_ROWS }, () => [f.local(ValType.v128), f.local(ValType.v128)]);
  const b0 = f.local(ValType.v128), b1 = f.local(ValType.v128), av = f.local(ValType.v128);

  countedLoop(f, ib, rowBlocks, () => {
    countedLoop(f, jb, panels, () => {
      // acc = 0
      for (const row of acc) for (const v of row) f.f32Const(0).f32x4Splat().localSet(v);
      // pa = ap + ib·K·16 (this row block's [K][4] float32), pb = bp + jb·K·32 (this panel's [K][8] float32)
      f.localGet(ap).localGet(ib).localGet(K).i32Mul().i32Const(4 * TILE_ROWS).i32Mul().i32Add().localSet(pa);
      f.localGet(bp).localGet(jb).localGet(K).i32Mul().i32Const(32).i32Mul().i32Add().localSet(pb);
      countedLoop(f, k, K, () => {
        // b0 = B[k, 8jb .. 8jb+3], b1 = B[k, 8jb+4 .. 8jb+7]
        f.localGet(pb).v128Load(0).localSet(b0);
        f.localGet(pb).v128Load(16).localSet(b1);
        for (let r = 0; r < TILE_ROWS; r++) {
          // av = splat(A[4ib + r, k]); acc[r][h] += av · b_h
          f.localGet(pa).v128Load32Splat(4 * r).localSet(av);
          f.localGet(acc[r][0]).localGet(av).localGet(b0).f32x4Mul().f32x4Add().localSet(acc[r][0]);
          f.localGet(acc[r][1]).localGet(av).localGet(b1).f32x4Mul().f32x4Add().localSet(acc[r][1]);
        }
        f.localGet(pa).i32Const(4 * TILE_ROWS).i32Add().localSet(pa); // next k: 4 float32 of A
        f.localGet(pb).i32Const(32).i32Add().localSet(pb); // next k: 8 float32 of B
      });
      // pc = c + 4·ib·ldc + 32·jb: the tile's top-left; store the 4 rows, ldc bytes apart.
      f.localGet(c).localGet(ib).i32Const(TILE_ROWS).i32Mul().localGet(ldc).i32Mul().i32Add()
        .localGet(jb).i32Const(32).i32Mul().i32Add().localSet(pc);
      for (let r = 0; r < TILE_ROWS; r++) {
        f.localGet(pc).localGet(acc[r][0]).v128Store(0);
        f.localGet(pc).localGet(acc[r][1]).v128Store(16);
        if (r < TILE_ROWS - 1) f.localGet(pc).localGet(ldc).i32Add().localSet(pc);
      }
    });
  });
  return f;
}

/** The module's bytes: exported memory (1 page to start; the caller grows it) and the exported `kernel`. */
export function matmulModuleBytes(): Uint8Array<ArrayBuffer> {
  const i32 = ValType.i32;
  return encodeModule([{ name: 'kernel', params: [i32, i32, i32, i32, i32, i32, i32], code: buildKernel() }], 1);
}
