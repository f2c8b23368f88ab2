// Quick matmul-only comparison against the peer (TensorFlow.js wasm backend, XNNPACK, one thread), rounds
// interleaved (ours 1 thread, ours threaded, tfjs, ours 1 thread, ...) so load from other processes hits all
// alike; prints each variant's median GFLOP/s and the ratios ours / tfjs. Faster to iterate on than `--only cpu`.
//   npm run build && node dist/bench/matmul-peer.js [--rounds R] [--shapes 512x512x512,2048x256x768,...]
// A shape is MxKxN: out[M, N] = A[M, K] · B[K, N] (both row-major, no transposes).

import '../src/index.js'; // installs the CPU backend with worker_threads
import { enableRelaxedSimd } from '../src/backend/cpu/kernels/wasm/node-flags.js';
import { getCpuThreads } from '../src/backend/cpu/kernels/thread-pool.js';
import { matmulBatchedWasm } from '../src/backend/cpu/kernels/wasm/matmul-wasm.js';
import { matmulBatchedAuto } from '../src/backend/cpu/kernels/wasm/matmul-dispatch.js';
import { wasmSimdLevel } from '../src/backend/cpu/kernels/wasm/simd-features.js';
import { tfjsMatmulShape, tfjsWasm } from './tfjs-peer.js';

function randomArray(n: number, seed: number): Float32Array {
  const arr = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = (s / 2 ** 32) * 2 - 1;
  }
  return arr;
}

/** Median ms of fn over calls filling ~`budgetMs` (at least 3), after 2 warm-up calls. */
function timeMs(fn: () => void, budgetMs: number): number {
  fn(); fn();
  const ts: number[] = [];
  const t0 = performance.now();
  while (ts.length < 3 || performance.now() - t0 < budgetMs) {
    const s = performance.now();
    fn();
    ts.push(performance.now() - s);
  }
  ts.sort((x, y) => x - y);
  return ts[ts.length >> 1];
}

async function main(): Promise<void> {
  await enableRelaxedSimd();
  const args = process.argv.slice(2);
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const rounds = Number(opt('--rounds') ?? 5);
  const shapes = (opt('--shapes') ?? '512x512x512,1024x1024x1024,2048x256x256,2048x256x1024,2048x1024x256,2048x128x512')
    .split(',').map((s) => s.split('x').map(Number));
  const t = await tfjsWasm();
  if (!t.tf) throw new Error(`tfjs-wasm did not load: ${t.why}`);
  const threads = getCpuThreads();
  console.log(`wasm level ${wasmSimdLevel()}, threads ${threads}, tfjs-wasm ${t.tf.version_core} 1 thread, ${rounds} rounds`);
  for (const [M, K, N] of shapes) {
    const a = randomArray(M * K, 1), b = randomArray(K * N, 2), out = new Float32Array(M * N);
    const flops = 2 * M * N * K;
    const peer = tfjsMatmulShape(t.tf, a, b, M, K, N);
    const variants: [string, () => void][] = [
      ['ours 1 thread', () => matmulBatchedWasm(a, b, out, 1, M, K, N, false, false, 0, 0)],
      [`ours x${threads}`, () => matmulBatchedAuto(a, b, out, 1, M, K, N, false, false, 0, 0)],
      ['tfjs-wasm 1 thread', peer.run],
    ];
    const ms = variants.map(() => [] as number[]);
    for (let r = 0; r < rounds; r++) {
      for (const [i, [, fn]] of variants.entries()) ms[i].push(timeMs(fn, 300));
    }
    peer.dispose();
    const med = ms.map((xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1]);
    const gf = med.map((m) => flops / m / 1e6);
    console.log(`${M}x${K}x${N}: ` + variants.map(([name], i) => `${name} ${gf[i].toFixed(1)} GFLOP/s`).join(', ')
      + ` | ratio 1T ${(gf[0] / gf[2]).toFixed(2)}x, x${threads} ${(gf[1] / gf[2]).toFixed(2)}x`);
  }
}

await main();
