// Single-threaded float32 matmul on the WebAssembly SIMD micro-kernel of matmul-module.ts.
//
//   out[p, i, j] = Σ_k A_p[i, k] · B_p[k, j]     (same contract as matmul-reference.ts, float32 only)
//
// Work is cut into units (batch item, 4-row block) like the JS kernel, so a thread pool can split it later.
// Steps for a run of units of one batch item (the blocking of ../matmul.ts, with 4×8 tiles):
//   1. A: those rows of A copied into wasm memory as they are (row-major, read by kernelRowsA), or for aᵀ packed
//      by packA as [blocks][K][4] float32 (rows ≥ M zero), read by kernel.
//   2. packB: B (or bᵀ) copied as [⌈N/8⌉][K][8] float32 (columns ≥ N zero); skipped when B is broadcast
//      (bBatchStride = 0) and already packed.
//   3. the column panels of B are visited in groups of ~256 KiB (fits L2); for each group the wasm kernel runs
//      every packed row block against every panel of the group, writing 4×8 tiles into a padded C in wasm memory.
//   4. the valid rows and columns of C are copied to out.
// Accumulation is in float32 (unlike the JS kernel, which accumulates in float64): the error bound is
// |C − C_exact| ≤ γ_K Σ_k |A[i,k]||B[k,j]|, γ_K = K·u/(1 − K·u), u = 2^-24 (Higham, Accuracy and Stability of
// Numerical Algorithms, eq. 3.5); spec/backend/cpu/wasm-matmul.spec.ts checks exactly that bound.
// Inputs and output must be Float32Array; wasmMatmulSupported() says whether this engine has wasm SIMD.

import { checkDims, checkLength } from '../matmul-reference.js';
import { TILE_COLS, TILE_ROWS } from './matmul-module.js';
import { wasmKernels, type KernelInstance } from './module.js';
import { cachedPackedB } from './packed-b-cache.js';

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
 * mem[apOff + ((ib − blockStart)·K + k)·4 + r] = A[4ib + r, k] for row blocks ib in [blockStart, blockEnd)
 * (rows ≥ M zero). A is a[aOff..] as [M, K] (or [K, M] if transA).
 */
export function packA(
  a: Float32Array, aOff: number, M: number, K: number, transA: boolean, blockStart: number, blockEnd: number,
  mem: Float32Array, apOff: number,
): void {
  const TR = 4; // TILE_ROWS (literal: this function is self-contained so a worker can run its source text)
  mem.fill(0, apOff, apOff + (blockEnd - blockStart) * K * TR); // padding rows stay zero
  for (let ib = blockStart; ib < blockEnd; ib++) {
    const base = apOff + (ib - blockStart) * K * TR;
    const i0 = ib * TR;
    const rows = Math.min(TR, M - i0);
    if (transA) {
      for (let k = 0; k < K; k++) {
        const src = aOff + k * M + i0;
        for (let r = 0; r < rows; r++) mem[base + k * TR + r] = a[src + r];
      }
    } else {
      for (let r = 0; r < rows; r++) {
        const src = aOff + (i0 + r) * K;
        for (let k = 0; k < K; k++) mem[base + k * TR + r] = a[src + k];
      }
    }
  }
}

/** mem[bpOff + (jb·K + k)·8 + c] = B[k, 8jb + c] (columns ≥ N zero); B is b[bOff..] as [K, N] (or [N, K] if transB). */
export function packB(
  b: Float32Array, bOff: number, K: number, N: number, transB: boolean, mem: Float32Array, bpOff: number,
): void {
  const TC = 8; // TILE_COLS
  const panels = Math.ceil(N / TC);
  for (let jb = 0; jb < panels; jb++) {
    const base = bpOff + jb * K * TC;
    const j0 = jb * TC;
    const cols = Math.min(TC, N - j0);
    if (cols < TC) mem.fill(0, base, base + K * TC);
    if (transB) {
      for (let c = 0; c < cols; c++) {
        const src = bOff + (j0 + c) * K;
        for (let k = 0; k < K; k++) mem[base + k * TC + c] = b[src + k];
      }
    } else {
      for (let k = 0; k < K; k++) {
        const src = bOff + k * N + j0, dst = base + k * TC;
        for (let c = 0; c < cols; c++) mem[dst + c] = b[src + c];
      }
    }
  }
}

/**
 * Work units [unitStart, unitEnd) of a batched float32 matmul on the wasm kernel `wasm` (its exports), where
 * unit u = (batch item ⌊u / R⌋, 4-row block u mod R), R = ⌈M/4⌉; requires K ≥ 1. Each unit's rows of out are
 * computed exactly as in a whole-matrix call, so any split of the units (e.g. over threads) gives the same bits.
 * `packedB`, when given, is B already packed (one B for every batch item: bBatchStride = 0 or batch = 1).
 * `bState`, when given, remembers across calls which batch item's B this instance's memory holds, so the chunks
 * of one job that a thread claims one after another pack each B once (it must be fresh for every job).
 * Self-contained (references only packA and packB) so that a worker thread can run its source text.
 */
export function wasmMatmulUnits(
  wasm: KernelInstance, a: Float32Array, b: Float32Array, out: Float32Array,
  M: number, K: number, N: number, transA: boolean, transB: boolean,
  aBatchStride: number, bBatchStride: number, unitStart: number, unitEnd: number,
  packedB?: Float32Array | null, bState?: { item: number } | null,
): void {
  const TR = 4, TC = 8; // TILE_ROWS, TILE_COLS of matmul-module.ts
  const rowBlocks = Math.ceil(M / TR), panels = Math.ceil(N / TC);
  if (rowBlocks === 0 || panels === 0 || unitEnd <= unitStart) return;
  // Memory layout (float32 indices): [packed A of ≤ R row blocks | packed B | padded C of those rows].
  const ldc = panels * TC; // padded row length of C, in float32
  const apOff = 0;
  const bpOff = apOff + rowBlocks * TR * K;
  const cOff = bpOff + panels * TC * K;
  const bytes = 4 * (cOff + rowBlocks * TR * ldc);
  const have = wasm.memory.buffer.byteLength;
  if (have < bytes) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
  const mem = new Float32Array(wasm.memory.buffer); // a fresh view: grow() detaches the old buffer
  // Panels per group: ~256 KiB of packed B, re-read from L2 by every row block.
  const groupPanels = Math.max(1, Math.floor((256 * 1024) / (K * TC * 4)));

  let packedFor = bState ? bState.item : -1; // which batch item's B is packed (kept across calls in bState)
  let u = unitStart;
  while (u < unitEnd) {
    const p = Math.floor(u / rowBlocks);
    const blockStart = u - p * rowBlocks;
    const blockEnd = Math.min(rowBlocks, blockStart + (unitEnd - u));
    const blocks = blockEnd - blockStart;
    const bItem = bBatchStride === 0 ? 0 : p;
    if (bItem !== packedFor) {
      if (packedB) mem.set(packedB, bpOff); // the same bits packB would write (packed-b-cache.ts)
      else packB(b, bItem * bBatchStride, K, N, transB, mem, bpOff);
      packedFor = bItem;
      if (bState) bState.item = bItem;
    }
    // A: a row-major A is copied as it is (rows 4·blockStart .. of row stride K; the kernel reads rows past M of
    // the last block, whose results are not copied out); a transposed one is packed into [blocks][K][4].
    if (transA) packA(a, p * aBatchStride, M, K, transA, blockStart, blockEnd, mem, apOff);
    else {
      const r0 = blockStart * TR, r1 = Math.min(M, blockEnd * TR);
      mem.set(a.subarray(p * aBatchStride + r0 * K, p * aBatchStride + r1 * K), apOff);
    }
    for (let g0 = 0; g0 < panels; g0 += groupPanels) {
      const count = Math.min(groupPanels, panels - g0);
      // Tiles (row blocks blockStart..blockEnd-1) × (panels g0..g0+count-1), written to C from column 8·g0.
      const bAt = 4 * (bpOff + g0 * K * TC), cAt = 4 * (cOff + g0 * TC);
      if (transA) wasm.kernel(4 * apOff, bAt, cAt, K, blocks, count, 4 * ldc, 4 * K * TC, 0);
      else wasm.kernelRowsA(4 * apOff, bAt, cAt, K, blocks, count, 4 * ldc, 4 * K * TC, 0, 4 * K);
    }
    // Copy the valid rows and columns of C to out[p, 4·blockStart ..].
    const i0 = blockStart * TR, rows = Math.min(M, blockEnd * TR) - i0;
    const o = p * M * N + i0 * N;
    for (let i = 0; i < rows; i++) out.set(mem.subarray(cOff + i * ldc, cOff + i * ldc + N), o + i * N);
    u = p * rowBlocks + blockEnd;
  }
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
  // One B for every item: a weight, possibly packed already (packed-b-cache.ts)
  const packedB = batch === 1 || bBatchStride === 0 ? cachedPackedB(b, 0, K, N, transB) : null;
  wasmMatmulUnits(inst, a, b, out, M, K, N, transA, transB, aBatchStride, bBatchStride, 0, batch * Math.ceil(M / TILE_ROWS),
    packedB);
}

/** out[M, N] = op(a) · op(b) for Float32Array operands, on the wasm SIMD kernel. */
export function matmulWasm(
  a: Float32Array, b: Float32Array, out: Float32Array,
  M: number, K: number, N: number, transA: boolean, transB: boolean,
): void {
  matmulBatchedWasm(a, b, out, 1, M, K, N, transA, transB, 0, 0);
}
