// Tests for the packed-B cache of the wasm matmul (src/backend/cpu/kernels/wasm/packed-b-cache.ts): a cached
// product has the same bits as an uncached one, and a weight written in place through the backend (copyInto,
// adamwStep) is re-packed, so the next product sees the new values. Bit equality is right: packing is a copy.
// Products of fewer than 4 rows read a weight from the resident arena (resident-weights.ts) from its second use.

import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../../../src/backend/cpu/cpu-backend.js';
import { matmulBatchedWasm, matmulWasm } from '../../../src/backend/cpu/kernels/wasm/matmul-wasm.js';
import { cachedPackedB } from '../../../src/backend/cpu/kernels/wasm/packed-b-cache.js';
import { residentBytes } from '../../../src/backend/cpu/kernels/wasm/resident-weights.js';
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

  it('one-row products read a weight from the resident arena from its second use, with the same bits', () => {
    const K = 300, N = 77, batch = 2;
    const w = random(N * K, 7), x = random(batch * K, 8);
    const run = (b: Float32Array): Float32Array => {
      const out = new Float32Array(batch * N).fill(NaN);
      matmulBatchedWasm(x, b, out, batch, 1, K, N, false, true, K, 0); // two one-row items sharing the weight
      return out;
    };
    const fresh = run(Float32Array.from(w)); // a new array: never cached
    const before = residentBytes();
    expect(run(w)).toEqual(fresh); // first sight: copied per call
    expect(residentBytes()).toBe(before);
    expect(run(w)).toEqual(fresh); // second: packed into the arena, read there
    expect(residentBytes()).toBe(before + Math.ceil((4 * 80 * K) / 16) * 16);
    expect(run(w)).toEqual(fresh); // and again, without growing it
    expect(residentBytes()).toBe(before + Math.ceil((4 * 80 * K) / 16) * 16);
    // a weight first packed by taller products (packed-b-cache's copy) goes to the arena from that copy
    const w2 = random(N * K, 9), x5 = random(5 * K, 10), out5 = new Float32Array(5 * N);
    const fresh2 = run(Float32Array.from(w2));
    matmulWasm(x5, w2, out5, 5, K, N, false, true);
    matmulWasm(x5, w2, out5, 5, K, N, false, true); // now cached as a packed copy
    expect(cachedPackedB(w2, 0, K, N, true)).not.toBeNull();
    const grown = residentBytes();
    expect(run(w2)).toEqual(fresh2);
    expect(residentBytes()).toBeGreaterThan(grown);
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
    product(); product(); // cached now (one row: in the resident arena)
    const placed = residentBytes();
    cpuBackend.copyInto(w, cpuBackend.upload(random(N * K, 5)));
    expect(close(product(), want())).toBe(true);
    product();
    const g = cpuBackend.upload(random(N * K, 6));
    const m = cpuBackend.full(N * K, 'float32', 0), v = cpuBackend.full(N * K, 'float32', 0);
    cpuBackend.adamwStep(w, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0, step: 1, gradScale: 1 });
    expect(close(product(), want())).toBe(true);
    expect(close(product(), want())).toBe(true); // placed again, in the block the old copy released
    expect(residentBytes()).toBe(placed);
  });
});
