// Tests for the worker-thread attention (attention-threads.ts): it splits work by (batch, kv head) units that
// write disjoint outputs and runs the same kernel code, so it must agree bit for bit with itself on one thread,
// for forward and backward, with GQA and mixed range kinds: float32 on the wasm kernels (attention-wasm.ts) and on
// the JS kernels (setWasmKernels(false)), float64 on the JS kernels; the JS runs also equal attention.ts exactly.

import '../../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import { afterAll, describe, expect, it } from 'vitest';
import { attentionBackward, attentionForward } from '../../../src/backend/cpu/kernels/attention.js';
import {
  ATTENTION_THREAD_MIN_FLOPS, attentionBackwardThreaded, attentionForwardThreaded,
} from '../../../src/backend/cpu/kernels/attention-threads.js';
import type { AttentionDims } from '../../../src/backend/cpu/kernels/attention-reference.js';
import { getCpuThreads, setCpuThreads, shutdownCpuThreads } from '../../../src/backend/cpu/kernels/thread-pool.js';
import { setWasmKernels } from '../../../src/backend/cpu/kernels/wasm/module.js';

/** Same length and the same value at every index (NaN = NaN), without a huge diff on failure. */
function equalBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function randomArray(n: number, f64: boolean, seed: number): Float32Array | Float64Array {
  const arr = f64 ? new Float64Array(n) : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = (s / 2 ** 32) * 2 - 1;
  }
  return arr;
}

afterAll(() => { shutdownCpuThreads(); setWasmKernels(true); });

/** Runs fn with n CPU threads, then restores the previous count. */
function withThreads<T>(n: number, fn: () => T): T {
  const initial = getCpuThreads();
  setCpuThreads(n);
  try { return fn(); } finally { setCpuThreads(initial); }
}

describe('attention on worker threads', () => {
  for (const [f64, wasm] of [[false, true], [false, false], [true, false]]) {
    const kind = `${f64 ? 'float64' : 'float32'}, ${wasm ? 'wasm' : 'JS'} kernels`;
    it(`forward and backward equal the single-threaded kernel bit for bit (${kind})`, () => {
      setWasmKernels(wasm);
      const dims: AttentionDims = { B: 2, Tq: 90, Tk: 93, Hq: 6, Hkv: 2, D: 30, scale: 0.2 };
      const { B, Tq, Tk, Hq, Hkv, D } = dims;
      // batch 0: causal (with 3 extra leading keys); batch 1: sliding window of 17 with a few empty rows
      const kvStart = new Int32Array(B * Tq), kvEnd = new Int32Array(B * Tq);
      for (let t = 0; t < Tq; t++) {
        kvEnd[t] = t + 4;
        kvEnd[Tq + t] = t % 11 === 0 ? 0 : t + 1;
        kvStart[Tq + t] = t % 11 === 0 ? 0 : Math.max(0, t - 16);
      }
      let pairs = 0;
      for (let i = 0; i < B * Tq; i++) pairs += kvEnd[i] - kvStart[i];
      expect(4 * D * Hq * pairs).toBeGreaterThan(ATTENTION_THREAD_MIN_FLOPS);
      const q = randomArray(B * Tq * Hq * D, f64, 1), k = randomArray(B * Tk * Hkv * D, f64, 2);
      const v = randomArray(B * Tk * Hkv * D, f64, 3), dOut = randomArray(B * Tq * Hq * D, f64, 4);
      const like = (n: number) => (f64 ? new Float64Array(n) : new Float32Array(n));
      const out1 = like(q.length), lse1 = like(B * Hq * Tq), outT = like(q.length).fill(NaN), lseT = like(B * Hq * Tq).fill(NaN);
      withThreads(1, () => attentionForwardThreaded(q, k, v, kvStart, kvEnd, dims, out1, lse1));
      withThreads(3, () => attentionForwardThreaded(q, k, v, kvStart, kvEnd, dims, outT, lseT)); // 3 shares of 4 units
      expect(equalBits(outT, out1) && equalBits(lseT, lse1)).toBe(true);
      const g1 = [like(q.length), like(k.length), like(v.length)];
      const gT = [like(q.length).fill(NaN), like(k.length).fill(NaN), like(v.length).fill(NaN)];
      withThreads(1, () => attentionBackwardThreaded(q, k, v, out1, lse1, dOut, kvStart, kvEnd, dims, g1[0], g1[1], g1[2]));
      withThreads(3, () => attentionBackwardThreaded(q, k, v, out1, lse1, dOut, kvStart, kvEnd, dims, gT[0], gT[1], gT[2]));
      for (let i = 0; i < 3; i++) expect(equalBits(gT[i], g1[i])).toBe(true);
      if (!wasm) { // the JS path is attention.ts itself
        const outJ = like(q.length), lseJ = like(B * Hq * Tq);
        attentionForward(q, k, v, kvStart, kvEnd, dims, outJ, lseJ);
        const gJ = [like(q.length), like(k.length), like(v.length)];
        attentionBackward(q, k, v, out1, lse1, dOut, kvStart, kvEnd, dims, gJ[0], gJ[1], gJ[2]);
        expect(equalBits(outJ, out1) && equalBits(lseJ, lse1) && gJ.every((g, i) => equalBits(g, g1[i]))).toBe(true);
      }
      setWasmKernels(true);
    });
  }

  it('multi-query attention (one kv head, one batch row) splits the forward by query head', () => {
    const dims: AttentionDims = { B: 1, Tq: 100, Tk: 100, Hq: 4, Hkv: 1, D: 28, scale: 0.3 };
    const kvStart = new Int32Array(100), kvEnd = Int32Array.from({ length: 100 }, (_, t) => t + 1); // causal
    expect(4 * dims.D * dims.Hq * (100 * 101) / 2).toBeGreaterThan(ATTENTION_THREAD_MIN_FLOPS);
    const q = randomArray(100 * 4 * 28, false, 7), k = randomArray(100 * 28, false, 8), v = randomArray(100 * 28, false, 9);
    const out1 = new Float32Array(q.length), lse1 = new Float32Array(400);
    const outT = new Float32Array(q.length).fill(NaN), lseT = new Float32Array(400).fill(NaN);
    withThreads(1, () => attentionForwardThreaded(q, k, v, kvStart, kvEnd, dims, out1, lse1));
    withThreads(2, () => attentionForwardThreaded(q, k, v, kvStart, kvEnd, dims, outT, lseT));
    expect(equalBits(outT, out1) && equalBits(lseT, lse1)).toBe(true);
  });

  it('rejects bad input like the single-threaded kernel', () => {
    const dims: AttentionDims = { B: 1, Tq: 1, Tk: 1, Hq: 1, Hkv: 1, D: 1, scale: 1 };
    const a = new Float32Array(1);
    expect(() => attentionForwardThreaded(a, a, a, new Int32Array([0]), new Int32Array([2]), dims, a, a))
      .toThrow(/attentionForwardThreaded: key range \[0, 2\)/);
  });
});
