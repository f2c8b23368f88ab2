// Tests for the synchronous worker pool (thread-pool.ts) itself: a failing worker job surfaces as a clear Error
// on the calling thread (instead of a hang), the pool can be resized and shut down, and it keeps working after.

import '../../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import { afterAll, describe, expect, it } from 'vitest';
import {
  getCpuThreads, runJob, setCpuThreads, shutdownCpuThreads, type JobName,
} from '../../../src/backend/cpu/kernels/thread-pool.js';
import { matmulThreaded } from '../../../src/backend/cpu/kernels/matmul-threads.js';
import { matmul } from '../../../src/backend/cpu/kernels/matmul.js';

afterAll(() => shutdownCpuThreads());

describe('thread-pool', () => {
  it('reports a worker failure as an Error naming the job, and recovers', () => {
    const initial = getCpuThreads();
    setCpuThreads(2);
    const localUnits: number[] = [];
    expect(() => runJob('no-such-job' as JobName, 4, {}, {}, {}, (_x, u0, u1) => {
      for (let u = u0; u < u1; u++) localUnits.push(u);
    })).toThrow(/no-such-job: a worker thread failed: .*unknown job no-such-job/);
    // the caller claimed chunks of the 4 units (the worker refuses the job before claiming any), each once
    expect(localUnits).toEqual([0, 1, 2, 3]);
    // the same pool still runs real jobs afterwards
    const n = 130;
    const a = Float32Array.from({ length: n * n }, (_, i) => ((i * 7) % 13) - 6);
    const want = new Float32Array(n * n), got = new Float32Array(n * n);
    matmul(a, a, want, n, n, n, false, false);
    matmulThreaded(a, a, got, n, n, n, false, false);
    expect(got).toEqual(want);
    setCpuThreads(initial);
  });

  it('can be resized and shut down, and restarts lazily', () => {
    const initial = getCpuThreads();
    const n = 132;
    const a = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i));
    const want = new Float64Array(n * n);
    matmul(a, a, want, n, n, n, true, false);
    for (const t of [3, 2, 4]) {
      setCpuThreads(t);
      const got = new Float64Array(n * n);
      matmulThreaded(a, a, got, n, n, n, true, false);
      expect(got).toEqual(want);
      shutdownCpuThreads();
    }
    setCpuThreads(initial);
  });
});
