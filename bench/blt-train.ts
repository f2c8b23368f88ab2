// BLT training-step benchmark (../shared/bench/README.md, beside the repository): bytes/s of one full optimisation step of the
// small BLT (../shared/bench/blt-small/config.json, 7.7M trained parameters) on a batch of 4 × 512 bytes.
//
// One step = forward, mean cross-entropy over all 4·512 targets, backward, global grad-norm clip 1.0, AdamW
// (lr 4e-4, betas 0.9/0.95, eps 1e-8, weight decay 0.1) over every parameter except the entropy model's,
// all inside one scope. Inputs: 4 rows of 513 ids, BOS (1) then uniform ids in [4, 260) from a seeded Rng;
// ids 0..511 go in, ids 1..512 are the targets. Patch lengths are fixed, per row 1, 4, 5, 4, 5, ... with the
// last one cut so they sum to 512 (115 patches); the entropy model is not run.
// Reported: the median of `steps` (default 5) timed steps after one untimed warm-up step, as
// bytes/s = 2048 / median step time. Reference (same machine class, 2 cores): PyTorch 2.13 CPU, Hugging Face
// implementation, ~5,000 bytes/s with 2 threads and ~3,900 with 1.
//
// Measured here (2-vCPU development VM shared with other jobs, Node 20): 3.95 s per step on 2026-11-26, ~0.83 s
// (~2,450 bytes/s) with 2 threads on 2026-12-03, against 0.33-0.36 s for PyTorch in the same session
// (docs/benchmarks.md has the pairs). On a busy machine the 2-thread figure falls towards the 1-thread one.
//
// Run alone: `npm run build && node dist/bench/blt-train.js [--device cpu|webgpu] [--steps N] [--threads N]
// [--config FILE]`.
// With BLT_CPU_PROFILE=1 the CPU backend times every kernel by name and a table is printed after the steps
// (see src/backend/cpu/profiler.ts); the profile adds a little overhead, so take bytes/s from a plain run.

import '../src/index.js'; // the Node entry: installs the CPU backend (worker_threads, BLT_CPU_PROFILE) and Dawn
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { cpuProfile } from '../src/backend/cpu/profiler.js';
import { getCpuThreads, setCpuThreads } from '../src/backend/cpu/kernels/thread-pool.js';
import { enableRelaxedSimd } from '../src/backend/cpu/kernels/wasm/node-flags.js';
import { wasmSimdLevel } from '../src/backend/cpu/kernels/wasm/simd-features.js';
import { initBlt } from '../src/blt/checkpoint.js';
import type { BltConfig } from '../src/blt/config/types.js';
import { smallConfig } from '../src/blt/config/shapes.js';
import { loadBltConfigFile } from '../src/blt/config/file.js';
import * as ops from '../src/ops/index.js';
import { AdamW } from '../src/optim/adamw.js';
import { clipGradNorm } from '../src/optim/clip.js';
import { Rng } from '../src/tensor/random.js';
import { scopeAsync } from '../src/tensor/scope.js';
import { sharedPath } from '../src/io/shared-dir.js';

/** The benchmark's model config (the shared file; smallConfig() has the same shapes when it is absent). */
export const BLT_SMALL_CONFIG = sharedPath('bench', 'blt-small', 'config.json');

export const BATCH = 4;
export const SEQ = 512;
/** PyTorch 2.13 CPU, 2 threads, on the project's 2-core development machine (bench README). */
export const PYTORCH_CPU_BYTES_PER_SECOND = 5000;

export interface BltTrainBenchOptions {
  device: 'cpu' | 'webgpu';
  /** timed steps after the warm-up step (default 5) */
  steps?: number;
  /** CPU threads for the threaded matmul/attention kernels (default: all cores; 1 = single-threaded) */
  threads?: number;
  /** HF config.json of the model (default BLT_SMALL_CONFIG) */
  configPath?: string;
  /** called after every step with its index (-1 = warm-up) and time */
  onStep?: (step: number, ms: number, loss: number, cpuMs: number) => void;
}

export interface BltTrainBenchResult {
  /** 2048 / median step time */
  bytesPerSecond: number;
  /** wall time of every timed step (the warm-up step is not included) */
  stepMs: number[];
  /**
   * CPU time (user + system, all threads of the process) of every timed step: on a shared, busy machine this
   * moves much less than wall time, so it is the better number to compare two versions of the code with.
   */
  stepCpuMs: number[];
}

/** Batch ids [B, SEQ + 1]: BOS then uniform ids in [4, 260) (seeded). */
export function benchIds(seed = 0): Int32Array {
  const rng = new Rng(seed);
  const ids = new Int32Array(BATCH * (SEQ + 1)); // [B, SEQ + 1]
  for (let b = 0; b < BATCH; b++) {
    ids[b * (SEQ + 1)] = 1; // BOS
    for (let t = 1; t <= SEQ; t++) ids[b * (SEQ + 1) + t] = 4 + rng.int(256);
  }
  return ids;
}

/** One row of patch lengths: 1, then 4, 5, 4, 5, ..., the last cut so they sum to `total`. */
export function benchPatchLengths(total = SEQ): number[] {
  const out = [1];
  let sum = 1;
  for (let i = 0; sum < total; i++) {
    const L = Math.min(i % 2 === 0 ? 4 : 5, total - sum);
    out.push(L);
    sum += L;
  }
  return out;
}

async function benchConfig(path: string | undefined): Promise<BltConfig> {
  const p = path ?? BLT_SMALL_CONFIG;
  if (existsSync(p)) return loadBltConfigFile(p);
  if (path !== undefined) throw new Error(`benchBltTrain: config file ${path} does not exist`);
  return smallConfig();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs 1 warm-up + `steps` timed training steps of the benchmark and returns bytes/s and the step times. */
export async function benchBltTrain(opts: BltTrainBenchOptions): Promise<BltTrainBenchResult> {
  const steps = opts.steps ?? 5;
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`benchBltTrain: steps must be an integer >= 1, got ${steps}`);
  if (opts.threads !== undefined) setCpuThreads(opts.threads);
  let closeDevice = (): void => {};
  if (opts.device === 'webgpu') {
    const { initWebGpu, destroyWebGpu } = await import('../src/backend/webgpu/index.js');
    await initWebGpu();
    closeDevice = destroyWebGpu; // so Node can exit afterwards
  }
  try {
    return await runSteps(opts, steps);
  } finally {
    closeDevice();
  }
}

async function runSteps(opts: BltTrainBenchOptions, steps: number): Promise<BltTrainBenchResult> {
  const cfg = await benchConfig(opts.configPath);
  const model = initBlt(cfg, 0);
  if (opts.device !== 'cpu') model.to(opts.device);
  // every parameter except the (frozen, unused) entropy model's
  const params = model.namedParameters().filter(([name]) => !name.startsWith('model.patcher.')).map(([, t]) => t);
  const optimizer = new AdamW(params, { lr: 4e-4, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });

  const all = benchIds(0);
  const inputs: number[][] = [], targets: number[][] = [];
  for (let b = 0; b < BATCH; b++) {
    const row = Array.from(all.subarray(b * (SEQ + 1), (b + 1) * (SEQ + 1)));
    inputs.push(row.slice(0, SEQ)); // ids 0..511
    targets.push(row.slice(1)); // ids 1..512
  }
  const lengths = Array.from({ length: BATCH }, () => benchPatchLengths(SEQ));

  const step = async (): Promise<number> => scopeAsync(async () => {
    const loss = model.loss(inputs, lengths, targets);
    ops.backward(loss);
    const { coef } = await clipGradNorm(params, 1.0);
    optimizer.step({ gradScale: coef });
    optimizer.zeroGrad();
    return (await loss.data())[0];
  });

  const stepMs: number[] = [], stepCpuMs: number[] = [];
  for (let s = -1; s < steps; s++) {
    if (s === 0) cpuProfile.reset(); // the profile covers the timed steps only
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const loss = await step();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    if (!Number.isFinite(loss)) throw new Error(`benchBltTrain: loss ${loss} at step ${s} is not finite`);
    if (s >= 0) { stepMs.push(ms); stepCpuMs.push(cpuMs); }
    opts.onStep?.(s, ms, loss, cpuMs);
  }
  return { bytesPerSecond: (BATCH * SEQ) / (median(stepMs) / 1000), stepMs, stepCpuMs };
}

function parseArgs(argv: string[]): BltTrainBenchOptions {
  const o: BltTrainBenchOptions = { device: 'cpu' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--device' && (v === 'cpu' || v === 'webgpu')) { o.device = v; i++; }
    else if (a === '--steps' && v !== undefined) { o.steps = Number(v); i++; }
    else if (a === '--threads' && v !== undefined) { o.threads = Number(v); i++; }
    else if (a === '--config' && v !== undefined) { o.configPath = v; i++; }
    else throw new Error(`blt-train bench: bad argument '${a}' (expected --device cpu|webgpu, --steps N, --threads N, --config FILE)`);
  }
  return o;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  await enableRelaxedSimd(); // before any kernel module is built (src/backend/cpu/kernels/wasm/node-flags.ts)
  const threads = opts.device === 'cpu' ? ` (${opts.threads ?? getCpuThreads()} CPU thread(s) for matmul/attention)` : '';
  console.log(`# BLT training step, batch ${BATCH} x ${SEQ} bytes, device ${opts.device}${threads}, wasm kernels at SIMD level '${wasmSimdLevel()}'`);
  const r = await benchBltTrain({
    ...opts,
    onStep: (s, ms, loss, cpuMs) => console.log(`${s < 0 ? 'warm-up' : `step ${s}`}: ${ms.toFixed(0)} ms ` +
      `(CPU time ${cpuMs.toFixed(0)} ms), loss ${loss.toFixed(4)}`),
  });
  const ms = median(r.stepMs);
  console.log(`median step ${ms.toFixed(0)} ms (min ${Math.min(...r.stepMs).toFixed(0)}, median CPU time ` +
    `${median(r.stepCpuMs).toFixed(0)} ms) -> ${r.bytesPerSecond.toFixed(0)} bytes/s ` +
    `(${(r.bytesPerSecond / PYTORCH_CPU_BYTES_PER_SECOND).toFixed(2)}x PyTorch CPU 2 threads, ${PYTORCH_CPU_BYTES_PER_SECOND} bytes/s)`);
  if (cpuProfile.enabled) {
    const n = r.stepMs.length;
    console.log(`\n## CPU kernels by kind, over ${n} steps\n${cpuProfile.table(n, 40, cpuProfile.byKind())}`);
    console.log(`\n## CPU kernels by size, over ${n} steps\n${cpuProfile.table(n, 40)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
