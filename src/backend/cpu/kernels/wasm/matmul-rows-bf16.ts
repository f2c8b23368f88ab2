// A few rows times a bfloat16 Linear weight, on kernelRowBf16 (matmul-row-bf16-module.ts), split over the CPU
// threads by blocks of output columns:
//
//   out[r, n] = Σ_k a[r, k] · W[n, k]      a [rows, K] float32, W [N, K] bfloat16 (its 16-bit words), rows < 4
//
// Work unit u = 8 output columns, i.e. rows 8u .. 8u+7 of W. A run of units [u0, u1) copies those rows of W
// into wasm memory as they are (zero rows past N), then runs the kernel once per row of a. Each output element
// is summed by one thread in the kernel's fixed order, so any split over threads gives the same bits; the units
// function is self-contained so that thread-pool.ts can ship its text to the workers.
// Threads pay off for large weights only: a product this thin is bound by reading W (2 bytes per multiply-add),
// and each thread reads its own share. W is read in place when its storage is a SharedArrayBuffer (the CPU
// backend's 16-bit weights are, see cpu-backend.ts uploadHalf); otherwise the pool would copy it per call.

import { checkDims, checkLength } from '../matmul-reference.js';
import { getCpuThreads, runJob } from '../thread-pool.js';
import { WASM_THREAD_MIN_FLOPS } from './matmul-dispatch.js';
import { wasmKernels, type KernelInstance } from './module.js';

/**
 * Units [unitStart, unitEnd) (8 output columns each) of out [rows, N] = a · Wᵀ for a bfloat16 W [N, K], taken in
 * passes of at most ~16 MB of W, so that wasm memory stays small whatever the weight's size.
 */
export function wasmMatmulRowsBf16Units(wasm: KernelInstance, a: Float32Array, w: Uint16Array, out: Float32Array,
  rows: number, K: number, N: number, unitStart: number, unitEnd: number): void {
  const passUnits = Math.max(1, Math.floor((1 << 23) / (8 * K))); // 2^23 words = 16 MB of W per pass
  for (let u0 = unitStart; u0 < unitEnd; u0 += passUnits) {
    const u1 = Math.min(unitEnd, u0 + passUnits);
    const n0 = 8 * u0, n1 = Math.min(N, 8 * u1), N8 = 8 * (u1 - u0);
    // wasm memory, in bytes: W rows n0 .. n0 + N8 as 16-bit words | a row of a | a row of out
    const aAt = Math.ceil((2 * N8 * K) / 16) * 16, cAt = aAt + 4 * K, bytes = cAt + 4 * N8;
    if (wasm.memory.buffer.byteLength < bytes) wasm.memory.grow(Math.ceil((bytes - wasm.memory.buffer.byteLength) / 65536));
    const words = new Uint16Array(wasm.memory.buffer), mem = new Float32Array(wasm.memory.buffer);
    words.set(w.subarray(n0 * K, n1 * K), 0);
    words.fill(0, (n1 - n0) * K, N8 * K);
    for (let r = 0; r < rows; r++) {
      mem.set(a.subarray(r * K, r * K + K), aAt / 4);
      wasm.kernelRowBf16(aAt, 0, cAt, K, N8, 2 * K);
      out.set(mem.subarray(cAt / 4, cAt / 4 + (n1 - n0)), r * N + n0);
    }
  }
}

/** out [rows, N] = a [rows, K] · Wᵀ for a bfloat16 W [N, K], on the thread pool when the weight is large. */
export function matmulRowsBf16(a: Float32Array, w: Uint16Array, out: Float32Array, rows: number, K: number,
  N: number): void {
  const op = 'matmulRowsBf16';
  checkDims(op, { rows, K, N });
  checkLength(op, 'a', a, rows * K);
  checkLength(op, 'w', w, N * K);
  checkLength(op, 'out', out, rows * N);
  const wasm = wasmKernels();
  if (!wasm) throw new Error(`${op}: WebAssembly SIMD is not available in this engine`);
  const units = Math.ceil(N / 8);
  if (getCpuThreads() <= 1 || units < 2 || 2 * rows * K * N < WASM_THREAD_MIN_FLOPS) {
    wasmMatmulRowsBf16Units(wasm, a, w, out, rows, K, N, 0, units);
    return;
  }
  runJob('matmulRowsBf16', units, { a: a.subarray(0, rows * K), w: w.subarray(0, N * K) },
    { out: out.subarray(0, rows * N) }, { rows, K, N },
    (x, u0, u1) => wasmMatmulRowsBf16Units(wasm, x.a as Float32Array, x.w as Uint16Array, x.out as Float32Array,
      rows, K, N, u0, u1));
}
