// Tests for the threaded wasm matmul (matmul-dispatch.ts + the 'matmulWasm' job of thread-pool.ts): above
// WASM_THREAD_MIN_FLOPS a float32 product is split over the worker pool, and because every work unit is computed
// exactly as in a single-threaded call (wasmMatmulUnits), the result must equal matmulBatchedWasm bit for bit,
// for any thread count, transposes and a broadcast operand; worker failures must surface as errors. The same for
// the bfloat16 few-rows product ('matmulRowsBf16' job), whose weight may or may not live in a SharedArrayBuffer.

import '../../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import { describe, expect, it } from 'vitest';
import { getCpuThreads, setCpuThreads } from '../../../src/backend/cpu/kernels/thread-pool.js';
import {
  WASM_THREAD_MIN_FLOPS, matmulBatchedAuto,
} from '../../../src/backend/cpu/kernels/wasm/matmul-dispatch.js';
import { matmulBatchedWasm } from '../../../src/backend/cpu/kernels/wasm/matmul-wasm.js';
import { matmulRowsBf16, wasmMatmulRowsBf16Units } from '../../../src/backend/cpu/kernels/wasm/matmul-rows-bf16.js';
import { wasmKernels } from '../../../src/backend/cpu/kernels/wasm/module.js';
import { float32ToHalf } from '../../../src/tensor/half.js';

function randomF32(n: number, seed: number): Float32Array {
  const arr = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = (s / 2 ** 32) * 2 - 1;
  }
  return arr;
}

describe('matmulBatchedAuto on worker threads (wasm kernel)', () => {
  it('equals the single-threaded wasm kernel bit for bit (2 and 3 threads, transposes, broadcast B)', () => {
    const initial = getCpuThreads();
    const batch = 3, M = 61, K = 150, N = 170; // ragged row blocks and panels
    expect(2 * batch * M * N * K).toBeGreaterThan(WASM_THREAD_MIN_FLOPS);
    const a = randomF32(batch * M * K, 1), b = randomF32(K * N, 2);
    try {
      for (const threads of [2, 3]) {
        setCpuThreads(threads);
        for (const [tA, tB] of [[false, false], [true, true]]) {
          const single = new Float32Array(batch * M * N), threaded = new Float32Array(batch * M * N).fill(NaN);
          matmulBatchedWasm(a, b, single, batch, M, K, N, tA, tB, M * K, 0);
          matmulBatchedAuto(a, b, threaded, batch, M, K, N, tA, tB, M * K, 0);
          expect(threaded).toEqual(single);
        }
      }
    } finally {
      setCpuThreads(initial);
    }
  });

  it('rejects a too-short operand before starting the job', () => {
    const initial = getCpuThreads();
    setCpuThreads(2);
    try {
      const n = 256;
      expect(() => matmulBatchedAuto(new Float32Array(n * n - 1), new Float32Array(n * n), new Float32Array(n * n),
        1, n, n, n, false, false, 0, 0)).toThrow(/matmulBatchedAuto: a has length 65535/);
    } finally {
      setCpuThreads(initial);
    }
  });

  it('a few rows times a bfloat16 weight: the same bits on 1, 2 and 3 threads, weight shared or not', () => {
    const initial = getCpuThreads();
    const rows = 2, K = 1030, N = 2053; // ragged: N is not a multiple of 8
    expect(2 * rows * K * N).toBeGreaterThan(WASM_THREAD_MIN_FLOPS);
    const a = randomF32(rows * K, 3), plain = float32ToHalf('bfloat16', randomF32(N * K, 4));
    const shared = new Uint16Array(new SharedArrayBuffer(plain.byteLength));
    shared.set(plain);
    const single = new Float32Array(rows * N).fill(NaN);
    wasmMatmulRowsBf16Units(wasmKernels()!, a, plain, single, rows, K, N, 0, Math.ceil(N / 8));
    expect(single.every(Number.isFinite)).toBe(true);
    try {
      for (const threads of [1, 2, 3]) {
        setCpuThreads(threads);
        for (const w of [plain, shared]) {
          const out = new Float32Array(rows * N).fill(NaN);
          matmulRowsBf16(a, w, out, rows, K, N);
          expect(out).toEqual(single);
        }
      }
      expect(() => matmulRowsBf16(a, plain.subarray(1), new Float32Array(rows * N), rows, K, N))
        .toThrow(/matmulRowsBf16: w has length 2114589, but the shape needs at least 2114590/);
    } finally {
      setCpuThreads(initial);
    }
  });
});
