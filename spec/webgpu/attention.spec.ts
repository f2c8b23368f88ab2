// attention.spec.ts — the fused WebGPU attention forward and backward equal float64 loop references
// (reference.ts, which states the error model: score dot products of length D, WGSL exp accuracy
// (3 + 2|x|) ULP, sums of length Tk / Tq·G) for random sizes, GQA groupings and key-range masks,
// including empty ranges (out = 0, lse = -inf, zero gradients).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { WebGpuContext } from '../../src/backend/webgpu/context.js';
import { encodeAttention, encodeAttentionBackward, type AttentionShape } from '../../src/backend/webgpu/kernels/attention.js';
import { randomF32, rng, useGpu } from './gpu-setup.js';
import { firstViolation, refAttention, refAttentionBackward, type AttnInputs } from './reference.js';

const gpu = useGpu();

type MaskKind = 'full' | 'causal' | 'window' | 'random';

/** Key ranges [start, end) per (b, t): the masks BLT uses, plus random (possibly empty or out-of-bounds) ones. */
function makeRanges(s: AttentionShape, kind: MaskKind, seed: number): { kvStart: Int32Array; kvEnd: Int32Array } {
  const r = rng(seed);
  const kvStart = new Int32Array(s.B * s.Tq);
  const kvEnd = new Int32Array(s.B * s.Tq);
  for (let i = 0; i < s.B * s.Tq; i++) {
    const t = i % s.Tq;
    if (kind === 'full') [kvStart[i], kvEnd[i]] = [0, s.Tk];
    else if (kind === 'causal') [kvStart[i], kvEnd[i]] = [0, Math.min(t + 1, s.Tk)];
    else if (kind === 'window') [kvStart[i], kvEnd[i]] = [Math.max(0, t - 4), Math.min(t + 1, s.Tk)];
    else {
      const a = Math.floor(r() * (s.Tk + 3)) - 1;
      const len = r() < 0.15 ? 0 : Math.floor(r() * (s.Tk + 2));
      [kvStart[i], kvEnd[i]] = [a, a + len];
    }
  }
  return { kvStart, kvEnd };
}

function makeInputs(s: AttentionShape, kind: MaskKind, seed: number): AttnInputs {
  return {
    q: randomF32(s.B * s.Tq * s.Hq * s.D, seed),
    k: randomF32(s.B * s.Tk * s.Hkv * s.D, seed + 1),
    v: randomF32(s.B * s.Tk * s.Hkv * s.D, seed + 2),
    ...makeRanges(s, kind, seed + 3),
  };
}

async function runForward(ctx: WebGpuContext, s: AttentionShape, x: AttnInputs) {
  const bufs = [x.q, x.k, x.v, x.kvStart, x.kvEnd].map((a) => ctx.upload(a.length ? a : new Float32Array(1)));
  const nOut = s.B * s.Tq * s.Hq * s.D;
  const nLse = s.B * s.Hq * s.Tq;
  const out = ctx.createBuffer(Math.max(nOut, 1) * 4);
  const lse = ctx.createBuffer(Math.max(nLse, 1) * 4);
  encodeAttention(ctx, bufs[0], bufs[1], bufs[2], bufs[3], bufs[4], out, lse, s);
  const res = { out: await ctx.readF32(out, nOut), lse: await ctx.readF32(lse, nLse) };
  [...bufs, out, lse].forEach((b) => ctx.release(b));
  return res;
}

const dimsArb = fc
  .record({
    B: fc.integer({ min: 1, max: 2 }),
    Tq: fc.integer({ min: 1, max: 80 }),
    Tk: fc.integer({ min: 1, max: 80 }),
    Hkv: fc.integer({ min: 1, max: 2 }),
    G: fc.integer({ min: 1, max: 3 }),
    D: fc.constantFrom(3, 33, 64), // vec4 tails (3, 33), the real head dim; tiles of 64 (D = 3) and 32 rows
    kind: fc.constantFrom<MaskKind>('full', 'causal', 'window', 'random'),
    seed: fc.integer({ min: 0, max: 2 ** 30 }),
  })
  .map((r) => ({
    s: { B: r.B, Tq: r.Tq, Tk: r.Tk, Hq: r.Hkv * r.G, Hkv: r.Hkv, D: r.D, scale: 1 / Math.sqrt(r.D) },
    kind: r.kind,
    seed: r.seed,
  }));

function expectWithin(what: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, ctxInfo: string) {
  const bad = firstViolation(got, want, bound);
  expect(bad, bad < 0 ? '' : `${what}[${bad}] = ${got[bad]}, want ${want[bad]} ± ${bound[bad]} (${ctxInfo})`).toBe(-1);
}

describe('webgpu attention', () => {
  it('forward equals the f64 reference (out and lse) for random shapes and masks', async () => {
    const ctx = gpu();
    if (!ctx) return;
    await fc.assert(
      fc.asyncProperty(dimsArb, async ({ s, kind, seed }) => {
        const x = makeInputs(s, kind, seed);
        const got = await runForward(ctx, s, x);
        const ref = refAttention(s, x);
        const info = `${JSON.stringify(s)} ${kind} seed ${seed}`;
        expectWithin('out', got.out, ref.out, ref.outBound, info);
        expectWithin('lse', got.lse, ref.lse, ref.lseBound, info);
      }),
      { numRuns: 20 },
    );
  });

  it('backward equals the f64 reference (dq, dk, dv summed over GQA groups)', async () => {
    const ctx = gpu();
    if (!ctx) return;
    await fc.assert(
      fc.asyncProperty(dimsArb, async ({ s, kind, seed }) => {
        const x = makeInputs(s, kind, seed);
        const fwd = await runForward(ctx, s, x);
        const dOut = randomF32(fwd.out.length, seed + 9);
        const up = (a: Float32Array | Int32Array) => ctx.upload(a.length ? a : new Float32Array(1));
        const t = { q: up(x.q), k: up(x.k), v: up(x.v), out: up(fwd.out), lse: up(fwd.lse), dOut: up(dOut), kvStart: up(x.kvStart), kvEnd: up(x.kvEnd) };
        const nQ = x.q.length;
        const nK = x.k.length;
        const grads = {
          dq: ctx.createBuffer(nQ * 4), dk: ctx.createBuffer(nK * 4), dv: ctx.createBuffer(nK * 4),
          delta: ctx.createBuffer(s.B * s.Hq * s.Tq * 4),
        };
        encodeAttentionBackward(ctx, t, grads, s);
        const dq = await ctx.readF32(grads.dq, nQ);
        const dk = await ctx.readF32(grads.dk, nK);
        const dv = await ctx.readF32(grads.dv, nK);
        [...Object.values(t), ...Object.values(grads)].forEach((b) => ctx.release(b));
        const ref = refAttentionBackward(s, x, fwd.out, fwd.lse, dOut);
        const info = `${JSON.stringify(s)} ${kind} seed ${seed}`;
        expectWithin('dq', dq, ref.dq, ref.dqBound, info);
        expectWithin('dk', dk, ref.dk, ref.dkBound, info);
        expectWithin('dv', dv, ref.dv, ref.dvBound, info);
      }),
      { numRuns: 15 },
    );
  });

  it('a query with an empty key range gets out = 0 exactly and lse = -inf', async () => {
    const ctx = gpu();
    if (!ctx) return;
    const s = { B: 1, Tq: 3, Tk: 5, Hq: 2, Hkv: 1, D: 4, scale: 0.5 };
    const x = { ...makeInputs(s, 'full', 5), kvStart: Int32Array.from([0, 2, 9]), kvEnd: Int32Array.from([0, 1, 12]) };
    const got = await runForward(ctx, s, x);
    expect(Array.from(got.out)).toEqual(new Array(24).fill(0));
    expect(Array.from(got.lse)).toEqual(new Array(6).fill(-Infinity));
  });

  it('rejects Hq not divisible by Hkv and oversized head dims', () => {
    const ctx = gpu();
    if (!ctx) return;
    const b = ctx.createBuffer(4);
    expect(() => encodeAttention(ctx, b, b, b, b, b, b, b, { B: 1, Tq: 1, Tk: 1, Hq: 3, Hkv: 2, D: 4, scale: 1 })).toThrow(/Hq=3 must be a multiple of Hkv=2/);
    expect(() => encodeAttention(ctx, b, b, b, b, b, b, b, { B: 1, Tq: 1, Tk: 1, Hq: 1, Hkv: 1, D: 129, scale: 1 })).toThrow(/D=129/);
    ctx.release(b);
  });
});
