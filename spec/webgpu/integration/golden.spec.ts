// golden.spec.ts — the whole BLT forward on device 'webgpu' against Hugging Face's golden outputs (the
// golden set beside the repository, found by src/io/shared-dir.ts) through `checkGoldenConfig`, the same check the CPU path passes
// (spec/blt/model/golden.spec.ts): both configs, cases chosen to cover ASCII, multi-byte UTF-8, repeats
// (long entropy-threshold runs) and random bytes (all 256 values, the longest case, L = 161); every variant.
//
// Tolerances. Patch lengths (entropy rule, and its max-length-4 split): exact. Logits and the stored hidden
// states: atol 1e-4 (GOLDEN_TOLERANCE in src/blt/golden.ts; we reach ~1e-5). Entropies: atol 1e-5 is a budget for ONE
// float32 implementation against HF. Our CPU path accumulates in float64 and rounds once per op, so its
// deviation from HF (≤ 7.1e-6 here, checked ≤ 1e-5 by the CPU spec) is essentially HF's own float32
// forward error. The WebGPU path accumulates in float32 like HF (f32 sums in matmul/rmsnorm/attention/
// softmax, WGSL exp ≤ 3 + 2|x| ulp and log ≤ 2^-21 absolute), so it carries a forward error of the same
// kind, independent of HF's. Error model: |H_gpu - H_hf| ≤ |H_gpu - H_cpu| + |H_cpu - H_hf|, each leg
// within the one-implementation budget 1e-5. The first leg is asserted here directly (measured ≤ 4.6e-6 on
// SwiftShader, ~20 u relative to the entropy scale after ~28 float32 ops), so GPU-vs-HF gets 2 × 1e-5
// (measured max 1.03e-5, proj_gqa/random_bytes, where HF's and WebGPU's errors happen to add). The margin
// of every golden entropy to the patching threshold is ≥ 0.0038, far above either budget: patch lengths
// must still match exactly, and do.

import { describe, expect, it } from 'vitest';
import { checkGoldenConfig, GOLDEN_TOLERANCE } from '../../../src/blt/golden.js';
import { loadBltCheckpoint } from '../../../src/blt/checkpoint.js';
import { readSafetensorsFile } from '../../../src/io/safetensors-file.js';
import { maxAbsDiff, useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';
import { sharedPath } from '../../../src/io/shared-dir.js';

const GOLDEN = sharedPath('golden');
const CASES = ['ascii_short', 'utf8_mixed_emoji', 'repeat_pattern', 'random_bytes'];
/** One float32 implementation's entropy budget against any other (src/blt/golden.ts). */
const ENTROPY_ONE_IMPL = GOLDEN_TOLERANCE.entropy;

useWebGpuBackend(); // the installed backend for this file (device "webgpu")

describe.runIf(RUN_WEBGPU)('the BLT golden forward on webgpu', () => {
  for (const config of ['blt1b_like', 'proj_gqa']) {
    it(`${config}: entropies, patch lengths and logits of ${CASES.join(', ')} match HF`, async () => {
      const dir = `${GOLDEN}/${config}`;
      const gpuModel = await loadBltCheckpoint(dir, { device: 'webgpu' });
      expect(gpuModel.device).toBe('webgpu');
      const rows = await checkGoldenConfig(gpuModel, dir, { cases: CASES });
      expect(rows.length).toBe(CASES.length * 4); // entropy, stride4, byte, entropy_maxlen4
      for (const r of rows) {
        const where = `${r.config}/${r.case}/${r.variant}: ${JSON.stringify(r.intermediates)}`;
        expect(r.patchLengthsMatch, where).toBe(true);
        if (r.variant === 'entropy_maxlen4') { expect(r.logitsMaxAbs).toBeNull(); continue; }
        if (r.variant === 'entropy') expect(r.entropyMaxAbs!, where).toBeLessThanOrEqual(2 * ENTROPY_ONE_IMPL);
        expect(r.logitsMaxAbs!, where).toBeLessThanOrEqual(GOLDEN_TOLERANCE.logits);
        for (const key of ['hash.embeds', 'encoder.hidden', 'encoder.patches', 'global.out', 'decoder.out']) {
          expect(r.intermediates[key], `${where} ${key}`).toBeLessThanOrEqual(1e-4);
        }
      }

      // The first leg of the entropy error model: WebGPU's own float32 error, measured against the CPU path.
      const cpuModel = await loadBltCheckpoint(dir);
      for (const name of CASES) {
        const ids = [Array.from(readSafetensorsFile(`${dir}/cases/${name}.safetensors`).tensors.get('input_ids')!.data)];
        const gpuH = await gpuModel.computeEntropies(ids);
        const cpuH = await cpuModel.computeEntropies(ids);
        expect(gpuH.length).toBe(ids[0].length);
        expect(maxAbsDiff(gpuH, cpuH), `${config}/${name} entropies webgpu vs cpu`).toBeLessThanOrEqual(ENTROPY_ONE_IMPL);
      }
    }, 60_000);
  }
});
