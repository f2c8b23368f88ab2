// Chooses the matmul kernel for the CPU backend: the WebAssembly SIMD kernel (matmul-wasm.ts, float32
// accumulation) when every operand is float32 and the engine has wasm SIMD, else the JS packed kernel
// (matmul-threads.ts: float64 accumulation).
//
//   out[p, i, j] = Σ_k A_p[i, k] · B_p[k, j]     (same contract as matmul-reference.ts)
//
// There is deliberately no size threshold between the two kernels: which one runs (and so whether a sum is
// accumulated in float32 or float64) depends only on the dtypes, never on M, N or batch. Otherwise a row of the
// output could change when only the number of rows changes (spec/blt/model prefix-consistency property). The cost
// is tiny products: the wasm kernel is slower at 8³ (0.9 vs 1.3 GFLOP/s), even at 16³, ahead from 32³ (9 vs 3.7).
// Float32 products of at least WASM_THREAD_MIN_FLOPS are split over the worker pool (thread-pool.ts job
// 'matmulWasm'; every worker has its own instance of the module, made from the same bytes). Any split of the work
// units gives the same bits (wasmMatmulUnits), so threading never changes results either.
// Speed on the 2-vCPU dev VM: the wasm kernel runs ~33-48 GFLOP/s at 128-1024 on one core, the JS kernel ~4-5
// per core; in the BLT training step the matmuls run at ~41 GFLOP/s on 2 threads.
// The switch setWasmKernels(false) (module.ts) turns the wasm path off, e.g. to compare results or timings.

import { checkMatmulArgs } from '../matmul.js';
import type { FloatArray } from '../matmul-reference.js';
import { matmulBatchedThreaded } from '../matmul-threads.js';
import { getCpuThreads, runJob } from '../thread-pool.js';
import { TILE_ROWS } from './matmul-module.js';
import { matmulBatchedWasm, wasmMatmulInstance } from './matmul-wasm.js';
import { wasmMatmulUnits } from './matmul-units.js';
import { wasmKernelsActive } from './module.js';

/**
 * Below this many flops (2·batch·M·N·K) the wasm kernel runs on the calling thread only (a job costs one
 * postMessage per worker plus staging copies). On the 2-vCPU VM the BLT training step took the same time with
 * 2 MFLOP and 32 MFLOP here; 8 MFLOP is ~0.25 ms of kernel time at 30 GFLOP/s.
 */
export const WASM_THREAD_MIN_FLOPS = 1 << 23;

/** Batched out[p] = op(a[p]) · op(b[p]) (stride 0 broadcasts; out dense [batch, M, N]) on the chosen kernel. */
export function matmulBatchedAuto(
  a: FloatArray, b: FloatArray, out: FloatArray,
  batch: number, M: number, K: number, N: number, transA: boolean, transB: boolean,
  aBatchStride: number, bBatchStride: number,
): void {
  const f32 = a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array;
  if (!f32 || !wasmKernelsActive()) {
    matmulBatchedThreaded(a, b, out, batch, M, K, N, transA, transB, aBatchStride, bBatchStride);
    return;
  }
  // Work units = (batch item, 4-row block), as in matmul-units.ts.
  const units = batch * Math.ceil(M / TILE_ROWS);
  if (getCpuThreads() <= 1 || units < 2 || K === 0 || 2 * batch * M * N * K < WASM_THREAD_MIN_FLOPS) {
    matmulBatchedWasm(a, b, out, batch, M, K, N, transA, transB, aBatchStride, bBatchStride);
    return;
  }
  checkMatmulArgs('matmulBatchedAuto', a, b, out, batch, M, K, N, aBatchStride, bBatchStride);
  const wasm = wasmMatmulInstance()!;
  // Only the part of each operand that is read/written needs to be shared.
  const inputs = {
    a: a.subarray(0, (batch - 1) * aBatchStride + M * K),
    b: b.subarray(0, (batch - 1) * bBatchStride + K * N),
  };
  const outputs = { out: out.subarray(0, batch * M * N) };
  const bState = { item: -1, aItem: -1 }; // this thread packs each B (and copies each aᵀ) once over its chunks
  runJob('matmulWasm', units, inputs, outputs, { M, K, N, transA, transB, aBatchStride, bBatchStride },
    (x, unitStart, unitEnd) => wasmMatmulUnits(wasm, x.a as Float32Array, x.b as Float32Array,
      x.out as Float32Array, M, K, N, transA, transB, aBatchStride, bBatchStride, unitStart, unitEnd, null, bState));
}
