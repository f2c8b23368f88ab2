// Tests for the packed-B cache of the wasm matmul (src/backend/cpu/kernels/wasm/packed-b-cache.ts): a cached
// product has the same bits as an uncached one, and a weight written in place through the backend (copyInto,
// adamwStep) is re-packed, so the next product sees the new values. Bit equality is right: packing is a copy.

import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../../src/backend/cpu/cpu-backend.js';
import { matmulBatchedWasm, matmulWasm } from '../../../src/backend/cpu/kernels/wasm/matmul-wasm.js';
import { cachedPackedB } from '../../../src/backend/cpu/kernels/wasm/packed-b-cache.js';
import { matmulBatchedReference } from '../../../src/backend/cpu/kernels/matmul-reference.js';

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = (s / 2 ** 32) * 2 - 1; }
  return a;
}

describe('packed-B cache', () => {
  it('packs a B on its second use and gives the same bits as packing per call', () => {
    const K = 37, N = 21, M = 3;
    const w = random(N * K, 1), x = random(M * K, 2);
    const fresh = (): Float32Array => {
      const out = new Float32Array(M * N);
      matmulWasm(x, Float32Array.from(w), out, M, K, N, false, true); // a new array: never cached
      return out;
    };
    const first = new Float32Array(M * N), second = new Float32Array(M * N);
    matmulWasm(x, w, first, M, K, N, false, true); // first sight: remembered
    expect(cachedPackedB(w, 0, K, N, true)).not.toBeNull(); // second sight: packed and kept
    matmulWasm(x, w, second, M, K, N, false, true); // from the cache
    expect(second).toEqual(fresh());
    expect(first).toEqual(second);
  });

  it('a weight changed by copyInto or adamwStep is re-packed', () => {
    const K = 16, N = 9, M = 1;
    const w = cpuBackend.upload(random(N * K, 3)), x = random(M * K, 4);
    const data = (): Float32Array => (w as unknown as { data: Float32Array }).data;
    const product = (): Float32Array => {
      const out = new Float32Array(M * N);
      matmulBatchedWasm(x, data(), out, 1, M, K, N, false, true, 0, 0);
      return out;
    };
    const want = (): Float64Array => {
      const out = new Float64Array(M * N);
      matmulBatchedReference(x, data(), out, 1, M, K, N, false, true, 0, 0);
      return out;
    };
    const close = (a: Float32Array, b: Float64Array): boolean => a.every((v, i) => Math.abs(v - b[i]) < 1e-5);
    product(); product(); // cached now
    cpuBackend.copyInto(w, cpuBackend.upload(random(N * K, 5)));
    expect(close(product(), want())).toBe(true);
    product();
    const g = cpuBackend.upload(random(N * K, 6));
    const m = cpuBackend.full(N * K, 'float32', 0), v = cpuBackend.full(N * K, 'float32', 0);
    cpuBackend.adamwStep(w, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, step: 1, gradScale: 1 });
    expect(close(product(), want())).toBe(true);
  });
});
