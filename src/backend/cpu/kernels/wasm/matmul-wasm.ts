// Single-threaded float32 matmul on the WebAssembly SIMD micro-kernel of matmul-module.ts.
//
//   out[p, i, j] = Σ_k A_p[i, k] · B_p[k, j]     (same contract as matmul-reference.ts, float32 only)
//
// Work is cut into units (batch item, 4-row block) like the JS kernel, so a thread pool can split it later.
// Steps for a run of units of one batch item (the blocking of ../matmul.ts, with 4×8 tiles; matmul-units.ts):
//   1. A: those rows of A copied into wasm memory as they are (row-major, read by kernelRowsA), or for aᵀ packed
//      by packA as [blocks][K][4] float32 (rows ≥ M zero), read by kernel.
//   2. packB: B (or bᵀ) copied as [⌈N/8⌉][K][8] float32 (columns ≥ N zero); skipped when B is broadcast
//      (bBatchStride = 0) and already packed.
//   3. the column panels of B are visited in groups of ~256 KiB (fits L2); for each group the wasm kernel runs
//      every packed row block against every panel of the group, writing 4×8 tiles into a padded C in wasm memory.
//      A product of fewer than 4 rows (a generation step: one row times each weight) runs each row on the
//      one-row kernel (matmul-row-module.ts) instead, which sums in the same order, so no padding rows are computed;
//      when its weight is in the resident arena (resident-weights.ts) it is read there, without step 2's copy.
//   4. the valid rows and columns of C are copied to out.
// Accumulation is in float32 (unlike the JS kernel, which accumulates in float64): the error bound is
// |C − C_exact| ≤ γ_K Σ_k |A[i,k]||B[k,j]|, γ_K = K·u/(1 − K·u), u = 2^-24 (Higham, Accuracy and Stability of
// Numerical Algorithms, eq. 3.5); spec/backend/cpu/wasm-matmul.spec.ts checks exactly that bound.
// Inputs and output must be Float32Array; wasmMatmulSupported() says whether this engine has wasm SIMD.

import { checkDims, checkLength } from '../matmul-reference.js';
import { TILE_COLS, TILE_ROWS } from './matmul-module.js';
import { wasmKernels, type KernelInstance } from './module.js';
import { ARENA_FULL, FIRST_SIGHT, cachedPackedB, cachedResidentB } from './packed-b-cache.js';
import { residentKernels, residentScratch, residentView } from './resident-weights.js';
import { wasmMatmulUnits } from './matmul-units.js';

/** The compiled kernels of this thread, or null when this engine lacks WebAssembly SIMD. */
export function wasmMatmulInstance(): KernelInstance | null {
  if (TILE_ROWS !== 4 || TILE_COLS !== 8) throw new Error('matmul-wasm: pack routines assume a 4×8 tile');
  return wasmKernels();
}

/** True when the wasm SIMD kernel can run here (otherwise callers should use the JS kernel). */
export function wasmMatmulSupported(): boolean {
  return wasmMatmulInstance() !== null;
}

/**
 * Batched out[p] = op(a[p]) · op(b[p]) for Float32Array operands, on the wasm SIMD kernel (single thread).
 * Stride 0 broadcasts an operand; out is dense [batch, M, N]. Throws if wasm SIMD is unavailable.
 */
export function matmulBatchedWasm(
  a: Float32Array, b: Float32Array, out: Float32Array,
  batch: number, M: number, K: number, N: number, transA: boolean, transB: boolean,
  aBatchStride: number, bBatchStride: number,
): void {
  const op = 'matmulBatchedWasm';
  checkDims(op, { batch, M, K, N, aBatchStride, bBatchStride });
  for (const [name, arr] of [['a', a], ['b', b], ['out', out]] as [string, unknown][]) {
    if (!(arr instanceof Float32Array)) {
      throw new Error(`${op}: ${name} must be a Float32Array, got ${(arr as object)?.constructor?.name}`);
    }
  }
  if (batch > 0) {
    checkLength(op, 'a', a, (batch - 1) * aBatchStride + M * K);
    checkLength(op, 'b', b, (batch - 1) * bBatchStride + K * N);
  }
  checkLength(op, 'out', out, batch * M * N);
  if (K === 0) { out.fill(0, 0, batch * M * N); return; }
  const inst = wasmMatmulInstance();
  if (!inst) throw new Error(`${op}: WebAssembly SIMD is not available in this engine`);
  const oneB = batch === 1 || bBatchStride === 0; // one B for every item: a weight, possibly packed already
  // Fewer rows than a tile times a weight seen before: read it packed in the resident arena (no copy)
  const at = oneB && M < TILE_ROWS && !transA ? cachedResidentB(b, 0, K, N, transB) : ARENA_FULL;
  if (at >= 0) {
    rowsOnResidentB(a, at, out, batch, M, K, N, aBatchStride);
    return;
  }
  // else a packed copy from packed-b-cache.ts (not on first sight: then B is packed for this call only)
  const packedB = oneB && at !== FIRST_SIGHT ? cachedPackedB(b, 0, K, N, transB) : null;
  wasmMatmulUnits(inst, a, b, out, M, K, N, transA, transB, aBatchStride, bBatchStride, 0, batch * Math.ceil(M / TILE_ROWS),
    packedB);
}

/** out [batch, M, N] = a_p · B for M < 4 rows per item, B packed at byte `at` of the resident arena: kernelRow. */
function rowsOnResidentB(a: Float32Array, at: number, out: Float32Array, batch: number, M: number, K: number,
  N: number, aBatchStride: number): void {
  const inst = residentKernels();
  const panels = Math.ceil(N / TILE_COLS);
  const aAt = residentScratch(4 * (K + panels * TILE_COLS)), cAt = aAt + 4 * K; // one row of A, one of C
  const mem = residentView();
  for (let p = 0; p < batch; p++) {
    for (let i = 0; i < M; i++) {
      mem.set(a.subarray(p * aBatchStride + i * K, p * aBatchStride + i * K + K), aAt / 4);
      inst.kernelRow(aAt, at, cAt, K, panels, 4 * K * TILE_COLS);
      out.set(mem.subarray(cAt / 4, cAt / 4 + N), (p * M + i) * N);
    }
  }
}

/** out[M, N] = op(a) · op(b) for Float32Array operands, on the wasm SIMD kernel. */
export function matmulWasm(
  a: Float32Array, b: Float32Array, out: Float32Array,
  M: number, K: number, N: number, transA: boolean, transB: boolean,
): void {
  matmulBatchedWasm(a, b, out, 1, M, K, N, transA, transB, 0, 0);
}
