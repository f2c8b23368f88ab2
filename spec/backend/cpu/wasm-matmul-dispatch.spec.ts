// Tests for the kernel choice in src/backend/cpu/kernels/wasm/matmul-dispatch.ts: float32 products go to the wasm
// SIMD kernel (same bits as matmulBatchedWasm), anything with a float64 operand to the JS kernel (same bits as
// matmulBatched), and the switch setWasmKernels(false) sends float32 back to the JS kernel. Bit equality is the
// right check here: the dispatcher must call exactly one of the two kernels, each deterministic.

import { afterEach, describe, expect, it } from 'vitest';
import { matmulBatched } from '../../../src/backend/cpu/kernels/matmul.js';
import { setWasmKernels, wasmKernelsActive } from '../../../src/backend/cpu/kernels/wasm/module.js';
import {
  matmulBatchedAuto,
} from '../../../src/backend/cpu/kernels/wasm/matmul-dispatch.js';
import { matmulBatchedWasm } from '../../../src/backend/cpu/kernels/wasm/matmul-wasm.js';

function random(n: number, seed: number, f64: boolean): Float32Array | Float64Array {
  const arr = f64 ? new Float64Array(n) : new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = (s / 2 ** 32) * 2 - 1;
  }
  return arr;
}

describe('matmulBatchedAuto', () => {
  afterEach(() => setWasmKernels(true));
  // K = 300 makes float32 and float64 accumulation differ in the last bits for almost every element, so the
  // bit-equality checks below can tell the two kernels apart (asserted, not assumed).
  const batch = 2, M = 7, K = 300, N = 10;

  it('sends float32 to the wasm kernel and float64 to the JS kernel', () => {
    expect(wasmKernelsActive()).toBe(true);
    const a = random(batch * M * K, 1, false) as Float32Array, b = random(K * N, 2, false) as Float32Array;
    const auto = new Float32Array(batch * M * N), wasm = new Float32Array(batch * M * N);
    const js = new Float32Array(batch * M * N);
    matmulBatchedAuto(a, b, auto, batch, M, K, N, false, true, M * K, 0);
    matmulBatchedWasm(a, b, wasm, batch, M, K, N, false, true, M * K, 0);
    matmulBatched(a, b, js, batch, M, K, N, false, true, M * K, 0);
    expect(auto).toEqual(wasm);
    expect(js).not.toEqual(wasm); // the two kernels are distinguishable on this input

    const a64 = random(batch * M * K, 1, true), b64 = random(K * N, 2, true);
    const auto64 = new Float64Array(batch * M * N), js64 = new Float64Array(batch * M * N);
    matmulBatchedAuto(a64, b64, auto64, batch, M, K, N, true, false, M * K, 0);
    matmulBatched(a64, b64, js64, batch, M, K, N, true, false, M * K, 0);
    expect(auto64).toEqual(js64);
  });

  it('setWasmKernels(false) sends float32 to the JS kernel', () => {
    setWasmKernels(false);
    expect(wasmKernelsActive()).toBe(false);
    const a = random(M * K, 3, false) as Float32Array, b = random(K * N, 4, false) as Float32Array;
    const auto = new Float32Array(M * N), js = new Float32Array(M * N);
    matmulBatchedAuto(a, b, auto, 1, M, K, N, false, false, 0, 0);
    matmulBatched(a, b, js, 1, M, K, N, false, false, 0, 0);
    expect(auto).toEqual(js);
  });
});
