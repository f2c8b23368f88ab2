// Tests for the CPU matmul kernels: the fast packed 4×4 kernel (matmul.ts) against the plain triple loop
// (matmul-reference.ts), over random shapes (odd sizes, empty dims), all four transpose combinations, both
// precisions, and batched calls with broadcast (stride 0) operands.
//
// Error model: both kernels accumulate Σ_k a_ik·b_kj in float64 and round to the output precision once. In float64
// a K-term sum (any order) differs from the exact value by at most γ_K·Σ|a||b| with γ_K ≈ K·2⁻⁵³, so two such
// sums differ by at most 2·K·2⁻⁵³·Σ|a||b|; the final rounding to the output type can then land on neighbouring
// values, adding at most one unit of the output's precision: 2⁻²³·|c| for float32 (2⁻⁵² for float64).
// (Today both kernels sum k in the same ascending order, so they actually agree bit for bit; the bound leaves the
// fast kernel free to reorder its sums later.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matmulBatched, matmul } from '../../../src/backend/cpu/kernels/matmul.js';
import {
  matmulBatchedReference, matmulReference, type FloatArray,
} from '../../../src/backend/cpu/kernels/matmul-reference.js';

function randomArray(n: number, f64: boolean, seed: number): FloatArray {
  const arr = f64 ? new Float64Array(n) : new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // LCG, deterministic per seed
    arr[i] = (s / 2 ** 32) * 4 - 2; // values in [-2, 2)
  }
  return arr;
}

/** Σ_k |A[i,k]|·|B[k,j]| for every output element (the scale of the rounding error). */
function absProducts(
  a: FloatArray, b: FloatArray, batch: number, M: number, K: number, N: number,
  transA: boolean, transB: boolean, sa: number, sb: number,
): Float64Array {
  const absA = Float64Array.from(a, Math.abs);
  const absB = Float64Array.from(b, Math.abs);
  const out = new Float64Array(batch * M * N);
  matmulBatchedReference(absA, absB, out, batch, M, K, N, transA, transB, sa, sb);
  return out;
}

function expectWithinModel(
  got: FloatArray, want: FloatArray, scale: Float64Array, K: number, f64: boolean,
): void {
  const unit = f64 ? 2 ** -52 : 2 ** -23;
  for (let i = 0; i < want.length; i++) {
    const bound = 2 * K * 2 ** -53 * scale[i] + unit * Math.abs(want[i]);
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= bound)) throw new Error(`element ${i}: got ${got[i]}, want ${want[i]}, |err| ${err} > ${bound}`);
  }
}

describe('matmul (packed 4x4 kernel) vs reference', () => {
  it('matches on random shapes, transposes, precisions and broadcast batches', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          M: fc.integer({ min: 0, max: 13 }),
          K: fc.integer({ min: 0, max: 13 }),
          N: fc.integer({ min: 0, max: 13 }),
          transA: fc.boolean(),
          transB: fc.boolean(),
          f64: fc.boolean(),
          broadcastA: fc.boolean(),
          broadcastB: fc.boolean(),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ batch, M, K, N, transA, transB, f64, broadcastA, broadcastB, seed }) => {
          const sa = broadcastA ? 0 : M * K;
          const sb = broadcastB ? 0 : K * N;
          const a = randomArray(Math.max(1, (batch - 1) * sa + M * K), f64, seed);
          const b = randomArray(Math.max(1, (batch - 1) * sb + K * N), f64, seed + 7);
          const want = f64 ? new Float64Array(batch * M * N) : new Float32Array(batch * M * N);
          const got = f64 ? new Float64Array(batch * M * N) : new Float32Array(batch * M * N);
          got.fill(NaN); // every element must be overwritten
          matmulBatchedReference(a, b, want, batch, M, K, N, transA, transB, sa, sb);
          matmulBatched(a, b, got, batch, M, K, N, transA, transB, sa, sb);
          expectWithinModel(got, want, absProducts(a, b, batch, M, K, N, transA, transB, sa, sb), K, f64);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('matches on larger odd shapes in all four transpose combinations', () => {
    const M = 37, K = 70, N = 29;
    const a = randomArray(M * K, false, 11);
    const b = randomArray(K * N, false, 12);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const want = new Float32Array(M * N);
        const got = new Float32Array(M * N);
        matmulReference(a, b, want, M, K, N, transA, transB);
        matmul(a, b, got, M, K, N, transA, transB);
        expectWithinModel(got, want, absProducts(a, b, 1, M, K, N, transA, transB, 0, 0), K, false);
      }
    }
  });

  it('computes a known 2x3 · 3x2 product exactly', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]); // [[1,2,3],[4,5,6]]
    const b = new Float32Array([7, 8, 9, 10, 11, 12]); // [[7,8],[9,10],[11,12]]
    const out = new Float32Array(4);
    matmul(a, b, out, 2, 3, 2, false, false);
    expect(Array.from(out)).toEqual([58, 64, 139, 154]);
    // aᵀ with a stored as [K=2, M=3]: [[1,4],[2,5],[3,6]] · [[7,8],[9,10]]
    const outT = new Float32Array(6);
    matmul(new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([7, 8, 9, 10]), outT, 3, 2, 2, true, false);
    expect(Array.from(outT)).toEqual([1 * 7 + 4 * 9, 1 * 8 + 4 * 10, 2 * 7 + 5 * 9, 2 * 8 + 5 * 10, 3 * 7 + 6 * 9, 3 * 8 + 6 * 10]);
  });

  it('rejects buffers that are too short and bad dimensions with a clear error', () => {
    const a = new Float32Array(6);
    expect(() => matmul(a, new Float32Array(5), new Float32Array(4), 2, 3, 2, false, false)).toThrow(/b has length 5/);
    expect(() => matmul(a, a, new Float32Array(4), 2, 3.5, 2, false, false)).toThrow(/dimension K/);
    expect(() => matmulReference(a, a, new Float32Array(1), 2, 3, 2, false, false)).toThrow(/out has length 1/);
  });
});
