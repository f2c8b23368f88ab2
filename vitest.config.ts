// vitest.config.ts — runs every spec/**/*.spec.ts.
// WebGPU specs (spec/webgpu) are a separate project whose files run one at a time: each file opens its own
// Dawn device, and on SwiftShader (a CPU driver) parallel files would only fight over the same cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'core',
          include: ['spec/**/*.spec.ts'],
          exclude: ['spec/webgpu/**', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'webgpu',
          include: ['spec/webgpu/**/*.spec.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
