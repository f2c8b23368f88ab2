// generate.spec.ts — text generation with the BLT on 'webgpu' (src/blt/generate.ts): the cached generator
// (entropy model, encoder and decoder incremental, the global model once per completed patch) and the
// no-cache oracle (spec/blt/generate/oracle.ts) both run on the GPU, give the same bytes, greedy and sampled,
// which are the CPU model's choices, and leave no GPU buffer behind.
//
// Error model: the two GPU paths run the same kernels on different batch shapes, so their logits differ from the
// CPU's by at most the golden logit tolerance each (GOLDEN_TOLERANCE.logits = 1e-4, measured ~1e-5). A choice can
// differ only on a near tie: greedy, when the CPU's best two logits are within 2e-4; sampled (top-4), when the 4th
// and 5th logits are that close, or the uniform draw u lies within the shift of the cumulative distribution that
// such logit errors cause (≤ e^{2e-4} - 1 < 3e-4) of a boundary. The test measures these margins on the CPU model
// and requires them to be wider (1e-3), so the bytes must be EQUAL. (Top-k keeps the boundaries apart: over all
// 260 ids they lie ~1e-4 apart, close enough for rounding to move one across u.)

import { describe, expect, it } from 'vitest';
import { loadBltCheckpoint } from '../../../src/blt/checkpoint.js';
import { generate } from '../../../src/blt/generate.js';
import { generateNoCache } from '../../blt/generate/oracle.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { Rng } from '../../../src/tensor/random.js';
import { samplingDistribution, type SamplingOptions } from '../../../src/blt/sampling.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';
import { sharedPath } from '../../../src/io/shared-dir.js';

const DIR = sharedPath('golden', 'blt1b_like');
const webgpu = useWebGpuBackend();

describe.runIf(RUN_WEBGPU)('generation on webgpu', () => {
  it('cached and no-cache generation on the GPU give the CPU model\'s bytes, greedy and sampled, and free their buffers', async () => {
    const be = webgpu();
    const gpuModel = await loadBltCheckpoint(DIR, { device: 'webgpu' });
    const cpuModel = await loadBltCheckpoint(DIR);
    be.ctx.flush();
    const baseline = be.ctx.stats().live;
    const prompt = 'The byte latent transformer';
    for (const sampling of [{ greedy: true }, { temperature: 1, topK: 4 }] as SamplingOptions[]) {
      const opts = { maxNewBytes: 12, stopAtEos: false, sampling, seed: 5 };
      const cached = await generate(gpuModel, prompt, opts);
      expect(be.ctx.stats().live).toBe(baseline);
      const reference = await generateNoCache(gpuModel, prompt, opts);
      expect(be.ctx.stats().live).toBe(baseline);
      expect(cached.ids.length).toBe(12);
      expect(cached.global.calls).toBeLessThan(reference.global.calls); // the cache skips global runs

      // the CPU model's choice at every position of the cached sequence, with the margin to a near tie
      const seq = [...cached.promptIds, ...cached.ids].slice(0, -1); // every position that chose a byte
      const lengths = cpuModel.patchLengthsOf([seq], await cpuModel.computeEntropies([seq]));
      const L = noGrad(() => cpuModel.forwardWithPatches([seq], lengths).logits).dataSync(); // [1, N, 260]
      const rng = new Rng(5);
      cached.ids.forEach((id, j) => {
        const pos = cached.promptIds.length - 1 + j;
        const row = L.subarray(pos * 260, (pos + 1) * 260);
        const { ids, probs } = samplingDistribution(row, sampling);
        const sorted = Array.from(row).sort((a, b) => b - a);
        let margin: number, choice: number;
        if (sampling.greedy) {
          [choice, margin] = [ids[0], sorted[0] - sorted[1]];
        } else {
          const u = rng.uniform(); // sampleNext: the first id whose cumulative probability exceeds u
          let cdf = 0;
          [choice, margin] = [-1, sorted[3] - sorted[4]]; // the top 4 are the same 4
          for (let i = 0; i < ids.length; i++) {
            cdf += probs[i];
            if (choice < 0 && u < cdf) choice = ids[i];
            margin = Math.min(margin, Math.abs(u - cdf));
          }
          if (choice < 0) choice = ids[ids.length - 1];
        }
        expect(margin, `position ${pos}: a near tie (margin ${margin})`).toBeGreaterThan(1e-3);
        expect(id, `cached byte ${j} (position ${pos})`).toBe(choice);
      });
      expect(reference.ids).toEqual(cached.ids);
    }
  });
});
