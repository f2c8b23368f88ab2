// backend-setup.ts — the installed WebGPU backend (initWebGpu) for the integration specs, one device per file.
// Same policy as ../gpu-setup.ts: suites run under `describe.runIf(RUN_WEBGPU)`; with CI set and no adapter the
// hook below fails them, naming what was tried.

import { afterAll, beforeAll } from 'vitest';
import '../../../src/index.js'; // the Node entry: installs the CPU backend, and Dawn as WebGPU's way to the GPU
import { destroyWebGpu, initWebGpu, type WebGpuBackend } from '../../../src/backend/webgpu/index.js';
import { RUN_WEBGPU } from '../gpu-setup.js';

export { RUN_WEBGPU };

export function useWebGpuBackend(): () => WebGpuBackend {
  let backend: WebGpuBackend | undefined;
  beforeAll(async () => {
    if (RUN_WEBGPU) backend = await initWebGpu();
  });
  afterAll(() => {
    destroyWebGpu();
    backend = undefined;
  });
  return () => {
    if (!backend) throw new Error('webgpu: no backend (see the failed beforeAll hook)');
    return backend;
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
