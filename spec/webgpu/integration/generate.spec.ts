// generate.spec.ts — text generation with the BLT on 'webgpu' (src/blt/generate.ts): the cached generator
// (entropy model, encoder and decoder incremental, the global model once per completed patch) and the
// no-cache reference both run on the GPU, every greedy choice of either is an argmax of the CPU model's
// logits up to the golden logit tolerance, and generation leaves no GPU buffer behind.
//
// Error model: greedy decoding is an argmax, so a device may pick another byte only where the CPU's best
// two logits are within the two paths' logit difference; the golden check bounds that by 1e-4 each way
// (GOLDEN_TOLERANCE.logits in src/blt/golden.ts; measured ~1e-5), hence: cpuLogits[chosen] >= max(cpuLogits) - 2e-4.

import { describe, expect, it } from 'vitest';
import { loadBltCheckpoint } from '../../../src/blt/checkpoint.js';
import { generate, generateCached } from '../../../src/blt/generate.js';
import { GOLDEN_TOLERANCE } from '../../../src/blt/golden.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';
import { sharedPath } from '../../../src/io/shared-dir.js';

const DIR = sharedPath('golden', 'blt1b_like');
const webgpu = useWebGpuBackend();

describe.runIf(RUN_WEBGPU)('generation on webgpu', () => {
  it('cached and reference greedy generation on the GPU choose the CPU model\'s argmax bytes and free their buffers', async () => {
    const be = webgpu();
    const gpuModel = await loadBltCheckpoint(DIR, { device: 'webgpu' });
    be.ctx.flush();
    const baseline = be.ctx.stats().live;
    const prompt = 'The byte latent transformer';
    const opts = { maxNewBytes: 12, stopAtEos: false };
    const cached = await generateCached(gpuModel, prompt, opts);
    expect(be.ctx.stats().live).toBe(baseline);
    const reference = await generate(gpuModel, prompt, opts);
    expect(be.ctx.stats().live).toBe(baseline);
    expect(cached.ids.length).toBe(12);
    expect(reference.ids.length).toBe(12);
    expect(cached.global.calls).toBeLessThan(reference.global.calls); // the cache skips global runs

    // Every choice of both generators is (up to the error model) the CPU model's argmax at that position.
    // (Both usually give the same bytes; they may differ by rounding, and then only at such a near-tie.)
    const cpuModel = await loadBltCheckpoint(DIR);
    for (const [name, r] of [['cached', cached], ['reference', reference]] as const) {
      const seq = [...r.promptIds, ...r.ids].slice(0, -1); // every position that chose a byte
      const lengths = cpuModel.patchLengthsOf([seq], await cpuModel.computeEntropies([seq]));
      const L = noGrad(() => cpuModel.forwardWithPatches([seq], lengths).logits).dataSync(); // [1, N, 260]
      r.ids.forEach((id, j) => {
        const pos = r.promptIds.length - 1 + j;
        const row = L.subarray(pos * 260, (pos + 1) * 260);
        expect(row[id], `${name} byte ${j} (position ${pos}) chose ${id}`).toBeGreaterThanOrEqual(Math.max(...row) - 2 * GOLDEN_TOLERANCE.logits);
      });
    }
  });
});
