/**
 * How backends are wired (issue: no hidden registration): importing a model file installs nothing, the error
 * then says what to import or call, and the package entry installs the CPU backend with its runtime's workers.
 * This file deliberately imports no entry at the top: vitest gives each spec file its own module graph.
 */
import { describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { Blt } from '../../src/blt/blt.js';
import { tinyConfig } from '../../src/blt/config/shapes.js';
import { getBackend, hasBackend, installBackend } from '../../src/backend/backend.js';
import { createCpuBackend } from '../../src/backend/cpu/cpu-backend.js';
import { getCpuThreads, setCpuThreads } from '../../src/backend/cpu/kernels/thread-pool.js';

describe('backend wiring', () => {
  it('a model file imported alone has no backend, and the error names the entry and the call that install one', () => {
    expect(hasBackend('cpu')).toBe(false);
    expect(() => new Blt(tinyConfig(), { seed: 0 }))
      .toThrow(/no backend for device 'cpu': import the package entry \('blt-ts'.*installBackend\(createCpuBackend\(\)\)/);
    expect(() => getBackend('webgpu')).toThrow(/await initWebGpu\(\)/);
    // without a worker host the CPU backend runs on one thread, and asking for more says why not
    installBackend(createCpuBackend());
    expect(getCpuThreads()).toBe(1);
    expect(() => setCpuThreads(2)).toThrow(/no worker host, so it runs on one thread/);
    const model = new Blt(tinyConfig(), { seed: 0 });
    const { logits } = model.forwardWithPatches([[1, 72, 105, 33]], [[1, 3]]);
    expect(logits.shape).toEqual([1, 4, 260]);
  });

  it('the Node entry installs the CPU backend with worker_threads (one thread per core by default)', async () => {
    await import('../../src/index.js');
    expect(hasBackend('cpu')).toBe(true);
    expect(getCpuThreads()).toBe(availableParallelism());
  });
});
