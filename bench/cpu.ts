// CPU benchmarks (tinybench): matmul GFLOP/s for the reference triple loop, the fast packed 4×4 JS kernel on one
// thread and threaded, and the WebAssembly SIMD kernel (1 thread and threaded, with relaxed-SIMD FMA and without
// where the engine has it); fused attention forward and backward (JS float64 kernels and the wasm float32 ones).
// The peer, TensorFlow.js's wasm backend (tfjs-peer.ts), is timed in the same run, its rounds interleaved
// with ours (timeInterleaved).
//
// FLOP counts: matmul 2·batch·M·N·K. Attention counts only the (query, key) pairs the mask allows ("pairs"):
// forward 4·D per pair per head (q·k and p·v), backward 10·D (recomputed q·k, dO·v, and the dq, dk, dv updates),
// the usual FlashAttention convention (backward = 2.5 × forward). A causal T×T mask allows T(T+1)/2 pairs;
// `denseGflops` instead divides 4·H·T²·D (what a kernel that materialises the full masked score matrix
// computes) by the same time, for comparison with such implementations.

import { availableParallelism, cpus } from 'node:os';
import { Bench } from 'tinybench';
import { attentionBackward, attentionForward } from '../src/backend/cpu/kernels/attention.js';
import { attentionBackwardThreaded, attentionForwardThreaded } from '../src/backend/cpu/kernels/attention-threads.js';
import { matmulBatched } from '../src/backend/cpu/kernels/matmul.js';
import { matmulBatchedReference, type FloatArray } from '../src/backend/cpu/kernels/matmul-reference.js';
import { matmulBatchedThreaded } from '../src/backend/cpu/kernels/matmul-threads.js';
import { getCpuThreads, setCpuThreads } from '../src/backend/cpu/kernels/thread-pool.js';
import { setWasmKernels } from '../src/backend/cpu/kernels/wasm/module.js';
import { setWasmSimdLevel, wasmSimdLevel, type WasmSimdLevel } from '../src/backend/cpu/kernels/wasm/simd-features.js';
import { tfjsAttention, tfjsMatmul, tfjsWasm } from './tfjs-peer.js';
import { matmulBatchedWasm } from '../src/backend/cpu/kernels/wasm/matmul-wasm.js';
import { matmulBatchedAuto } from '../src/backend/cpu/kernels/wasm/matmul-dispatch.js';

/** One measured line of the benchmark table. */
export interface BenchRow {
  /** Section of the report, e.g. 'cpu matmul', 'cpu attention' (a WebGPU section adds its own). */
  section: string;
  /** What ran, e.g. 'reference', 'fast 1 thread', 'threaded x2', 'forward', 'backward'. */
  variant: string;
  /** Problem size, e.g. '512x512x512', '8x[256x256x256]', 'T=1024 H=4 D=64 causal'. */
  shape: string;
  /** Median wall time of one call in milliseconds. */
  ms: number;
  /** Floating-point operations of one call. */
  flops: number;
  /** flops / time. */
  gflops: number;
  /** Threads used (1 = the calling thread only). */
  threads: number;
  /** Attention only: dense-equivalent GFLOP/s (see the header comment). */
  denseGflops?: number;
  /** Training steps only: bytes of the batch per second. */
  bytesPerSecond?: number;
}

function randomArray(n: number, seed: number): Float32Array {
  const arr = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = (s / 2 ** 32) * 2 - 1;
  }
  return arr;
}

/** Median time (ms) of `fn` under tinybench; slow tasks get fewer iterations. */
async function timeIt(name: string, fn: () => void, expectedMs: number): Promise<number> {
  const slow = expectedMs > 300;
  const bench = new Bench({
    name,
    time: slow ? 0 : 400,
    iterations: slow ? 2 : 5,
    warmup: !slow,
    warmupIterations: 5,
    warmupTime: 100,
  });
  if (slow) fn(); // one untimed call so the JIT has compiled the kernel
  bench.add(name, fn);
  await bench.run();
  const result = bench.tasks[0].result;
  if (result.state !== 'completed') {
    throw new Error(`bench ${name}: task ended in state ${result.state}`);
  }
  return result.latency.p50;
}

/** Median of a list of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** One variant of a case: its name, threads, the call to time, FLOPs and a setup run before each timing. */
interface Variant { variant: string; threads: number; fn: () => void; flops: number; denseFlops?: number; setup?: () => void }

/**
 * Times every variant of a case in `rounds` interleaved rounds (A B C, A B C, ...) and keeps each variant's
 * median over the rounds, so that a burst of load from other processes hits all variants alike.
 */
async function timeInterleaved(section: string, shape: string, variants: Variant[], rounds: number,
  guessGflops: (v: Variant) => number): Promise<BenchRow[]> {
  const ms = variants.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, v] of variants.entries()) {
      v.setup?.();
      ms[i].push(await timeIt(`${section} ${v.variant} ${shape}`, v.fn, v.flops / guessGflops(v) / 1e6));
    }
  }
  setWasmSimdLevel(null);
  setWasmKernels(true);
  return variants.map((v, i) => {
    const m = median(ms[i]);
    return {
      section, variant: v.variant, shape, ms: m, flops: v.flops, gflops: v.flops / m / 1e6, threads: v.threads,
      ...(v.denseFlops !== undefined ? { denseGflops: v.denseFlops / m / 1e6 } : {}),
    };
  });
}

/** The wasm variants: at the detected level, and at plain SIMD too when the detected one is 'relaxed'. */
function wasmLevels(): { level: WasmSimdLevel; name: string }[] {
  setWasmSimdLevel(null);
  const detected = wasmSimdLevel();
  return detected === 'relaxed'
    ? [{ level: 'relaxed', name: 'wasm relaxed-simd' }, { level: 'simd', name: 'wasm simd' }]
    : [{ level: 'simd', name: 'wasm simd' }];
}

async function benchMatmul(quick: boolean, t: TfjsLoad): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const threads = getCpuThreads();
  const cases: Array<{ batch: number; n: number }> = quick
    ? [{ batch: 1, n: 64 }, { batch: 1, n: 128 }, { batch: 1, n: 256 }, { batch: 8, n: 64 }]
    : [{ batch: 1, n: 64 }, { batch: 1, n: 128 }, { batch: 1, n: 256 }, { batch: 1, n: 512 }, { batch: 1, n: 1024 },
      { batch: 8, n: 256 }];
  for (const { batch, n } of cases) {
    const a = randomArray(batch * n * n, 1);
    const b = randomArray(batch * n * n, 2);
    const out: FloatArray = new Float32Array(batch * n * n);
    const flops = 2 * batch * n * n * n;
    const shape = batch === 1 ? `${n}x${n}x${n}` : `${batch}x[${n}x${n}x${n}]`;
    const variants: Variant[] = [
      { variant: 'reference', threads: 1, fn: () => matmulBatchedReference(a, b, out, batch, n, n, n, false, false, n * n, n * n), flops },
      { variant: 'JS fast 1 thread', threads: 1, fn: () => matmulBatched(a, b, out, batch, n, n, n, false, false, n * n, n * n), flops },
      { variant: `JS x${threads}`, threads, fn: () => matmulBatchedThreaded(a, b, out, batch, n, n, n, false, false, n * n, n * n), flops },
    ];
    // WebAssembly SIMD (float32 accumulation, like BLAS): what the CPU backend uses for float32 tensors
    for (const { level, name } of wasmLevels()) {
      const setup = () => setWasmSimdLevel(level);
      variants.push(
        { variant: `${name} 1 thread`, threads: 1, setup, fn: () => matmulBatchedWasm(a, b, out, batch, n, n, n, false, false, n * n, n * n), flops },
        { variant: `${name} x${threads}`, threads, setup, fn: () => matmulBatchedAuto(a, b, out, batch, n, n, n, false, false, n * n, n * n), flops },
      );
    }
    const peer = t.tf && batch === 1 ? tfjsMatmul(t.tf, a, b, n) : null;
    if (peer) variants.push({ variant: 'tfjs-wasm 1 thread', threads: 1, fn: peer.run, flops });
    rows.push(...await timeInterleaved('cpu matmul', shape, variants, quick ? 1 : 3,
      (v) => (v.variant === 'reference' ? 0.5 : v.variant.startsWith('JS') ? 4 * v.threads : 30 * v.threads)));
    peer?.dispose();
  }
  return rows;
}

async function benchAttention(quick: boolean, t: TfjsLoad): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const threads = getCpuThreads();
  // causal self-attention, one sequence, 4 heads of 64; then the shape of blt-small's local layers in its training
  // step (batch 4 × 512 bytes, 4 heads of 32)
  const shapes = (quick ? [128, 256] : [128, 256, 512, 1024]).map((T) => ({ B: 1, T, H: 4, D: 64 }));
  if (!quick) shapes.push({ B: 4, T: 512, H: 4, D: 32 });
  for (const { B, T, H, D } of shapes) {
    const dims = { B, Tq: T, Tk: T, Hq: H, Hkv: H, D, scale: 1 / Math.sqrt(D) };
    const n = B * T * H * D;
    const q = randomArray(n, 3), k = randomArray(n, 4), v = randomArray(n, 5), dOut = randomArray(n, 6);
    const kvStart = new Int32Array(B * T); // causal: query t sees keys 0..t
    const kvEnd = Int32Array.from({ length: B * T }, (_, i) => (i % T) + 1);
    const out = new Float32Array(n), lse = new Float32Array(B * H * T);
    const dq = new Float32Array(n), dk = new Float32Array(n), dv = new Float32Array(n);
    const pairs = (B * H * T * (T + 1)) / 2;
    const dense = 4 * B * H * T * T * D;
    const shape = `${B > 1 ? `B=${B} ` : ''}T=${T} H=${H} D=${D} causal`;
    // JS kernels (float64 sums) called directly; the dispatcher (attention-threads.ts) runs wasm for float32
    const fwdJs = () => attentionForward(q, k, v, kvStart, kvEnd, dims, out, lse);
    const bwdJs = () => attentionBackward(q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv);
    const fwd = () => attentionForwardThreaded(q, k, v, kvStart, kvEnd, dims, out, lse);
    const bwd = () => attentionBackwardThreaded(q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv);
    const F = 4 * pairs * D, Bf = 10 * pairs * D;
    const variants: Variant[] = [
      { variant: 'JS forward 1 thread', threads: 1, fn: fwdJs, flops: F, denseFlops: dense },
      { variant: 'JS backward 1 thread', threads: 1, fn: bwdJs, flops: Bf, denseFlops: 2.5 * dense },
    ];
    for (const { level, name } of wasmLevels()) {
      for (const th of [1, threads]) {
        const setup = () => { setWasmSimdLevel(level); setCpuThreads(th); };
        variants.push(
          { variant: `${name} forward x${th}`, threads: th, setup, fn: fwd, flops: F, denseFlops: dense },
          { variant: `${name} backward x${th}`, threads: th, setup, fn: bwd, flops: Bf, denseFlops: 2.5 * dense },
        );
      }
    }
    const peer = t.tf && B === 1 ? tfjsAttention(t.tf, q, k, v, H, T, D) : null;
    if (peer) variants.push({ variant: 'tfjs-wasm ops forward 1 thread', threads: 1, setup: () => setCpuThreads(threads), fn: peer.run, flops: F, denseFlops: dense });
    rows.push(...await timeInterleaved('cpu attention', shape, variants, quick ? 1 : 3,
      (x) => (x.variant.startsWith('JS') ? 3 : 20 * x.threads)));
    setCpuThreads(threads);
    peer?.dispose();
  }
  return rows;
}

type TfjsLoad = Awaited<ReturnType<typeof tfjsWasm>>;

/** Runs the CPU benchmarks; `quick` keeps to small sizes (for CI). */
export async function benchCpu(opts: { quick: boolean }): Promise<BenchRow[]> {
  const t = await tfjsWasm();
  console.log(t.tf ? `tfjs-wasm ${t.tf.version_core}: one thread, SIMD ${t.simd ? 'on' : 'off'}`
    : `tfjs-wasm: not run: ${t.why}`);
  console.log(`wasm kernels: ${wasmSimdLevel() === 'relaxed' ? 'relaxed SIMD (f32x4.relaxed_madd)' : 'plain SIMD (no relaxed SIMD in this engine)'}`);
  return [...(await benchMatmul(opts.quick, t)), ...(await benchAttention(opts.quick, t))];
}

/** Machine description recorded next to the rows. */
export function cpuInfo(): { cpu: string; cores: number; node: string; threads: number } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, threads: getCpuThreads() };
}
