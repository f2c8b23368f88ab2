// Multi-threaded matmul with a SYNCHRONOUS API (worker_threads over SharedArrayBuffer; see thread-pool.ts for
// the pool, the blocking protocol, and why the worker body is built from the kernels' source text).
//
//   out[p, i, j] = Σ_k A_p[i, k] · B_p[k, j]      (same contract as matmul.ts / matmul-reference.ts)
//
// Work split: the output is cut into work units u = (batch item, 4-row block), numbered batch-major; each of the
// T participants (the calling thread + T-1 workers) takes one contiguous range of units and runs the very same
// packed 4×4 register-blocked kernel as matmul.ts (matmulUnits) on it. Every output element is therefore
// computed by exactly one thread, in the same order as single-threaded: results are bit-identical to matmul().
// Small products stay on the calling thread (below MATMUL_THREAD_MIN_FLOPS the message round trip dominates).

import type { FloatArray } from './matmul-reference.js';
import { checkMatmulArgs, matmulBatched, matmulUnits, packScratch } from './matmul.js';
import { getCpuThreads, runJob } from './thread-pool.js';

export { getCpuThreads, setCpuThreads, shutdownCpuThreads } from './thread-pool.js';

/**
 * Below this many floating-point operations (2·batch·M·N·K) the single-threaded kernel is used. Measured on a
 * 2-vCPU VM with 2 threads: 64³ (0.5 MFLOP) is slower threaded (3.7 vs 4.5 GFLOP/s), 96³ (1.8 MFLOP) is about
 * even, 128³ (4.2 MFLOP) is 1.6x faster; the per-call cost is one postMessage per worker plus the operand copies.
 */
export const MATMUL_THREAD_MIN_FLOPS = 1 << 21;

/** out[M, N] = op(a) · op(b), multi-threaded when large enough. Same contract as matmulReference. */
export function matmulThreaded(
  a: FloatArray, b: FloatArray, out: FloatArray,
  M: number, K: number, N: number, transA: boolean, transB: boolean,
): void {
  matmulBatchedThreaded(a, b, out, 1, M, K, N, transA, transB, 0, 0);
}

/** Batched version (stride 0 broadcasts an operand; out dense [batch, M, N]), multi-threaded when large. */
export function matmulBatchedThreaded(
  a: FloatArray, b: FloatArray, out: FloatArray,
  batch: number, M: number, K: number, N: number, transA: boolean, transB: boolean,
  aBatchStride: number, bBatchStride: number,
): void {
  checkMatmulArgs('matmulBatchedThreaded', a, b, out, batch, M, K, N, aBatchStride, bBatchStride);
  const units = batch * ((M + 3) >> 2);
  if (getCpuThreads() <= 1 || units < 2 || 2 * batch * M * N * K < MATMUL_THREAD_MIN_FLOPS) {
    matmulBatched(a, b, out, batch, M, K, N, transA, transB, aBatchStride, bBatchStride);
    return;
  }
  // Only the part of each operand that is read/written needs to be shared.
  const inputs = {
    a: a.subarray(0, (batch - 1) * aBatchStride + M * K),
    b: b.subarray(0, (batch - 1) * bBatchStride + K * N),
  };
  const outputs = { out: out.subarray(0, batch * M * N) };
  runJob('matmul', units, inputs, outputs, { M, K, N, transA, transB, aBatchStride, bBatchStride },
    (x, unitStart, unitEnd) => {
      const [ap, bp] = packScratch(K, N);
      matmulUnits(x.a as FloatArray, x.b as FloatArray, x.out as FloatArray, M, K, N, transA, transB,
        aBatchStride, bBatchStride, unitStart, unitEnd, ap, bp);
    });
}
