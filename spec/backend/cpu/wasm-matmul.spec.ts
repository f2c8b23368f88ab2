// Tests for the WebAssembly SIMD matmul (src/backend/cpu/kernels/wasm/): the binary encoder's LEB128 helpers,
// that the emitted module validates, and the float32 kernel against the float64 reference over random shapes
// (edges that are not multiples of the 4×8 tile, empty dims), all four transposes, broadcast batches.
//
// Error model: the wasm kernel sums K float32 products in float32 (each product and each addition rounded once,
// u = 2⁻²⁴). Higham's inner-product bound (Accuracy and Stability of Numerical Algorithms, eq. 3.5) gives
// |C − C_exact| ≤ γ_K · Σ_k |A[i,k]|·|B[k,j]|, γ_K = K·u / (1 − K·u), for any summation order. The reference is
// computed in float64 from the same float32 inputs (its own error ~K·2⁻⁵³·Σ|a||b| is ~2⁻²⁹ times smaller; we add
// it to the bound explicitly so the bound is rigorous).

import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { matmulBatchedReference } from '../../../src/backend/cpu/kernels/matmul-reference.js';
import { CodeBuilder, sleb128, uleb128 } from '../../../src/backend/cpu/kernels/wasm/encoder.js';
import { kernelModuleBytes } from '../../../src/backend/cpu/kernels/wasm/module.js';
import {
  matmulBatchedWasm, matmulWasm, wasmMatmulInstance, wasmMatmulSupported,
} from '../../../src/backend/cpu/kernels/wasm/matmul-wasm.js';
import { packA, packAWasm, packB, packBWasm, wasmMatmulUnits } from '../../../src/backend/cpu/kernels/wasm/matmul-units.js';
import { matmulHalfWeight } from '../../../src/backend/cpu/half-weights.js';
import { float32ToHalf, halfToFloat32 } from '../../../src/tensor/half.js';
import { enableRelaxedSimd } from '../../../src/backend/cpu/kernels/wasm/node-flags.js';
import { relaxedSimdAvailable, setWasmSimdLevel, type WasmSimdLevel } from '../../../src/backend/cpu/kernels/wasm/simd-features.js';

await enableRelaxedSimd(); // Node 20: relaxed SIMD is behind a V8 flag; the row-kernel test runs at both levels
const levels: WasmSimdLevel[] = relaxedSimdAvailable() ? ['relaxed', 'simd'] : ['simd'];
afterAll(() => setWasmSimdLevel(null));

function randomF32(n: number, seed: number): Float32Array {
  const arr = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0; // LCG, deterministic per seed
    arr[i] = (s / 2 ** 32) * 4 - 2; // values in [-2, 2)
  }
  return arr;
}

/** Checks got (float32 wasm) against the float64 reference within γ_K·Σ|a||b| (+ the reference's own error). */
function expectWithinGamma(
  a: Float32Array, b: Float32Array, got: Float32Array,
  batch: number, M: number, K: number, N: number, tA: boolean, tB: boolean, sa: number, sb: number,
): void {
  const want = new Float64Array(batch * M * N);
  matmulBatchedReference(a, b, want, batch, M, K, N, tA, tB, sa, sb);
  const scale = new Float64Array(batch * M * N);
  matmulBatchedReference(Float64Array.from(a, Math.abs), Float64Array.from(b, Math.abs), scale,
    batch, M, K, N, tA, tB, sa, sb);
  const u = 2 ** -24;
  const gamma = (K * u) / (1 - K * u);
  const refErr = 2 * K * 2 ** -53; // float64 reference's own γ_K (doubled for safety margin of the model)
  for (let i = 0; i < want.length; i++) {
    const bound = (gamma + refErr) * scale[i];
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= bound)) throw new Error(`element ${i}: got ${got[i]}, want ${want[i]}, |err| ${err} > ${bound}`);
  }
}

describe('wasm encoder', () => {
  it('encodes LEB128 like the spec examples', () => {
    expect(uleb128(0)).toEqual([0]);
    expect(uleb128(127)).toEqual([0x7f]);
    expect(uleb128(128)).toEqual([0x80, 0x01]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb128(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(sleb128(0)).toEqual([0]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(-64)).toEqual([0x40]);
    expect(sleb128(-65)).toEqual([0xbf, 0x7f]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(() => uleb128(-1)).toThrow(/uleb128/);
    expect(() => sleb128(2 ** 31)).toThrow(/sleb128/);
  });

  it('refuses an i8x16.shuffle without 16 lane indices in 0..31, naming them', () => {
    expect(() => new CodeBuilder(0).i8x16Shuffle([0, 1, 2])).toThrow(/16 lane indices in 0\.\.31 expected, got \[0, 1, 2\]/);
    expect(() => new CodeBuilder(0).i8x16Shuffle([...Array(15).fill(0), 32])).toThrow(/got \[0, .*, 32\]/);
  });

  it('emits a module that validates and exports memory + kernels, at the plain SIMD level', () => {
    const bytes = kernelModuleBytes('simd');
    expect(WebAssembly.validate(bytes)).toBe(true);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => `${e.kind}:${e.name}`);
    expect(exports.sort()).toEqual(['function:adamwRows', 'function:binaryRows_add', 'function:binaryRows_div',
      'function:binaryRows_mul', 'function:binaryRows_sub', 'function:exp64Rows', 'function:expRows', 'function:gradRows', 'function:kernel',
      'function:kernelRow', 'function:kernelRowBf16', 'function:kernelRowsA', 'function:packPanels4', 'function:packPanels8',
      'function:packPanelsT8', 'function:rmsNormBackwardRows', 'function:rmsNormRows', 'function:ropeRows', 'function:rowScores', 'function:rowValues',
      'function:sigmoidRows', 'function:siluRows', 'function:softmaxRows', 'function:sumExpRows', 'function:sumSquaresRows', 'function:swigluBackwardRows', 'function:swigluRows',
      'memory:memory']);
  });
});

describe('matmulBatchedWasm (f32x4 4x8 kernel) vs float64 reference', () => {
  it('has WebAssembly SIMD on this Node', () => {
    expect(wasmMatmulSupported()).toBe(true);
  });

  it('stays within γ_K·Σ|a||b| on random shapes, transposes and broadcast batches', () => {
    fc.assert(
      fc.property(
        fc.record({
          batch: fc.integer({ min: 1, max: 3 }),
          M: fc.integer({ min: 0, max: 19 }),
          K: fc.integer({ min: 0, max: 40 }),
          N: fc.integer({ min: 0, max: 27 }),
          transA: fc.boolean(), transB: fc.boolean(),
          broadcast: fc.constantFrom('none', 'a', 'b'),
          seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ batch, M, K, N, transA, transB, broadcast, seed }) => {
          const sa = broadcast === 'a' ? 0 : M * K;
          const sb = broadcast === 'b' ? 0 : K * N;
          const a = randomF32((batch - 1) * sa + M * K, seed);
          const b = randomF32((batch - 1) * sb + K * N, seed + 1);
          const out = new Float32Array(batch * M * N).fill(NaN); // every element must be written
          matmulBatchedWasm(a, b, out, batch, M, K, N, transA, transB, sa, sb);
          expectWithinGamma(a, b, out, batch, M, K, N, transA, transB, sa, sb);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('handles a large K and several column groups (K=700, N=200) within the bound', () => {
    // 256 KiB / (700·32 B) = 11 panels per group, so N = 200 (25 panels) spans 3 groups, the last one partial.
    const M = 9, K = 700, N = 200;
    const a = randomF32(M * K, 7), b = randomF32(K * N, 8);
    const out = new Float32Array(M * N);
    matmulWasm(a, b, out, M, K, N, false, true);
    expectWithinGamma(a, b, out, 1, M, K, N, false, true, 0, 0);
  });

  it('is exact on small integers (products and sums representable in float32)', () => {
    const M = 5, K = 6, N = 11;
    const a = Float32Array.from({ length: M * K }, (_, i) => (i % 7) - 3);
    const b = Float32Array.from({ length: K * N }, (_, i) => (i % 5) - 2);
    const got = new Float32Array(M * N), want = new Float64Array(M * N);
    matmulWasm(a, b, got, M, K, N, false, false);
    matmulBatchedReference(a, b, want, 1, M, K, N, false, false, 0, 0);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('reuses grown memory across calls of different sizes', () => {
    for (const [M, K, N] of [[64, 300, 96], [3, 5, 2], [130, 17, 33]]) {
      const a = randomF32(M * K, M), b = randomF32(K * N, N);
      const out = new Float32Array(M * N);
      matmulWasm(a, b, out, M, K, N, false, false);
      expectWithinGamma(a, b, out, 1, M, K, N, false, false, 0, 0);
    }
  });

  it('packAWasm and packBWasm write the floats of packA and packB (ragged panels, both layouts of B)', () => {
    const inst = wasmMatmulInstance()!;
    fc.assert(fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 45 }), fc.integer({ min: 1, max: 45 }),
      fc.boolean(), fc.integer({ min: 1, max: 1 << 30 }), (K, M, N, transB, seed) => {
        const a = randomF32(K * M, seed), b = randomF32(K * N, seed + 1); // aᵀ [K, M]; B [K, N] or [N, K]
        const rowBlocks = Math.ceil(M / 4), panels = Math.ceil(N / 8);
        const apFloats = rowBlocks * 4 * K, bpFloats = panels * 8 * K;
        // wasm memory: [packed A | packed B | raw aᵀ | raw B], packed parts pre-filled with garbage
        const need = 4 * (apFloats + bpFloats + K * M + K * N);
        if (inst.memory.buffer.byteLength < need) inst.memory.grow(Math.ceil((need - inst.memory.buffer.byteLength) / 65536));
        const mem = new Float32Array(inst.memory.buffer);
        mem.fill(NaN, 0, apFloats + bpFloats);
        const rawA = apFloats + bpFloats;
        mem.set(a, rawA);
        const blockStart = rowBlocks > 1 ? 1 : 0; // a block range that need not start at 0
        packAWasm(inst, mem, rawA, M, K, blockStart, rowBlocks, 0);
        packBWasm(inst, b, 0, K, N, transB, mem, apFloats, rawA + K * M);
        const wantA = new Float32Array(apFloats).fill(NaN), wantB = new Float32Array(bpFloats).fill(NaN);
        packA(a, 0, M, K, true, blockStart, rowBlocks, wantA, 0);
        packB(b, 0, K, N, transB, wantB, 0);
        expect(mem.slice(0, (rowBlocks - blockStart) * 4 * K)).toEqual(wantA.subarray(0, (rowBlocks - blockStart) * 4 * K));
        expect(mem.slice(apFloats, apFloats + bpFloats)).toEqual(wantB);
      }), { numRuns: 60 });
  });

  it('any split of the work units gives the same bits (thread-ready), also from the functions\' source text', () => {
    const inst = wasmMatmulInstance()!;
    const batch = 3, M = 14, K = 33, N = 21, R = Math.ceil(M / 4); // 3 items × 4 row blocks = 12 units
    const a = randomF32(batch * M * K, 11), b = randomF32(K * N, 12); // B broadcast (stride 0)
    const whole = new Float32Array(batch * M * N);
    matmulBatchedWasm(a, b, whole, batch, M, K, N, true, false, M * K, 0);
    // The three functions rebuilt from their text in a fresh scope, as a worker thread would (self-contained).
    const rebuilt = new Function(`${packA}\n${packB}\n${packAWasm}\n${packBWasm}\n${wasmMatmulUnits}\nreturn wasmMatmulUnits;`)() as
      typeof wasmMatmulUnits;
    for (const units of [rebuilt, wasmMatmulUnits]) {
      for (const shared of [false, true]) {
        // with a state shared by the calls (as a worker's chunks share one), each aᵀ is copied once
        const bState = shared ? { item: -1, aItem: -1 } : null;
        const split = new Float32Array(batch * M * N).fill(NaN);
        for (const [s, e] of [[0, 1], [1, 6], [6, 7], [7, batch * R]]) {
          units(inst, a, b, split, M, K, N, true, false, M * K, 0, s, e, null, bState);
        }
        expect(split).toEqual(whole);
      }
    }
  });

  it.each(levels)('a product of 1-3 rows (the one-row kernel) has the bits of the same rows in a taller product (level %s)', (level) => {
    setWasmSimdLevel(level);
    fc.assert(
      fc.property(
        fc.record({
          M: fc.integer({ min: 1, max: 3 }), K: fc.integer({ min: 1, max: 300 }), N: fc.integer({ min: 1, max: 90 }),
          transB: fc.boolean(), seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ M, K, N, transB, seed }) => {
          const tall = M + 6; // 9 rows or more: the 4×8 kernel for the first rows
          const a = randomF32(tall * K, seed), b = randomF32(K * N, seed + 1);
          const few = new Float32Array(M * N).fill(NaN), whole = new Float32Array(tall * N);
          matmulWasm(a.subarray(0, M * K), b, few, M, K, N, false, transB);
          matmulWasm(a, b, whole, tall, K, N, false, transB);
          for (let i = 0; i < M * N; i++) {
            if (!Object.is(few[i], whole[i])) throw new Error(`M=${M} K=${K} N=${N}: [${i}] ${few[i]} vs ${whole[i]}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each(levels)('1-3 rows times a bfloat16 Linear weight (kernelRowBf16) have the bits of the float32 product of its values (level %s)', (level) => {
    setWasmSimdLevel(level);
    fc.assert(
      fc.property(
        fc.record({
          R: fc.integer({ min: 1, max: 3 }), K: fc.integer({ min: 1, max: 200 }), N: fc.integer({ min: 1, max: 40 }),
          asBatch: fc.boolean(), seed: fc.integer({ min: 1, max: 1 << 30 }),
        }),
        ({ R, K, N, asBatch, seed }) => {
          const tall = R + 6; // the same R rows first, then more: the 4×8 kernel
          const a = randomF32(tall * K, seed), bits = float32ToHalf('bfloat16', randomF32(N * K, seed + 1));
          const w = halfToFloat32('bfloat16', bits, new Float32Array(N * K));
          const whole = new Float32Array(tall * N);
          matmulWasm(a, w, whole, tall, K, N, false, true); // on the decoded weight
          // R rows as one [R, K] matrix, or as a batch of R one-row matrices sharing the weight
          const [batch, M] = asBatch ? [R, 1] : [1, R];
          const got = matmulHalfWeight(a.subarray(0, R * K), bits, 'bfloat16', batch, M, K, N, false, true, M * K, 0);
          for (let i = 0; i < R * N; i++) {
            if (!Object.is(got[i], whole[i])) throw new Error(`R=${R} K=${K} N=${N}: [${i}] ${got[i]} vs ${whole[i]}`);
          }
        },
      ),
      { numRuns: 60 },
    );
    // a weight of 40 MB is taken in three passes of at most 16 MB (8·256 rows of K = 4096): the same bits
    const K = 4096, N = 5003;
    const a = randomF32(K, 5), bits = float32ToHalf('bfloat16', randomF32(N * K, 6));
    const want = new Float32Array(N);
    matmulWasm(a, halfToFloat32('bfloat16', bits, new Float32Array(N * K)), want, 1, K, N, false, true);
    const got = matmulHalfWeight(a, bits, 'bfloat16', 1, 1, K, N, false, true, K, 0);
    expect(got.every((x, i) => Object.is(x, want[i]))).toBe(true);
  });

  it('rejects bad input with a clear error', () => {
    const f = new Float32Array(4);
    expect(() => matmulWasm(f, f, f, 2, 2, 2, false, false)).not.toThrow();
    expect(() => matmulWasm(f, f, new Float32Array(3), 2, 2, 2, false, false)).toThrow(/matmulBatchedWasm: out has length 3/);
    expect(() => matmulWasm(f, f, f, 2, 1.5, 2, false, false)).toThrow(/dimension K/);
    expect(() => matmulWasm(new Float64Array(4) as unknown as Float32Array, f, f, 2, 2, 2, false, false))
      .toThrow(/a must be a Float32Array, got Float64Array/);
  });
});
