/**
 * 16-bit weights (bfloat16, float16) on the CPU: kept as 16-bit words, read only by matmul's weight operand and
 * embedding tables, computed in float32 and equal to the float32 computation on the decoded weights; refused
 * everywhere else and for training, naming op and shape.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ops, Rng, AdamW, noGrad, getBackend, Tensor, keep } from '../../src/index.js';
import { matmulHalfWeight } from '../../src/backend/cpu/half-weights.js';
import { float32ToHalf, halfToFloat32, type HalfFormat } from '../../src/tensor/half.js';

/** A 16-bit CPU tensor of random values and the float32 tensor of its exact values. */
function halfPair(format: HalfFormat, shape: number[], rng: Rng): { half: Tensor; f32: Tensor } {
  const n = shape.reduce((a, b) => a * b, 1);
  const bits = float32ToHalf(format, Float32Array.from({ length: n }, () => rng.normal()));
  const be = getBackend('cpu');
  return {
    half: new Tensor(be.uploadHalf(bits, format), shape),
    f32: new Tensor(be.upload(halfToFloat32(format, bits, new Float32Array(n))), shape),
  };
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

describe('16-bit weights on the CPU', () => {
  it('matmul with a 16-bit weight equals the float32 matmul of its values, bit for bit, in any column blocking', () => {
    fc.assert(fc.property(fc.constantFrom<HalfFormat>('bfloat16', 'float16'), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 70 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 200 }), fc.nat(),
      (format, M, K, N, transA, transB, block, seed) => {
        const rng = new Rng(seed);
        const w = halfPair(format, transB ? [N, K] : [K, N], rng);
        const a = ops.randn(transA ? [K, M] : [M, K], rng);
        const want = ops.matmul(a, w.f32, { transA, transB }).dataSync();
        expect(same(ops.matmul(a, w.half, { transA, transB }).dataSync(), want)).toBe(true);
        // the kernel's blocks of output columns (forced small here) do not change a single bit
        const got = matmulHalfWeight(a.dataSync() as Float32Array, w.half.halfBits(), format, 1, M, K, N, transA, transB, 0, 0, block);
        expect(same(got, want)).toBe(true);
      }), { numRuns: 60 });
  });

  it('matmul broadcasts one 16-bit weight over a batch of inputs, and a Linear-shaped weight works as [N, K]^T', () => {
    const rng = new Rng(3);
    const w = halfPair('bfloat16', [6, 5], rng);
    const x = ops.randn([2, 3, 5], rng);
    expect(same(ops.matmul(x, w.half, { transB: true }).dataSync(), ops.matmul(x, w.f32, { transB: true }).dataSync())).toBe(true);
  });

  it('embedding from a 16-bit table returns the float32 rows', () => {
    const rng = new Rng(5);
    const t = halfPair('float16', [7, 3], rng);
    const ids = ops.tensor(new Int32Array([6, 0, 6, 2]), [2, 2]);
    const got = ops.embedding(t.half, ids);
    expect(got.dtype).toBe('float32');
    expect(got.shape).toEqual([2, 2, 3]);
    expect(same(got.dataSync(), ops.embedding(t.f32, ids).dataSync())).toBe(true);
  });

  it('cast to 16 bits rounds to nearest even and back is exact; data() gives the values', async () => {
    const x = ops.tensor([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -0.1, 3e38]);
    const b = ops.cast(x, 'bfloat16');
    expect(b.dtype).toBe('bfloat16');
    expect(Array.from(b.halfBits())).toEqual([0x3f80, 0x3f80, 0x3f82, 0xbdcd, 0x7f62]);
    expect(Array.from(await b.data())).toEqual(Array.from(ops.cast(b, 'float32').dataSync()));
    expect(Array.from(ops.cast(b, 'float32').dataSync()).slice(0, 3)).toEqual([1, 1, 1 + 2 ** -6]);
    expect(ops.cast(ops.cast(x, 'float16'), 'float32').dataSync()[4]).toBe(Infinity);
    expect(() => b.dataSync()).toThrow(/bfloat16 \(16-bit storage\).*await t\.data\(\)/);
  });

  it('every other op refuses a 16-bit tensor, naming the op and the shape', () => {
    const { half } = halfPair('bfloat16', [2, 3], new Rng(1));
    const f = ops.ones([2, 3]);
    expect(() => ops.add(half, f)).toThrow(/add: input \[2, 3\] is bfloat16 \(16-bit storage\)/);
    expect(() => ops.exp(half)).toThrow(/exp: input \[2, 3\] is bfloat16/);
    expect(() => ops.rmsNorm(half, ops.ones([3]), 1e-5)).toThrow(/rmsNorm: input \[2, 3\] is bfloat16/);
    expect(() => ops.transpose(half)).toThrow(/permute: input \[2, 3\] is bfloat16/);
    expect(() => ops.narrow(half, 0, 0, 1)).toThrow(/slice: input \[2, 3\] is bfloat16/);
    expect(() => ops.matmul(half, ops.ones([3, 2]))).toThrow(/matmul: input \[2, 3\] is bfloat16/);
    expect(() => ops.matmul(ops.ones([2, 2], { dtype: 'float64' }), half)).toThrow(/matmul: input \[2, 3\] is bfloat16/);
    expect(ops.reshape(half, [3, 2]).dtype).toBe('bfloat16'); // a reshape shares the storage: allowed
  });

  it('refuses to train a 16-bit weight: in the forward under grad mode, and in AdamW', () => {
    const w = halfPair('bfloat16', [4, 3], new Rng(2)).half;
    w.requiresGrad = true;
    w.name = 'lm_head.weight';
    keep(w);
    const x = ops.ones([2, 3]);
    expect(() => ops.matmul(x, w, { transB: true })).toThrow(/matmul: weight 'lm_head\.weight' \[4, 3\] is bfloat16.*cannot be trained/);
    expect(() => ops.embedding(w, ops.tensor(new Int32Array([1]), [1]))).toThrow(/embedding: weight 'lm_head\.weight' \[4, 3\] is bfloat16/);
    expect(noGrad(() => ops.matmul(x, w, { transB: true })).shape).toEqual([2, 4]); // inference is fine
    expect(() => new AdamW([w])).toThrow(/AdamW: parameter 'lm_head\.weight' \[4, 3\] is bfloat16.*float32/);
  });

  it('gradients still flow to float32 inputs through a frozen 16-bit weight (dA = g W)', () => {
    const rng = new Rng(9);
    const w = halfPair('bfloat16', [4, 3], rng);
    const xa = ops.randn([2, 3], rng, 1, 0, { requiresGrad: true });
    const xb = ops.tensor(xa.dataSync().slice(), [2, 3], { requiresGrad: true });
    ops.backward(ops.sum(ops.matmul(xa, w.half, { transB: true })));
    ops.backward(ops.sum(ops.matmul(xb, w.f32, { transB: true })));
    expect(same(xa.grad!.dataSync(), xb.grad!.dataSync())).toBe(true);
  });
});
