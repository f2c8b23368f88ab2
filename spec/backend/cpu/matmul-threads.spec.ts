// Tests for the worker-thread matmul (matmul-threads.ts): it must agree bit for bit with the single-threaded
// kernel (each output element is computed by one thread with the same summation order), stay within the
// float64-accumulation error model of the reference (see matmul.spec.ts), handle SharedArrayBuffer-backed
// operands, and a process that used the pool must exit by itself (the workers are unref()'d).

import '../../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { matmulBatched } from '../../../src/backend/cpu/kernels/matmul.js';
import { matmulBatchedReference, type FloatArray } from '../../../src/backend/cpu/kernels/matmul-reference.js';
import {
  MATMUL_THREAD_MIN_FLOPS, getCpuThreads, matmulBatchedThreaded, matmulThreaded, setCpuThreads, shutdownCpuThreads,
} from '../../../src/backend/cpu/kernels/matmul-threads.js';

function randomArray(n: number, f64: boolean, seed: number, shared = false): FloatArray {
  const bytes = n * (f64 ? 8 : 4);
  const buf = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const arr = f64 ? new Float64Array(buf) : new Float32Array(buf);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    arr[i] = (s / 2 ** 32) * 2 - 1;
  }
  return arr;
}

afterAll(() => {
  shutdownCpuThreads();
});

describe('matmulThreaded', () => {
  const initialThreads = getCpuThreads();

  it('equals the single-threaded kernel bit for bit, all transposes, above the threshold', () => {
    setCpuThreads(3); // more participants than this 2-core CI box has still must be correct
    const M = 131, K = 130, N = 129; // odd sizes: ragged last row block and column panel
    expect(2 * M * N * K).toBeGreaterThan(MATMUL_THREAD_MIN_FLOPS);
    const a = randomArray(M * K, false, 1);
    const b = randomArray(K * N, false, 2);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const single = new Float32Array(M * N);
        const threaded = new Float32Array(M * N).fill(NaN);
        matmulBatched(a, b, single, 1, M, K, N, transA, transB, 0, 0);
        matmulThreaded(a, b, threaded, M, K, N, transA, transB);
        expect(threaded).toEqual(single);
      }
    }
    setCpuThreads(initialThreads);
  });

  it('a job with fewer units than the pool has threads leaves a worker out, and later jobs still use it', () => {
    // Node workers wait for the next job on a shared counter and take its message synchronously; a worker that
    // gets no message for a job (2 units on 3 threads: the second worker) must go on waiting, not take a later
    // job's message early or hang. Big jobs before and after the small one check every worker still answers.
    setCpuThreads(3);
    const cases: [number, number, number][] = [[131, 130, 129], [8, 2048, 160], [131, 130, 129], [8, 2048, 160]];
    for (const [M, K, N] of cases) { // M = 8: two 4-row units
      expect(2 * M * N * K).toBeGreaterThan(MATMUL_THREAD_MIN_FLOPS);
      const a = randomArray(M * K, false, M), b = randomArray(K * N, false, N);
      const single = new Float32Array(M * N), threaded = new Float32Array(M * N).fill(NaN);
      matmulBatched(a, b, single, 1, M, K, N, false, false, 0, 0);
      matmulThreaded(a, b, threaded, M, K, N, false, false);
      expect(threaded).toEqual(single);
    }
    setCpuThreads(initialThreads);
  });

  it('batched with a broadcast operand, float64 and shared buffers, agrees with the reference', () => {
    setCpuThreads(2);
    const batch = 5, M = 37, K = 96, N = 70;
    expect(2 * batch * M * N * K).toBeGreaterThan(MATMUL_THREAD_MIN_FLOPS);
    for (const shared of [false, true]) {
      const a = randomArray(batch * M * K, true, 3, shared);
      const b = randomArray(K * N, true, 4, shared); // broadcast: one B for every batch item
      const want = new Float64Array(batch * M * N);
      const single = new Float64Array(batch * M * N);
      const got = shared ? new Float64Array(new SharedArrayBuffer(8 * batch * M * N)) : new Float64Array(batch * M * N);
      matmulBatchedReference(a, b, want, batch, M, K, N, false, true, M * K, 0);
      matmulBatched(a, b, single, batch, M, K, N, false, true, M * K, 0);
      matmulBatchedThreaded(a, b, got, batch, M, K, N, false, true, M * K, 0);
      expect(Array.from(got)).toEqual(Array.from(single));
      // float64 accumulation of K terms of size ≤ 1: |err| ≤ 2·K·2⁻⁵³·K + 2⁻⁵²·|c| (see matmul.spec.ts)
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(2 * K * K * 2 ** -53 + 2 ** -52 * Math.abs(want[i]));
      }
    }
    setCpuThreads(initialThreads);
  });

  it('setCpuThreads(1) turns threading off and bad values are rejected', () => {
    setCpuThreads(1);
    expect(getCpuThreads()).toBe(1);
    const n = 140;
    const a = randomArray(n * n, false, 5);
    const out = new Float32Array(n * n);
    const single = new Float32Array(n * n);
    matmulThreaded(a, a, out, n, n, n, false, false);
    matmulBatched(a, a, single, 1, n, n, n, false, false, 0, 0);
    expect(out).toEqual(single);
    expect(() => setCpuThreads(0)).toThrow(/setCpuThreads/);
    expect(() => setCpuThreads(1.5)).toThrow(/setCpuThreads/);
    setCpuThreads(initialThreads);
  });

  it('a process that used the pool exits by itself (workers are unref()d)', () => {
    // Transpile the kernel files to plain ESM in a temp dir and run a tiny script in a fresh node process.
    const dir = mkdtempSync(join(tmpdir(), 'matmul-threads-'));
    try {
      const srcDir = fileURLToPath(new URL('../../../src/backend/cpu/kernels/', import.meta.url));
      // recursive: the kernels import ./wasm/*.ts too
      for (const file of readdirSync(srcDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        const js = ts.transpileModule(readFileSync(join(srcDir, file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText;
        writeFileSync(join(dir, file.replace(/\.ts$/, '.js')), js);
      }
      // the Node worker host, as the package entry hands it to the pool (its only import is a type)
      const platform = fileURLToPath(new URL('../../../src/platform/node.ts', import.meta.url));
      writeFileSync(join(dir, 'node-platform.js'), ts.transpileModule(readFileSync(platform, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText);
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      writeFileSync(join(dir, 'main.js'), `
        import { matmulThreaded, setCpuThreads } from './matmul-threads.js';
        import { matmulReference } from './matmul-reference.js';
        import { setWorkerHost } from './thread-pool.js';
        import { nodeWorkers } from './node-platform.js';
        setWorkerHost(nodeWorkers);
        setCpuThreads(2);
        const n = 256, a = new Float32Array(n * n).map((_, i) => (i % 7) - 3);
        const got = new Float32Array(n * n), want = new Float32Array(n * n);
        matmulThreaded(a, a, got, n, n, n, false, true);
        matmulReference(a, a, want, n, n, n, false, true);
        console.log(got.every((v, i) => v === want[i]) ? 'ok' : 'mismatch');
      `);
      const res = spawnSync(process.execPath, [join(dir, 'main.js')], { encoding: 'utf8', timeout: 20000 });
      expect(res.error).toBeUndefined(); // a hang would surface here as ETIMEDOUT
      expect(res.stderr).toBe('');
      expect(res.stdout.trim()).toBe('ok');
      expect(res.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
