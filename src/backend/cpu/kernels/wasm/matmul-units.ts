// The part of a wasm matmul that a worker thread runs (matmul-wasm.ts describes the steps): packA and packB copy
// rows of A into 4-row blocks and columns of B into 8-column panels, the layouts the 4×8 tile of matmul-module.ts
// reads, and wasmMatmulUnits runs a range of work units. packA and packB are the plain loops; wasmMatmulUnits
// packs with packAWasm and packBWasm, which copy the operand into wasm memory as it lies and let the wasm functions
// of matmul-pack-module.ts move whole vectors (the same floats), leaving a ragged last panel to the
// plain loops. The functions reference nothing outside this file but a type (literal tile sizes), so the thread
// pool can send their source text to its workers.

import type { KernelInstance } from './module.js';

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

/**
 * mem[bpOff + (jb·K + k)·8 + c] = B[k, 8jb + c] (columns ≥ N zero) for panels jb ≥ firstPanel; B is b[bOff..] as
 * [K, N] (or [N, K] if transB).
 */
export function packB(
  b: Float32Array, bOff: number, K: number, N: number, transB: boolean, mem: Float32Array, bpOff: number,
  firstPanel = 0,
): void {
  const TC = 8; // TILE_COLS
  const panels = Math.ceil(N / TC);
  for (let jb = firstPanel; jb < panels; jb++) {
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
 * packA of aᵀ for row blocks [blockStart, blockEnd), from aᵀ [K, M] already copied into wasm memory at float index
 * rawOff: full blocks by the wasm packPanels4, a last block of fewer than 4 rows by packA. Same floats as packA.
 */
export function packAWasm(wasm: KernelInstance, mem: Float32Array, rawOff: number, M: number, K: number,
  blockStart: number, blockEnd: number, apOff: number): void {
  const TR = 4; // TILE_ROWS
  const fullEnd = Math.max(blockStart, Math.min(blockEnd, Math.floor(M / TR)));
  if (fullEnd > blockStart) wasm.packPanels4(4 * (rawOff + blockStart * TR), 4 * M, 4 * apOff, K, fullEnd - blockStart);
  if (blockEnd > fullEnd) packA(mem, rawOff, M, K, true, fullEnd, blockEnd, mem, apOff + (fullEnd - blockStart) * K * TR);
}

/**
 * packB on the wasm kernels: B (b[bOff..], [K, N] or [N, K] if transB) copied into wasm memory at float index
 * rawOff as it lies, its full panels packed by packPanels8 / packPanelsT8, a ragged last one by packB. Same floats
 * as packB.
 */
export function packBWasm(wasm: KernelInstance, b: Float32Array, bOff: number, K: number, N: number, transB: boolean,
  mem: Float32Array, bpOff: number, rawOff: number): void {
  const TC = 8; // TILE_COLS
  const full = Math.floor(N / TC);
  mem.set(b.subarray(bOff, bOff + K * N), rawOff);
  if (transB) wasm.packPanelsT8(4 * rawOff, 4 * K, 4 * bpOff, K, full);
  else wasm.packPanels8(4 * rawOff, 4 * N, 4 * bpOff, K, full);
  if (full * TC < N) packB(mem, rawOff, K, N, transB, mem, bpOff, full);
}

/**
 * Work units [unitStart, unitEnd) of a batched float32 matmul on the wasm kernel `wasm` (its exports), where
 * unit u = (batch item ⌊u / R⌋, 4-row block u mod R), R = ⌈M/4⌉; requires K ≥ 1. Each unit's rows of out are
 * computed exactly as in a whole-matrix call, so any split of the units (e.g. over threads) gives the same bits.
 * `packedB`, when given, is B already packed (one B for every batch item: bBatchStride = 0 or batch = 1).
 * `bState`, when given, remembers across calls which batch item's B (`item`) and which item's raw aᵀ (`aItem`)
 * this instance's memory holds, so the chunks of one job that a thread claims one after another copy and pack
 * each once (it must be fresh for every job).
 * Self-contained (references only this file's pack functions) so that a worker thread can run its source text.
 */
export function wasmMatmulUnits(
  wasm: KernelInstance, a: Float32Array, b: Float32Array, out: Float32Array,
  M: number, K: number, N: number, transA: boolean, transB: boolean,
  aBatchStride: number, bBatchStride: number, unitStart: number, unitEnd: number,
  packedB?: Float32Array | null, bState?: { item: number; aItem: number } | null,
): void {
  const TR = 4, TC = 8; // TILE_ROWS, TILE_COLS of matmul-module.ts
  const rowBlocks = Math.ceil(M / TR), panels = Math.ceil(N / TC);
  if (rowBlocks === 0 || panels === 0 || unitEnd <= unitStart) return;
  // Memory layout (float32 indices): [packed A of ≤ R row blocks | packed B | padded C of those rows |
  // aᵀ as it lies (transA only) | B as it lies (while it is packed)].
  const ldc = panels * TC; // padded row length of C, in float32
  const apOff = 0;
  const bpOff = apOff + rowBlocks * TR * K;
  const cOff = bpOff + panels * TC * K;
  const rawAOff = cOff + rowBlocks * TR * ldc;
  const rawBOff = rawAOff + (transA ? K * M : 0);
  const bytes = 4 * (rawBOff + (packedB ? 0 : K * N));
  const have = wasm.memory.buffer.byteLength;
  if (have < bytes) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
  const mem = new Float32Array(wasm.memory.buffer); // a fresh view: grow() detaches the old buffer
  // Panels per group: ~256 KiB of packed B, re-read from L2 by every row block.
  const groupPanels = Math.max(1, Math.floor((256 * 1024) / (K * TC * 4)));

  let packedFor = bState ? bState.item : -1; // which batch item's B is packed (kept across calls in bState)
  let rawAFor = bState ? bState.aItem : -1; // which batch item's aᵀ lies at rawAOff
  let u = unitStart;
  while (u < unitEnd) {
    const p = Math.floor(u / rowBlocks);
    const blockStart = u - p * rowBlocks;
    const blockEnd = Math.min(rowBlocks, blockStart + (unitEnd - u));
    const blocks = blockEnd - blockStart;
    const bItem = bBatchStride === 0 ? 0 : p;
    if (bItem !== packedFor) {
      if (packedB) mem.set(packedB, bpOff); // the same bits packB would write (packed-b-cache.ts)
      else packBWasm(wasm, b, bItem * bBatchStride, K, N, transB, mem, bpOff, rawBOff);
      packedFor = bItem;
      if (bState) bState.item = bItem;
    }
    // A: a row-major A is copied as it is (rows 4·blockStart .. of row stride K; the kernel reads rows past M of
    // the last block, whose results are not copied out); a transposed one is copied whole, then its blocks are
    // packed into [blocks][K][4].
    if (transA) {
      if (rawAFor !== p) {
        mem.set(a.subarray(p * aBatchStride, p * aBatchStride + K * M), rawAOff);
        rawAFor = p;
        if (bState) bState.aItem = p;
      }
      packAWasm(wasm, mem, rawAOff, M, K, blockStart, blockEnd, apOff);
    } else {
      const r0 = blockStart * TR, r1 = Math.min(M, blockEnd * TR);
      mem.set(a.subarray(p * aBatchStride + r0 * K, p * aBatchStride + r1 * K), apOff);
    }
    for (let g0 = 0; g0 < panels; g0 += groupPanels) {
      const count = Math.min(groupPanels, panels - g0);
      // Tiles (row blocks blockStart..blockEnd-1) × (panels g0..g0+count-1), written to C from column 8·g0.
      const bAt = 4 * (bpOff + g0 * K * TC), cAt = 4 * (cOff + g0 * TC);
      if (transA) wasm.kernel(4 * apOff, bAt, cAt, K, blocks, count, 4 * ldc, 4 * K * TC, 0);
      else if (M < TR) { // fewer rows than a tile (a generation step has one): one row at a time, no padding rows
        for (let i = 0; i < M; i++) wasm.kernelRow(4 * (apOff + i * K), bAt, 4 * (cOff + i * ldc + g0 * TC), K, count, 4 * K * TC);
      } else wasm.kernelRowsA(4 * apOff, bAt, cAt, K, blocks, count, 4 * ldc, 4 * K * TC, 0, 4 * K);
    }
    // Copy the valid rows and columns of C to out[p, 4·blockStart ..].
    const i0 = blockStart * TR, rows = Math.min(M, blockEnd * TR) - i0;
    const o = p * M * N + i0 * N;
    for (let i = 0; i < rows; i++) out.set(mem.subarray(cOff + i * ldc, cOff + i * ldc + N), o + i * N);
    u = p * rowBlocks + blockEnd;
  }
}
