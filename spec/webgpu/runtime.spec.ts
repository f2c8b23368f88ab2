// runtime.spec.ts — the WebGPU runtime pieces: 2-D dispatch folding, size classes, buffer pool reuse and
// deferred release, batcher flush policy, asynchronous error reporting, and the live-buffer leak check.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { foldGroups, MAX_GROUPS_PER_DIM } from '../../src/backend/webgpu/dispatch.js';
import { sizeClass } from '../../src/backend/webgpu/buffer-pool.js';
import { encodeMatmul } from '../../src/backend/webgpu/kernels/matmul.js';
import { encodeAttention, encodeAttentionBackward, encodeAttentionDelta } from '../../src/backend/webgpu/kernels/attention.js';
import { BufferUsage } from '../../src/backend/webgpu/gpu.js';
import { useGpu, RUN_WEBGPU } from './gpu-setup.js';

describe('dispatch folding and size classes (no GPU needed)', () => {
  it('foldGroups covers every group with both dimensions within the limit and O(sqrt n) waste', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_GROUPS_PER_DIM * MAX_GROUPS_PER_DIM }), (n) => {
        const [x, y, z] = foldGroups(n);
        expect(z).toBe(1);
        expect(x).toBeLessThanOrEqual(MAX_GROUPS_PER_DIM);
        expect(y).toBeLessThanOrEqual(MAX_GROUPS_PER_DIM);
        expect(x * y).toBeGreaterThanOrEqual(n);
        expect(x * y - n).toBeLessThan(Math.max(x, 1));
      }),
      { numRuns: 200 },
    );
    expect(() => foldGroups(MAX_GROUPS_PER_DIM * MAX_GROUPS_PER_DIM + 1)).toThrow(/exceed/);
  });

  it('sizeClass rounds up to a multiple of 16 wasting at most 25% above 4 KiB', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 30 }), (bytes) => {
        const c = sizeClass(bytes);
        expect(c).toBeGreaterThanOrEqual(bytes);
        expect(c % 16).toBe(0);
        if (bytes > 4096) expect(c).toBeLessThanOrEqual(bytes * 1.25);
      }),
      { numRuns: 200 },
    );
  });
});

describe.runIf(RUN_WEBGPU)('webgpu runtime', () => {
  const gpu = useGpu();
  it('a 1-D launch of more than 65535 workgroups is folded and reaches every row', async () => {
    const ctx = gpu();
    // The Delta kernel is 1-D over rows; with D = 1 it computes delta[row] = out[row] * dOut[row].
    const rows = MAX_GROUPS_PER_DIM * 64 + 129; // 65538 groups of 64
    const ones = ctx.upload(new Float32Array(rows).fill(1));
    const idx = ctx.upload(Float32Array.from({ length: rows }, (_, i) => i % 1000));
    const delta = ctx.createBuffer(rows * 4);
    // B = 1, Tq = rows, Hq = 1: the Delta layout [B, Hq, Tq] equals the row order.
    encodeAttentionDelta(ctx, ones, idx, delta, { B: 1, Tq: rows, Hq: 1, D: 1 });
    const got = await ctx.readF32(delta, rows);
    let bad = -1;
    for (let i = 0; i < rows && bad < 0; i++) if (got[i] !== i % 1000) bad = i;
    expect(bad).toBe(-1);
    [ones, idx, delta].forEach((b) => ctx.release(b));
  });

  it('the pool reuses a released buffer only after the next submit', () => {
    const ctx = gpu();
    const usage = BufferUsage.STORAGE | BufferUsage.COPY_DST;
    const a = ctx.pool.acquire(1000, usage);
    ctx.pool.release(a);
    const b = ctx.pool.acquire(1000, usage);
    expect(b).not.toBe(a); // parked, not yet reusable
    ctx.pool.release(b);
    ctx.pool.recycle();
    const c = ctx.pool.acquire(1000, usage);
    expect([a, b]).toContain(c);
    ctx.pool.release(c);
    ctx.pool.recycle();
  });

  it('the batcher submits once per 32 dispatches and before a read', async () => {
    const ctx = gpu();
    ctx.flush();
    const a = ctx.upload(new Float32Array(4).fill(1));
    const c = ctx.createBuffer(16);
    const before = ctx.batcher.submits;
    const s = { batch: 1, M: 2, K: 2, N: 2, transA: false, transB: false, aBatchStride: 4, bBatchStride: 4 };
    for (let i = 0; i < 40; i++) encodeMatmul(ctx, a, a, c, s);
    expect(ctx.batcher.submits - before).toBe(1);
    expect(Array.from(await ctx.readF32(c, 4))).toEqual([2, 2, 2, 2]);
    expect(ctx.batcher.submits - before).toBe(2);
    ctx.release(a);
    ctx.release(c);
  });

  it('an invalid kernel surfaces as an Error from the next read, naming the kernel', async () => {
    const ctx = gpu();
    const buf = ctx.createBuffer(16);
    ctx.run({ name: 'broken_kernel_for_test', wgsl: '@compute @workgroup_size(1) fn main() { let x: f32 = 1u; }' }, [], undefined, [1, 1, 1]);
    await expect(ctx.readF32(buf, 4)).rejects.toThrow(/broken_kernel_for_test/);
    ctx.release(buf);
  });

  it('live buffers return to the baseline after matmul and attention forward + backward', async () => {
    const ctx = gpu();
    ctx.flush();
    const baseline = ctx.stats();
    let allocatedAfterRound1 = 0;
    for (let round = 0; round < 3; round++) {
      const a = ctx.upload(new Float32Array(64 * 64).fill(0.5));
      const c = ctx.createBuffer(64 * 64 * 4);
      encodeMatmul(ctx, a, a, c, { batch: 1, M: 64, K: 64, N: 64, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 });
      const s = { B: 1, Tq: 8, Tk: 64, Hq: 8, Hkv: 8, D: 8, scale: 0.125 }; // q, k, v, out all 64 x 64 floats
      const range = ctx.upload(new Int32Array(8).fill(0));
      const end = ctx.upload(new Int32Array(8).fill(64));
      const out = ctx.createBuffer(64 * 64 * 4);
      const lse = ctx.createBuffer(64 * 4);
      encodeAttention(ctx, a, a, a, range, end, out, lse, s);
      const g = { dq: ctx.createBuffer(64 * 64 * 4), dk: ctx.createBuffer(64 * 64 * 4), dv: ctx.createBuffer(64 * 64 * 4), delta: ctx.createBuffer(64 * 4) };
      encodeAttentionBackward(ctx, { q: a, k: a, v: a, out, lse, dOut: c, kvStart: range, kvEnd: end }, g, s);
      await ctx.readF32(g.dq, 4);
      [a, c, range, end, out, lse, ...Object.values(g)].forEach((b) => ctx.release(b));
      ctx.flush();
      if (round === 0) allocatedAfterRound1 = ctx.stats().bytesAllocated;
    }
    ctx.flush();
    expect(ctx.stats().live).toBe(baseline.live);
    expect(ctx.stats().bytesInUse).toBe(baseline.bytesInUse);
    // Every buffer of rounds 2 and 3 came from the pool: nothing new was allocated after round 1.
    expect(ctx.stats().bytesAllocated).toBe(allocatedAfterRound1);
  });
});
