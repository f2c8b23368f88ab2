// The one-row WebAssembly matmul kernel (a vector times a matrix), emitted with encoder.ts: what a step of cached
// generation multiplies by every weight. The 4×8 micro-kernel of matmul-module.ts would compute three padding
// rows for every real one.
//
//   c[j] = Σ_k a[k] · B[k, j]     over B packed as panels of 8 columns (matmul-module.ts), accumulated in float32
//
// Exported function `kernelRow(ap, bp, c, K, panels, bStride)` (all i32; pointers and bStride in bytes):
//   ap: one row of A, K float32;  bp: panel jb at bp + jb·bStride ([K][8]);  c: the row of C, columns 8·jb ..
//   at c + 32·jb.
// Tiling: 1×32 tiles, four panels at once (8 f32x4 accumulators: the multiply-adds of one k step are
// independent, so their latency overlaps), then one panel at a time for the last panels. Each k step broadcasts
// a[k] and does one multiply-add per 4 columns.
// Every c[j] is summed over k = 0, 1, .. K-1 from 0 with acc = a[k]·B[k, j] + acc, the order of the micro-kernel,
// so a row has the same bits whichever kernel computes it (the matmul's rows never depend on how many there are).

import { CodeBuilder, ValType } from './encoder.js';
import { countedLoop, emitMadd } from './matmul-module.js';
import type { WasmSimdLevel } from './simd-features.js';

/** kernelRow's parameter types (all i32), in order: ap, bp, c, K, panels, bStride. */
export const MATMUL_ROW_KERNEL_PARAMS = Array.from({ length: 6 }, () => ValType.i32);

/** Panels per wide tile. */
const WIDE = 4;

export function buildMatmulRowKernel(level: WasmSimdLevel): CodeBuilder {
  const f = new CodeBuilder(MATMUL_ROW_KERNEL_PARAMS.length);
  const ap = 0, bp = 1, c = 2, K = 3, panels = 4, bStride = 5;
  const jb = f.local(ValType.i32), k = f.local(ValType.i32), pa = f.local(ValType.i32);
  const pb = Array.from({ length: WIDE }, () => f.local(ValType.i32)); // panels jb .. jb+3 at row k
  const acc = Array.from({ length: WIDE }, () => [f.local(ValType.v128), f.local(ValType.v128)]);
  const av = f.local(ValType.v128), bv = f.local(ValType.v128);

  /** The tile of `width` panels from panel jb: acc = 0, the k loop, then store. */
  const tile = (width: number): void => {
    f.localGet(bp).localGet(jb).localGet(bStride).i32Mul().i32Add().localSet(pb[0]);
    for (let i = 1; i < width; i++) f.localGet(pb[i - 1]).localGet(bStride).i32Add().localSet(pb[i]);
    for (let i = 0; i < width; i++) for (const v of acc[i]) f.f32Const(0).f32x4Splat().localSet(v);
    f.localGet(ap).localSet(pa);
    countedLoop(f, k, K, () => {
      f.localGet(pa).v128Load32Splat(0).localSet(av); // a[k] in every lane
      for (let i = 0; i < width; i++) {
        for (let h = 0; h < 2; h++) {
          f.localGet(pb[i]).v128Load(16 * h).localSet(bv);
          emitMadd(f, level, acc[i][h], av, bv);
        }
      }
      f.localGet(pa).i32Const(4).i32Add().localSet(pa);
      for (let i = 0; i < width; i++) f.localGet(pb[i]).i32Const(32).i32Add().localSet(pb[i]);
    });
    // c[8·(jb + i) ..] = acc[i]
    for (let i = 0; i < width; i++) {
      for (let h = 0; h < 2; h++) {
        f.localGet(c).localGet(jb).i32Const(i).i32Add().i32Const(32).i32Mul().i32Add().localGet(acc[i][h])
          .v128Store(16 * h);
      }
    }
  };

  // wide tiles while four panels remain, then single panels
  f.i32Const(0).localSet(jb);
  f.block().loop().localGet(jb).i32Const(WIDE).i32Add().localGet(panels).i32GtU().brIf(1);
  tile(WIDE);
  f.localGet(jb).i32Const(WIDE).i32Add().localSet(jb).br(0).end().end();
  f.block().loop().localGet(jb).localGet(panels).i32GeU().brIf(1);
  tile(1);
  f.localGet(jb).i32Const(1).i32Add().localSet(jb).br(0).end().end();
  return f;
}
