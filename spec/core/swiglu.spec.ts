// ops.swiglu (src/ops/swiglu.ts), the fused SwiGLU gate, against the unfused ops.mul(ops.silu(a), b) it replaces:
// the same values (the same bits on the CPU, whose fused forward rounds silu first, as the unfused silu does),
// gradients that agree with the unfused graph's and with finite differences, and clear errors for bad input.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ops, Rng, Tensor } from '../../src/index.js';
import { gradcheck, randomTensor64 } from '../helpers/gradcheck.js';
import { seedArb, shapeArb, RUNS } from '../helpers/arbitraries.js';

function gradsOf(f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor, seed: Tensor): [Float64Array, Float64Array] {
  a.grad = null;
  b.grad = null;
  ops.backward(ops.sum(ops.mul(f(a, b), seed)));
  return [a.grad!.dataSync() as Float64Array, b.grad!.dataSync() as Float64Array];
}

describe('ops.swiglu', () => {
  it('equals mul(silu(a), b) bit for bit, in float32 (wasm kernels) and float64', () => {
    fc.assert(fc.property(shapeArb(3, 40), seedArb, fc.constantFrom('float32', 'float64') as fc.Arbitrary<'float32' | 'float64'>,
      (shape, seed, dtype) => {
        const rng = new Rng(seed);
        const a = ops.rand(shape, rng, -8, 8, { dtype }), b = ops.rand(shape, rng, -2, 2, { dtype });
        expect(ops.swiglu(a, b).dataSync()).toEqual(ops.mul(ops.silu(a), b).dataSync());
      }), { numRuns: RUNS });
  });

  it('has the gradients of the unfused graph (float64; both evaluate s(1 + x(1 - s)) up to rounding)', () => {
    fc.assert(fc.property(shapeArb(3, 6), seedArb, (shape, seed) => {
      const rng = new Rng(seed);
      const a = randomTensor64(shape, rng), b = randomTensor64(shape, rng);
      const r = ops.rand(shape, rng, -1, 1, { dtype: 'float64' });
      const [fa, fb] = gradsOf((x, y) => ops.swiglu(x, y), a, b, r);
      const [ua, ub] = gradsOf((x, y) => ops.mul(ops.silu(x), y), a, b, r);
      // a handful of float64 roundings on each side, and terms of size ≤ |g·b|·(1 + |x|) (|x| < 3 here)
      for (let i = 0; i < fa.length; i++) {
        expect(Math.abs(fa[i] - ua[i])).toBeLessThanOrEqual(1e-14 * (1 + Math.abs(ua[i])) * 8);
        expect(Math.abs(fb[i] - ub[i])).toBeLessThanOrEqual(1e-14 * (1 + Math.abs(ub[i])));
      }
    }), { numRuns: RUNS });
  });

  it('passes gradcheck with independent gate and up (a swap of the two gradients would fail)', () => {
    fc.assert(fc.property(shapeArb(3, 5), seedArb, (shape, seed) => {
      const rng = new Rng(seed);
      const a = randomTensor64(shape, rng), b = randomTensor64(shape, rng);
      gradcheck((x, y) => ops.swiglu(x, y), [a, b], rng);
    }), { numRuns: RUNS });
  });

  it('refuses different shapes, dtypes and int tensors, naming them', () => {
    const a = ops.zeros([2, 3]), b = ops.zeros([3, 2]);
    expect(() => ops.swiglu(a, b)).toThrow('swiglu: gate [2, 3] and up [3, 2] must have the same shape');
    expect(() => ops.swiglu(a, ops.zeros([2, 3], { dtype: 'float64' }))).toThrow('swiglu: dtype mismatch (float32 vs float64); cast explicitly');
    expect(() => ops.swiglu(ops.zeros([2], { dtype: 'int32' }), ops.zeros([2], { dtype: 'int32' }))).toThrow('swiglu: expected a float tensor, got int32 [2]');
  });
});
