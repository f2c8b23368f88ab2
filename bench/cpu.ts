// CPU benchmarks (tinybench): matmul GFLOP/s for the reference triple loop, the fast packed 4×4 kernel on one
// thread, its worker-thread version, and the WebAssembly SIMD kernel (1 thread and threaded); fused attention
// forward and backward time.
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
import { getCpuThreads } from '../src/backend/cpu/kernels/thread-pool.js';
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

async function benchMatmul(quick: boolean): Promise<BenchRow[]> {
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
    const variants: Array<[string, number, () => void, number]> = [
      ['reference', 1, () => matmulBatchedReference(a, b, out, batch, n, n, n, false, false, n * n, n * n), 0.5],
      ['fast 1 thread', 1, () => matmulBatched(a, b, out, batch, n, n, n, false, false, n * n, n * n), 4],
      [`threaded x${threads}`, threads,
        () => matmulBatchedThreaded(a, b, out, batch, n, n, n, false, false, n * n, n * n), 4 * threads],
      // WebAssembly SIMD (float32 accumulation, like BLAS): what the CPU backend uses for float32 tensors
      ['wasm simd 1 thread', 1, () => matmulBatchedWasm(a, b, out, batch, n, n, n, false, false, n * n, n * n), 30],
      [`wasm simd x${threads}`, threads,
        () => matmulBatchedAuto(a, b, out, batch, n, n, n, false, false, n * n, n * n), 30 * threads],
    ];
    for (const [variant, t, fn, guessGflops] of variants) {
      const ms = await timeIt(`matmul ${variant} ${shape}`, fn, flops / guessGflops / 1e6);
      rows.push({ section: 'cpu matmul', variant, shape, ms, flops, gflops: flops / ms / 1e6, threads: t });
    }
  }
  return rows;
}

async function benchAttention(quick: boolean): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const H = 4, D = 64;
  const threads = getCpuThreads();
  for (const T of quick ? [128, 256] : [128, 256, 512, 1024]) {
    const dims = { B: 1, Tq: T, Tk: T, Hq: H, Hkv: H, D, scale: 1 / Math.sqrt(D) };
    const n = T * H * D;
    const q = randomArray(n, 3), k = randomArray(n, 4), v = randomArray(n, 5), dOut = randomArray(n, 6);
    const kvStart = new Int32Array(T); // causal: query t sees keys 0..t
    const kvEnd = Int32Array.from({ length: T }, (_, t) => t + 1);
    const out = new Float32Array(n), lse = new Float32Array(H * T);
    const dq = new Float32Array(n), dk = new Float32Array(n), dv = new Float32Array(n);
    const pairs = (H * T * (T + 1)) / 2;
    const dense = 4 * H * T * T * D;
    const shape = `T=${T} H=${H} D=${D} causal`;
    const fwd = () => attentionForward(q, k, v, kvStart, kvEnd, dims, out, lse);
    const bwd = () => attentionBackward(q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv);
    const fwdT = () => attentionForwardThreaded(q, k, v, kvStart, kvEnd, dims, out, lse);
    const bwdT = () => attentionBackwardThreaded(q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv);
    fwd();
    const variants: Array<[string, number, () => void, number, number]> = [
      ['forward', 1, fwd, 4 * pairs * D, dense],
      ['backward', 1, bwd, 10 * pairs * D, 2.5 * dense],
      ['forward+backward', 1, () => { fwd(); bwd(); }, 14 * pairs * D, 3.5 * dense],
      [`forward threaded x${threads}`, threads, fwdT, 4 * pairs * D, dense],
      [`backward threaded x${threads}`, threads, bwdT, 10 * pairs * D, 2.5 * dense],
      [`forward+backward threaded x${threads}`, threads, () => { fwdT(); bwdT(); }, 14 * pairs * D, 3.5 * dense],
    ];
    for (const [variant, t, fn, flops, denseFlops] of variants) {
      const ms = await timeIt(`attention ${variant} ${shape}`, fn, flops / (3e6 * t));
      rows.push({
        section: 'cpu attention', variant, shape, ms, flops, gflops: flops / ms / 1e6, threads: t,
        denseGflops: denseFlops / ms / 1e6,
      });
    }
  }
  return rows;
}

/** Runs the CPU benchmarks; `quick` keeps to small sizes (for CI). */
export async function benchCpu(opts: { quick: boolean }): Promise<BenchRow[]> {
  return [...(await benchMatmul(opts.quick)), ...(await benchAttention(opts.quick))];
}

/** Machine description recorded next to the rows. */
export function cpuInfo(): { cpu: string; cores: number; node: string; threads: number } {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, threads: getCpuThreads() };
}
