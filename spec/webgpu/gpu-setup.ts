// gpu-setup.ts — one WebGPU device per spec file, and the "no adapter" policy for WebGPU specs.
//
// With the environment variable CI set, a missing adapter FAILS every WebGPU test (the error names what was
// tried). Without CI (a developer machine with no GPU/SwiftShader) a clear warning is printed once and the
// tests return early, passing vacuously. Tests must therefore start with `const ctx = gpu(); if (!ctx) return;`.

import '../../src/index.js'; // the Node entry: the CPU backend, and Dawn as WebGPU's way to the GPU
import { afterAll, beforeAll } from 'vitest';
import { WebGpuContext } from '../../src/backend/webgpu/context.js';

export function useGpu(): () => WebGpuContext | undefined {
  let ctx: WebGpuContext | undefined;
  let failure: Error | undefined;
  beforeAll(async () => {
    try {
      ctx = await WebGpuContext.create();
    } catch (err) {
      failure = err as Error;
      if (!process.env.CI) {
        console.warn(
          `\n[spec/webgpu] WebGPU tests did NOT run (they pass vacuously because CI is unset):\n  ${failure.message}\n`,
        );
      }
    }
  });
  afterAll(() => {
    ctx?.destroy();
    ctx = undefined;
  });
  return () => {
    if (ctx) return ctx;
    if (process.env.CI) throw failure ?? new Error('webgpu: no context');
    return undefined;
  };
}

// The seeded generators and U32 live with the shared properties (they also run in the demo page).
export { randomF32, rng, U32 } from '../properties/random.js';
