// matmul.spec.ts — the WebGPU batched matmul (tiled and naive) equals a float64 loop reference within the
// f32 error bound gamma_{K+1} * sum_k |a_ik||b_kj| (see reference.ts), for all transposes, broadcast batch
// strides and sizes that do not divide the 64x64 tile.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeMatmul, vec4Ok } from '../../src/backend/webgpu/kernels/matmul.js';
import { useGpu, RUN_WEBGPU } from './gpu-setup.js';
import { checkMatmulKernel as check, matmulShapeArb as shapeArb, matmulTiled, toMatmulShape as toShape } from '../properties/checks.js';

const gpu = useGpu();

describe.runIf(RUN_WEBGPU)('webgpu matmul', () => {
  it('tiled kernel equals the f64 reference for random shapes, transposes and broadcast batches', async () => {
    const ctx = gpu();
    await matmulTiled.run({ ctx, numRuns: 40 }); // shared with the demo page (spec/properties/checks.ts)
  });

  it('vec4 kernel equals the f64 reference on shapes with K, N (and M if transA) divisible by 4', async () => {
    const ctx = gpu();
    const vec4Arb = shapeArb.map((r) => ({ ...r, K: 4 * Math.ceil(r.K / 4), N: 4 * Math.ceil(r.N / 4), M: r.transA ? 4 * Math.ceil(r.M / 4) : r.M }));
    await fc.assert(
      fc.asyncProperty(vec4Arb, async (r) => {
        const s = toShape(r);
        expect(vec4Ok(s)).toBe(true);
        await check(ctx, s, r.seed, 'vec4');
      }),
      { numRuns: 40 },
    );
    expect(() => encodeMatmul(ctx, ctx.createBuffer(64), ctx.createBuffer(64), ctx.createBuffer(64), { batch: 1, M: 2, K: 3, N: 4, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 }, 'vec4')).toThrow(/vec4 kernel needs/);
  });

  it('naive kernel (the plain reference kernel, never chosen by the backend) equals the f64 reference', async () => {
    const ctx = gpu();
    await fc.assert(fc.asyncProperty(shapeArb, (r) => check(ctx, toShape(r), r.seed, 'naive')), { numRuns: 15 });
  });

  it('handles the edge sizes 1, 3, 17, 65 and 1000', async () => {
    const ctx = gpu();
    const sizes: Array<[number, number, number]> = [[1, 1, 1], [3, 17, 65], [65, 65, 65], [1000, 3, 17], [17, 1000, 3], [3, 65, 1000]];
    for (const [M, K, N] of sizes) {
      for (const [transA, transB] of [[false, false], [true, true]] as const) {
        for (const variant of ['tiled', 'naive'] as const) {
          await check(ctx, { batch: 1, M, K, N, transA, transB, aBatchStride: M * K, bBatchStride: K * N }, M * 7 + N, variant);
        }
      }
    }
    const vec4Sizes: Array<[number, number, number]> = [[1, 4, 4], [3, 16, 68], [1000, 4, 20], [17, 1000, 4], [4, 64, 1000]];
    for (const [M, K, N] of vec4Sizes) {
      for (const [transA, transB] of [[false, false], [false, true], [M % 4 === 0, false]] as const) {
        await check(ctx, { batch: 1, M, K, N, transA, transB, aBatchStride: M * K, bBatchStride: K * N }, M + K + N, 'vec4');
      }
    }
  });

  it('K = 0 gives zeros and an empty batch dispatches nothing', async () => {
    const ctx = gpu();
    const out = ctx.upload(new Float32Array(6).fill(7));
    const a = ctx.upload(new Float32Array(1));
    encodeMatmul(ctx, a, a, out, { batch: 1, M: 2, K: 0, N: 3, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 });
    expect(Array.from(await ctx.readF32(out, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    ctx.release(out);
    ctx.release(a);
  });

  it('rejects buffers that are too small, naming the op', () => {
    const ctx = gpu();
    const a = ctx.upload(new Float32Array(4));
    expect(() =>
      encodeMatmul(ctx, a, a, a, { batch: 1, M: 4, K: 4, N: 4, transA: false, transB: false, aBatchStride: 16, bBatchStride: 16 }),
    ).toThrow(/webgpu matmul: buffers too small/);
    ctx.release(a);
  });
});
