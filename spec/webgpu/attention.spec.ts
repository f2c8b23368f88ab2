// attention.spec.ts — the fused WebGPU attention forward and backward equal float64 loop references
// (reference.ts, which states the error model: score dot products of length D, WGSL exp accuracy
// (3 + 2|x|) ULP, sums of length Tk / Tq·G) for random sizes, GQA groupings and key-range masks,
// including empty ranges (out = 0, lse = -inf, zero gradients).

import { describe, expect, it } from 'vitest';
import { encodeAttention } from '../../src/backend/webgpu/kernels/attention.js';
import { useGpu, RUN_WEBGPU } from './gpu-setup.js';
import { attentionBackward, attentionForward, attentionInputs as makeInputs, runAttentionForward as runForward } from '../properties/checks.js';

const gpu = useGpu();

describe.runIf(RUN_WEBGPU)('webgpu attention', () => {
  // the two properties are shared with the demo page (spec/properties/checks.ts)
  it('forward equals the f64 reference (out and lse) for random shapes and masks', async () => {
    const ctx = gpu();
    await attentionForward.run({ ctx, numRuns: 20 });
  });

  it('backward equals the f64 reference (dq, dk, dv summed over GQA groups)', async () => {
    const ctx = gpu();
    await attentionBackward.run({ ctx, numRuns: 15 });
  });

  it('a query with an empty key range gets out = 0 exactly and lse = -inf', async () => {
    const ctx = gpu();
    const s = { B: 1, Tq: 3, Tk: 5, Hq: 2, Hkv: 1, D: 4, scale: 0.5 };
    const x = { ...makeInputs(s, 'full', 5), kvStart: Int32Array.from([0, 2, 9]), kvEnd: Int32Array.from([0, 1, 12]) };
    const got = await runForward(ctx, s, x);
    expect(Array.from(got.out)).toEqual(new Array(24).fill(0));
    expect(Array.from(got.lse)).toEqual(new Array(6).fill(-Infinity));
  });

  it('rejects Hq not divisible by Hkv and oversized head dims', () => {
    const ctx = gpu();
    const b = ctx.createBuffer(4);
    expect(() => encodeAttention(ctx, b, b, b, b, b, b, b, { B: 1, Tq: 1, Tk: 1, Hq: 3, Hkv: 2, D: 4, scale: 1 })).toThrow(/Hq=3 must be a multiple of Hkv=2/);
    expect(() => encodeAttention(ctx, b, b, b, b, b, b, b, { B: 1, Tq: 1, Tk: 1, Hq: 1, Hkv: 1, D: 129, scale: 1 })).toThrow(/D=129/);
    ctx.release(b);
  });
});
