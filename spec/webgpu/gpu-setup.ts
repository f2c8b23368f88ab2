// gpu-setup.ts — whether the WebGPU specs run here, and one WebGPU device per spec file.
//
// RUN_WEBGPU is probed once when a spec file loads: true when a WebGPU adapter is present, or when the environment
// variable CI is set. WebGPU specs wrap their suites in `describe.runIf(RUN_WEBGPU)`, so on a developer machine
// without a GPU or SwiftShader they are reported as skipped (not as passed); with CI set and no adapter they run,
// and the device hook fails them with an error naming everything that was tried.

import '../../src/index.js'; // the Node entry: the CPU backend, and Dawn as WebGPU's way to the GPU
import { afterAll, beforeAll } from 'vitest';
import { WebGpuContext } from '../../src/backend/webgpu/context.js';
import { hasWebGpuAdapter } from '../../src/backend/webgpu/gpu.js';

export const HAS_WEBGPU_ADAPTER = await hasWebGpuAdapter();
export const RUN_WEBGPU = HAS_WEBGPU_ADAPTER || Boolean(process.env.CI);
if (!RUN_WEBGPU) {
  console.warn('\n[spec/webgpu] no WebGPU adapter: the WebGPU specs are skipped (with CI set they would fail). ' +
    'Run with VK_ICD_FILENAMES pointing at SwiftShader to include them.\n');
}

/** One device for the spec file (opened before its tests when they run; the hook throws when there is none). */
export function useGpu(): () => WebGpuContext {
  let ctx: WebGpuContext | undefined;
  beforeAll(async () => {
    if (RUN_WEBGPU) ctx = await WebGpuContext.create();
  });
  afterAll(() => {
    ctx?.destroy();
    ctx = undefined;
  });
  return () => {
    if (!ctx) throw new Error('webgpu: no device (see the failed beforeAll hook)');
    return ctx;
  };
}

// The seeded generators and U32 live with the shared properties (they also run in the demo page).
export { randomF32, rng, U32 } from '../properties/random.js';
