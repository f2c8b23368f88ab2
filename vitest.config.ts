// vitest.config.ts — runs every spec/**/*.spec.ts, in three projects: core, webgpu and browser.
// WebGPU specs (spec/webgpu) are a separate project whose files run one at a time: each file opens its own
// Dawn device, and on SwiftShader (a CPU driver) parallel files would only fight over the same cores.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['spec/setup/shared-data.ts'], // the golden sets beside the repository must be there
    projects: [
      {
        test: {
          name: 'core',
          include: ['spec/**/*.spec.ts'],
          exclude: ['spec/webgpu/**', 'spec/browser/**', '**/node_modules/**'],
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
      {
        // The demo page (web/) in headless chromium (spec/browser/page.spec.ts): one browser at a time.
        test: {
          name: 'browser',
          include: ['spec/browser/**/*.spec.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
