// checks.ts — fast-check properties that run both in the test suite and in the demo page (web/, "Property
// checks"), on whatever WebGPU device the caller opened: Dawn on SwiftShader under vitest, the visitor's GPU in
// a browser. One definition each; the specs call them (spec/webgpu/matmul.spec.ts, attention.spec.ts,
// spec/core/gradients.spec.ts, spec/webgpu/integration/properties.spec.ts) and the page runs PAGE_CHECKS.
//
// So that a browser can run them, nothing here imports vitest, Node or a package entry: a failed property
// throws an Error (fast-check's report: the counterexample, its seed and the first violated element), and the
// caller must already have installed the CPU backend and, for the model checks, `initWebGpu()`.

import fc from 'fast-check';
import type { WebGpuContext } from '../../src/backend/webgpu/context.js';
import { encodeMatmul, type MatmulShape, type MatmulVariant } from '../../src/backend/webgpu/kernels/matmul.js';
import { encodeAttention, encodeAttentionBackward, type AttentionShape } from '../../src/backend/webgpu/kernels/attention.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { globalThresholdStarts } from '../../src/blt/patching/rules.js';
import type { Blt } from '../../src/blt/blt.js';
import * as ops from '../../src/ops/index.js';
import { Rng } from '../../src/tensor/random.js';
import { gradcheck, randomTensor64 } from '../helpers/gradcheck.js';
import { idsAndLengthsArb, idsArb, maxDiffRows, microModel } from '../blt/model/fixtures.js';
import { randomF32, rng } from './random.js';
import { firstViolation, refAttention, refAttentionBackward, refMatmul, type AttnInputs } from './reference.js';

/** What a check runs on. */
export interface CheckEnv {
  /** the WebGPU device (kernel-level checks; the others need none) */
  ctx?: WebGpuContext;
  /** fast-check runs per property; each check has its own default, sized for the test suite */
  numRuns?: number;
}

export interface PropertyCheck {
  name: string;
  group: 'WebGPU vs float64 reference' | 'gradients' | 'paper invariants';
  /** where it runs: 'webgpu' needs the device context, and the model checks the installed backend (initWebGpu) */
  device: 'webgpu' | 'cpu';
  run(env: CheckEnv): Promise<void>;
}

function needCtx(env: CheckEnv): WebGpuContext {
  if (!env.ctx) throw new Error('this check runs WebGPU kernels: pass the device context (env.ctx)');
  return env.ctx;
}

/** Throws unless got[i] is within bound[i] of want[i] everywhere (NaN and infinities must match). */
function within(what: string, got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, info: string): void {
  const bad = firstViolation(got, want, bound);
  if (bad >= 0) throw new Error(`${what}[${bad}] = ${got[bad]}, want ${want[bad]} ± ${bound[bad]} (${info})`);
}

// ---- matmul ----------------------------------------------------------------------------------------------

/** Runs one WebGPU matmul kernel on seeded inputs and checks it against the f64 reference and its bound. */
export async function checkMatmulKernel(ctx: WebGpuContext, s: MatmulShape, seed: number, variant: MatmulVariant): Promise<void> {
  const aLen = (s.batch - 1) * s.aBatchStride + s.M * s.K;
  const bLen = (s.batch - 1) * s.bBatchStride + s.K * s.N;
  const a = randomF32(Math.max(aLen, 1), seed);
  const b = randomF32(Math.max(bLen, 1), seed + 1);
  const ga = ctx.upload(a);
  const gb = ctx.upload(b);
  const gc = ctx.createBuffer(Math.max(1, s.batch * s.M * s.N) * 4);
  encodeMatmul(ctx, ga, gb, gc, s, variant);
  const got = await ctx.readF32(gc, s.batch * s.M * s.N);
  [ga, gb, gc].forEach((x) => ctx.release(x));
  const { c, bound } = refMatmul(a, b, s);
  within(`${variant} matmul C`, got, c, bound, `${JSON.stringify(s)} seed ${seed}`);
}

export const matmulShapeArb = fc.record({
  batch: fc.integer({ min: 1, max: 3 }),
  M: fc.integer({ min: 1, max: 70 }),
  K: fc.integer({ min: 1, max: 70 }),
  N: fc.integer({ min: 1, max: 70 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  broadcastA: fc.boolean(),
  broadcastB: fc.boolean(),
  seed: fc.integer({ min: 0, max: 2 ** 30 }),
});

export type MatmulShapeRecord = typeof matmulShapeArb extends fc.Arbitrary<infer T> ? T : never;

export function toMatmulShape(r: MatmulShapeRecord): MatmulShape {
  return {
    batch: r.batch, M: r.M, K: r.K, N: r.N, transA: r.transA, transB: r.transB,
    aBatchStride: r.broadcastA ? 0 : r.M * r.K,
    bBatchStride: r.broadcastB ? 0 : r.K * r.N,
  };
}

export const matmulTiled: PropertyCheck = {
  name: 'tiled matmul equals the float64 reference within its rounding bound γₖ₊₁·Σ|a||b| (random shapes, transposes, broadcast batches)',
  group: 'WebGPU vs float64 reference',
  device: 'webgpu',
  run: (env) => {
    const ctx = needCtx(env);
    return fc.assert(fc.asyncProperty(matmulShapeArb, (r) => checkMatmulKernel(ctx, toMatmulShape(r), r.seed, 'tiled')), { numRuns: env.numRuns ?? 40 });
  },
};

// ---- attention ---------------------------------------------------------------------------------------------

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

export function attentionInputs(s: AttentionShape, kind: MaskKind, seed: number): AttnInputs {
  return {
    q: randomF32(s.B * s.Tq * s.Hq * s.D, seed),
    k: randomF32(s.B * s.Tk * s.Hkv * s.D, seed + 1),
    v: randomF32(s.B * s.Tk * s.Hkv * s.D, seed + 2),
    ...makeRanges(s, kind, seed + 3),
  };
}

export async function runAttentionForward(ctx: WebGpuContext, s: AttentionShape, x: AttnInputs): Promise<{ out: Float32Array; lse: Float32Array }> {
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

const attentionDimsArb = fc
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

export const attentionForward: PropertyCheck = {
  name: 'fused attention forward (out and log-sum-exp) equals the float64 reference, for random shapes, GQA groups and key-range masks',
  group: 'WebGPU vs float64 reference',
  device: 'webgpu',
  run: (env) => fc.assert(fc.asyncProperty(attentionDimsArb, async ({ s, kind, seed }) => {
    const ctx = needCtx(env);
    const x = attentionInputs(s, kind, seed);
    const got = await runAttentionForward(ctx, s, x);
    const ref = refAttention(s, x);
    const info = `${JSON.stringify(s)} ${kind} seed ${seed}`;
    within('out', got.out, ref.out, ref.outBound, info);
    within('lse', got.lse, ref.lse, ref.lseBound, info);
  }), { numRuns: env.numRuns ?? 20 }),
};

export const attentionBackward: PropertyCheck = {
  name: 'fused attention backward (dq, dk, dv summed over GQA groups) equals the float64 reference',
  group: 'gradients',
  device: 'webgpu',
  run: (env) => fc.assert(fc.asyncProperty(attentionDimsArb, async ({ s, kind, seed }) => {
    const ctx = needCtx(env);
    const x = attentionInputs(s, kind, seed);
    const fwd = await runAttentionForward(ctx, s, x);
    const dOut = randomF32(fwd.out.length, seed + 9);
    const up = (a: Float32Array | Int32Array): GPUBuffer => ctx.upload(a.length ? a : new Float32Array(1));
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
    within('dq', dq, ref.dq, ref.dqBound, info);
    within('dk', dk, ref.dk, ref.dkBound, info);
    within('dv', dv, ref.dv, ref.dvBound, info);
  }), { numRuns: env.numRuns ?? 15 }),
};

/** Finite differences in float64 on the CPU (spec/helpers/gradcheck.ts states the tolerances). */
export const attentionGradcheck: PropertyCheck = {
  name: 'attention gradients in q, k and v equal central finite differences (float64, CPU; ranges, grouped heads)',
  group: 'gradients',
  device: 'cpu',
  run: async ({ numRuns = 40 }) => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }),
      fc.constantFrom([1, 1], [2, 1], [2, 2], [4, 2]), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (B, Tq, Tk, [Hq, Hkv], D, seed) => {
        const r = new Rng(seed);
        const q = randomTensor64([B, Tq, Hq, D], r), k = randomTensor64([B, Tk, Hkv, D], r), v = randomTensor64([B, Tk, Hkv, D], r);
        const start = new Int32Array(B * Tq), end = new Int32Array(B * Tq);
        for (let i = 0; i < B * Tq; i++) { start[i] = r.int(Tk); end[i] = start[i] + 1 + r.int(Tk - start[i]); }
        const ranges = { start: ops.tensor(start, [B, Tq]), end: ops.tensor(end, [B, Tq]) };
        gradcheck((a, b, c) => ops.attention(a, b, c, ranges), [q, k, v], r);
      }), { numRuns });
  },
};

// ---- the paper's invariants, on a micro BLT on WebGPU ---------------------------------------------------------

let gpuModel: Blt | null = null;
/** One micro BLT (spec/blt/model/fixtures.ts) moved to the GPU, made on first use. */
function microGpuModel(): Blt {
  gpuModel ??= microModel(0).to('webgpu');
  return gpuModel;
}

async function gpuLogits(m: Blt, ids: number[], lengths: number[]): Promise<Float32Array> {
  const { logits } = noGrad(() => m.forwardWithPatches([ids], [lengths]));
  const data = (await logits.data()) as Float32Array;
  logits.dispose();
  return data;
}

/**
 * Causality (§3: every stage only looks back): with the patches fixed, changing byte j changes no logit before
 * position j. Those logits come from exactly the same float operations on the same inputs (the changed byte lies
 * outside every key range and segment they read), so "unchanged" means within 1e-6; and the logits from j on
 * must change (> 1e-4), so the check cannot pass vacuously.
 */
export const causality: PropertyCheck = {
  name: 'changing a future byte never changes earlier logits (fixed patches, micro BLT on WebGPU)',
  group: 'paper invariants',
  device: 'webgpu',
  run: ({ numRuns = 12 }) => fc.assert(fc.asyncProperty(idsAndLengthsArb(2, 16), fc.nat(), fc.integer({ min: 4, max: 259 }),
    async ({ ids, lengths }, jr, b) => {
      const j = 1 + (jr % (ids.length - 1));
      fc.pre(ids[j] !== b);
      const changed = [...ids];
      changed[j] = b;
      const m = microGpuModel();
      const a = await gpuLogits(m, ids, lengths), c = await gpuLogits(m, changed, lengths);
      const before = maxDiffRows(a, c, j), after = maxDiffRows(a, c, ids.length, 260, j);
      if (!(before <= 1e-6)) throw new Error(`logits before position ${j} moved by ${before} when byte ${j} changed`);
      if (!(after > 1e-4)) throw new Error(`logits from position ${j} on did not change (max ${after}): the check saw nothing`);
    }), { numRuns }),
};

/**
 * Entropies (eq. 1) computed on the GPU lie in [0, ln 260]. Error bound: each of the 260 terms p log p carries a
 * relative error of at most ~10u (exp, log, the softmax division, the product) and their sum γ_260, so the f32
 * result exceeds the exact value by at most (10 + 260) u Σ|p log p| ≤ 270 · 2^-24 · ln 260 < 1e-4.
 */
export const entropyRange: PropertyCheck = {
  name: 'next-byte entropies from the entropy model on WebGPU lie in [0, ln 260]',
  group: 'paper invariants',
  device: 'webgpu',
  run: ({ numRuns = 12 }) => fc.assert(fc.asyncProperty(idsArb(1, 24), async (ids) => {
    const h = await microGpuModel().computeEntropies([ids]);
    for (let i = 0; i < h.length; i++) {
      if (!(h[i] >= -1e-4 && h[i] <= Math.log(260) + 1e-4)) throw new Error(`entropy ${h[i]} at position ${i} is outside [0, ln 260]`);
    }
  }), { numRuns }),
};

/** The global-threshold rule (§2.3): a byte starts a patch iff H > θ, so raising θ can only remove starts. */
export const thresholdMonotone: PropertyCheck = {
  name: 'raising the entropy threshold θ never adds a patch start (global-threshold rule)',
  group: 'paper invariants',
  device: 'cpu',
  run: async ({ numRuns = 100 }) => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 5.6, noNaN: true }), { minLength: 1, maxLength: 64 }),
      fc.double({ min: 0, max: 5.6, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }), (ent, t1, dt) => {
        const low = new Set(globalThresholdStarts(ent, t1, 'N-offline'));
        for (const s of globalThresholdStarts(ent, t1 + dt, 'N-offline')) {
          if (!low.has(s)) throw new Error(`start ${s} appears at θ = ${t1 + dt} but not at θ = ${t1}`);
        }
      }), { numRuns });
  },
};

/** What the demo page runs, in this order. */
export const PAGE_CHECKS: PropertyCheck[] = [
  matmulTiled, attentionForward, attentionBackward, attentionGradcheck, causality, entropyRange, thresholdMonotone,
];
