// backend-setup.ts — the installed WebGPU backend (initWebGpu) for the integration specs, one device per file.
//
// Same "no adapter" policy as ../gpu-setup.ts: with CI set, a missing adapter FAILS every test (the error
// names what was tried); without CI a warning is printed once and the tests return early. Tests therefore
// start with `const be = webgpu(); if (!be) return;`.

import { afterAll, beforeAll } from 'vitest';
import '../../../src/index.js'; // the Node entry: installs the CPU backend, and Dawn as WebGPU's way to the GPU
import { destroyWebGpu, initWebGpu, type WebGpuBackend } from '../../../src/backend/webgpu/index.js';

export function useWebGpuBackend(): () => WebGpuBackend | undefined {
  let backend: WebGpuBackend | undefined;
  let failure: Error | undefined;
  beforeAll(async () => {
    try {
      backend = await initWebGpu();
    } catch (err) {
      failure = err as Error;
      if (!process.env.CI) {
        console.warn(`\n[spec/webgpu/integration] WebGPU tests did NOT run (they pass vacuously because CI is unset):\n  ${failure.message}\n`);
      }
    }
  });
  afterAll(() => {
    destroyWebGpu();
    backend = undefined;
  });
  return () => {
    if (backend) return backend;
    if (process.env.CI) throw failure ?? new Error('webgpu: initWebGpu failed');
    return undefined;
  };
}

/** max |a[i] - b[i]| (NaN when the lengths differ or any value is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

/** max |a[i]| */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
