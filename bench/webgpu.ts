// bench/webgpu.ts — WebGPU kernel benchmarks: matmul (naive vs tiled vs vec4) and fused attention forward/backward.
//
// Protocol (the usual way to time GPU kernels without readback): `warmup` first compiles every pipeline on tiny shapes; then R runs are encoded back to
// back and we wait once for the queue (`onSubmittedWorkDone`), so the time is kernel time without readback.
// GFLOP/s = FLOPs / seconds with FLOPs = 2 M N K for matmul; attention uses bench/cpu.ts's convention (4 D per
// allowed (query, key) pair and head forward, 2.5x that backward; denseGflops counts the full T x T).
// On SwiftShader (a CPU Vulkan driver) the numbers measure WebGPU-on-CPU, not a GPU.

import os from 'node:os';
import type { BenchRow } from './cpu.js';
import { WebGpuContext } from '../src/backend/webgpu/context.js';
import { encodeMatmul, matmulFlops, vec4Ok, type MatmulVariant } from '../src/backend/webgpu/kernels/matmul.js';
import { encodeAttention, encodeAttentionBackward, type AttentionShape } from '../src/backend/webgpu/kernels/attention.js';

/** A row of the shared benchmark table (bench/cpu.ts) plus the adapter that produced it. */
export type WebGpuBenchRow = BenchRow & { device: string };

/** Seconds per run of `encode` over `reps` runs (pipelines are compiled beforehand by `warmup`). */
async function timeRuns(ctx: WebGpuContext, encode: () => void, reps: number): Promise<number> {
  await ctx.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) encode();
  await ctx.sync();
  return (performance.now() - t0) / 1000 / reps;
}

function filled(ctx: WebGpuContext, n: number, seed: number): GPUBuffer {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37 + seed) * 0.5;
  return ctx.upload(a);
}

/**
 * Compile every pipeline the benchmark uses by running it once on a tiny shape: a pipeline depends on the
 * kernel and its overrides, not on the sizes, so the timed runs below include no compilation.
 */
async function warmup(ctx: WebGpuContext): Promise<void> {
  const x = filled(ctx, 64 * 64, 0);
  const y = ctx.createBuffer(64 * 64 * 4);
  const shape = { batch: 1, M: 64, K: 64, N: 64, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
  for (const variant of ['naive', 'tiled', 'vec4'] as MatmulVariant[]) encodeMatmul(ctx, x, x, y, shape, variant);
  const s: AttentionShape = { B: 1, Tq: 16, Tk: 16, Hq: 4, Hkv: 4, D: 64, scale: 1 / 8 };
  const st = ctx.upload(new Int32Array(16));
  const en = ctx.upload(new Int32Array(16).fill(16));
  const small = ctx.createBuffer(64 * 4);
  encodeAttention(ctx, x, x, x, st, en, y, small, s);
  const grads = { dq: ctx.createBuffer(64 * 64 * 4), dk: ctx.createBuffer(64 * 64 * 4), dv: ctx.createBuffer(64 * 64 * 4), delta: ctx.createBuffer(64 * 4) };
  encodeAttentionBackward(ctx, { q: x, k: x, v: x, out: x, lse: small, dOut: x, kvStart: st, kvEnd: en }, grads, s);
  await ctx.sync();
  [x, y, st, en, small, ...Object.values(grads)].forEach((b) => ctx.release(b));
}

export async function benchWebGpu(opts: { quick: boolean }): Promise<WebGpuBenchRow[]> {
  // While JS awaits the GPU, Dawn busy-polls the main thread; on a CPU driver that steals a core from the
  // "GPU". Lowering this thread's priority gives the driver threads the CPU (device README). Benchmarks only.
  try {
    os.setPriority(0, 19);
  } catch {
    /* not permitted: keep going */
  }
  const ctx = await WebGpuContext.create();
  const device = ctx.adapterDescription;
  console.log(`WebGPU adapter: ${device}`);
  const rows: WebGpuBenchRow[] = [];
  const report = (section: string, variant: string, shape: string, seconds: number, flops: number, denseFlops?: number) => {
    const ms = seconds * 1000;
    const row: WebGpuBenchRow = { section, variant, shape, ms, flops, gflops: flops / ms / 1e6, threads: 1, device };
    if (denseFlops !== undefined) row.denseGflops = denseFlops / ms / 1e6;
    rows.push(row);
    console.log(`${section.padEnd(17)} ${variant.padEnd(9)} ${shape.padEnd(24)} ${ms.toFixed(2).padStart(10)} ms ${row.gflops.toFixed(2).padStart(9)} GFLOP/s`);
  };
  const slowDevice = ctx.isCpuDriver;
  await warmup(ctx);
  try {
    // ---- matmul -----------------------------------------------------------------------------------------
    // On a CPU driver 2048^3 takes minutes per run, so the full sweep stops at 1024 there.
    const sizes = opts.quick ? [64, 128, 256] : slowDevice ? [64, 128, 256, 512, 1024] : [64, 128, 256, 512, 1024, 2048, 4096];
    for (const n of sizes) {
      const a = filled(ctx, n * n, 1);
      const b = filled(ctx, n * n, 2);
      const c = ctx.createBuffer(n * n * 4);
      const shape = { batch: 1, M: n, K: n, N: n, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
      const flops = matmulFlops(shape);
      // Enough runs for ~0.5 s of work at 1 GFLOP/s on a CPU driver, or 20 on a GPU.
      const reps = slowDevice ? Math.max(1, Math.min(20, Math.round(5e8 / flops))) : 20;
      for (const variant of ['naive', 'tiled', 'vec4'] as MatmulVariant[]) {
        if (variant === 'naive' && slowDevice && n > (opts.quick ? 256 : 512)) continue; // minutes on a CPU driver
        if (variant === 'vec4' && !vec4Ok(shape)) continue;
        const s = await timeRuns(ctx, () => encodeMatmul(ctx, a, b, c, shape, variant), reps);
        report('webgpu matmul', variant, `${n}x${n}x${n}`, s, flops);
      }
      [a, b, c].forEach((x) => ctx.release(x));
    }

    // ---- attention (B = 1, 4 heads, d = 64, causal: the same setting and FLOP convention as bench/cpu.ts) ----
    const Ts = opts.quick ? [128, 256] : slowDevice ? [128, 256, 512, 1024] : [128, 256, 512, 1024, 2048];
    for (const T of Ts) {
      const s: AttentionShape = { B: 1, Tq: T, Tk: T, Hq: 4, Hkv: 4, D: 64, scale: 1 / 8 };
      const n = T * s.Hq * s.D;
      const q = filled(ctx, n, 1);
      const k = filled(ctx, n, 2);
      const v = filled(ctx, n, 3);
      const dOut = filled(ctx, n, 4);
      const kvStart = ctx.upload(new Int32Array(T).fill(0));
      const kvEnd = ctx.upload(Int32Array.from({ length: T }, (_, t) => t + 1));
      const out = ctx.createBuffer(n * 4);
      const lse = ctx.createBuffer(T * s.Hq * 4);
      const grads = { dq: ctx.createBuffer(n * 4), dk: ctx.createBuffer(n * 4), dv: ctx.createBuffer(n * 4), delta: ctx.createBuffer(T * s.Hq * 4) };
      // FLOPs over the (query, key) pairs the causal mask allows: 4 D per pair and head forward, 10 D backward;
      // denseGflops divides the full T x T count by the same time.
      const pairs = (s.Hq * T * (T + 1)) / 2;
      const dense = 4 * s.Hq * T * T * s.D;
      const flops = 4 * pairs * s.D;
      const reps = slowDevice ? Math.max(1, Math.min(10, Math.round(3e8 / flops))) : 20;
      const shape = `T=${T} H=4 D=64 causal`;
      const fwd = await timeRuns(ctx, () => encodeAttention(ctx, q, k, v, kvStart, kvEnd, out, lse, s), reps);
      report('webgpu attention', 'forward', shape, fwd, flops, dense);
      const bwd = await timeRuns(
        ctx,
        () => encodeAttentionBackward(ctx, { q, k, v, out, lse, dOut, kvStart, kvEnd }, grads, s),
        reps,
      );
      report('webgpu attention', 'backward', shape, bwd, 2.5 * flops, 2.5 * dense);
      [q, k, v, dOut, kvStart, kvEnd, out, lse, ...Object.values(grads)].forEach((x) => ctx.release(x));
    }
  } finally {
    ctx.destroy();
  }
  return rows;
}
