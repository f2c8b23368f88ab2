// properties.spec.ts — the paper's invariants from the shared property checks (spec/properties/checks.ts, which
// the demo page also runs) on the installed WebGPU backend. The kernel-level checks of that module run in
// spec/webgpu/matmul.spec.ts, attention.spec.ts and spec/core/gradients.spec.ts.

import { describe, it } from 'vitest';
import { causality, entropyRange, thresholdMonotone } from '../../properties/checks.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';

const webgpu = useWebGpuBackend();

describe.runIf(RUN_WEBGPU)('paper invariants on webgpu (shared with the demo page)', () => {
  for (const check of [causality, entropyRange, thresholdMonotone]) {
    it(check.name, async () => {
      const be = webgpu();
      await check.run({ ctx: be.ctx });
    });
  }
});
