// The one-row WebAssembly matmul kernel for a bfloat16 weight, emitted with encoder.ts: a step of cached
// generation with released (bf16) weights multiplies one row by every weight, and decoding plus packing a whole
// weight into float32 for one row costs ~50× the product.
//
//   c[n] = Σ_k a[k] · W[n, k]      W bfloat16 in the layout of a Linear weight [N, K] (row n at bp + n·ld bytes)
//
// Exported function `kernelRowBf16(ap, bp, c, K, N8, ld)` (all i32; pointers and ld in bytes): a is K float32;
// rows n < N8 of W are read (N8 a multiple of 8: the caller leaves zero rows past N); c gets N8 float32.
// A bfloat16 is the top half of a float32, so a weight becomes a float32 by landing in the high 16 bits of a
// 32-bit lane: v128.load16_lane into lanes 1, 3, 5, 7 of a zero vector gives four float32 weights, exactly.
// Tiling: eight outputs (rows of W) at a time, two f32x4 accumulators; each k step gathers W[n .. n+7, k] (eight
// 16-bit loads, one per row) and broadcasts a[k]. Two k steps per loop iteration (memarg offsets 0 and 2).
// Every c[n] is summed over k = 0, 1, .. K-1 from 0 with acc = a[k]·W[n, k] + acc: the order of the float32
// kernels on the decoded weight (matmul-module.ts, matmul-row-module.ts), so the bits are the same as theirs.

import { CodeBuilder, ValType } from './encoder.js';
import { emitMadd } from './matmul-module.js';
import type { WasmSimdLevel } from './simd-features.js';

/** kernelRowBf16's parameter types (all i32), in order: ap, bp, c, K, N8, ld. */
export const MATMUL_ROW_BF16_PARAMS = Array.from({ length: 6 }, () => ValType.i32);

export function buildMatmulRowBf16Kernel(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(MATMUL_ROW_BF16_PARAMS.length);
  const ap = 0, bp = 1, c = 2, K = 3, N8 = 4, ld = 5;
  const n0 = f.local(ValType.i32), k = f.local(ValType.i32), pa = f.local(ValType.i32);
  const pw = Array.from({ length: 8 }, () => f.local(ValType.i32)); // rows n0 .. n0+7 of W, at column k
  const acc = [f.local(ValType.v128), f.local(ValType.v128)];
  const av = f.local(ValType.v128), w = f.local(ValType.v128);

  /** One k step, reading column k + offset/2 of the eight rows and a[k + offset/2]. */
  const step = (offset: number): void => {
    f.localGet(pa).v128Load32Splat(2 * offset).localSet(av); // a[k] in every lane (float32: 4 bytes per 2 of W)
    for (let h = 0; h < 2; h++) {
      f.v128ConstI32(0).localSet(w);
      for (let i = 0; i < 4; i++) f.localGet(pw[4 * h + i]).localGet(w).v128Load16Lane(offset, 2 * i + 1).localSet(w);
      emitMadd(f, level, acc[h], av, w);
    }
  };

  f.i32Const(0).localSet(n0);
  f.block().loop().localGet(n0).localGet(N8).i32GeU().brIf(1);
  // pw[i] = bp + (n0 + i)·ld; pa = ap; acc = 0
  f.localGet(bp).localGet(n0).localGet(ld).i32Mul().i32Add().localSet(pw[0]);
  for (let i = 1; i < 8; i++) f.localGet(pw[i - 1]).localGet(ld).i32Add().localSet(pw[i]);
  f.localGet(ap).localSet(pa);
  for (const v of acc) f.f32Const(0).f32x4Splat().localSet(v);
  // k in pairs while two remain, then the last one
  f.i32Const(0).localSet(k);
  f.block().loop().localGet(k).i32Const(2).i32Add().localGet(K).i32GtU().brIf(1);
  step(0);
  step(2);
  f.localGet(pa).i32Const(8).i32Add().localSet(pa);
  for (const p of pw) f.localGet(p).i32Const(4).i32Add().localSet(p);
  f.localGet(k).i32Const(2).i32Add().localSet(k).br(0).end().end();
  f.localGet(k).localGet(K).i32LtS().if();
  step(0);
  f.end();
  // c[n0 .. n0+7] = acc
  f.localGet(c).localGet(n0).i32Const(4).i32Mul().i32Add().localGet(acc[0]).v128Store(0);
  f.localGet(c).localGet(n0).i32Const(4).i32Mul().i32Add().localGet(acc[1]).v128Store(16);
  f.localGet(n0).i32Const(8).i32Add().localSet(n0).br(0).end().end();
  return f;
}
