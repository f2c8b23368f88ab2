// golden-train.spec.ts — the BLT's training steps on 'webgpu' against Hugging Face's training golden data
// (the golden-train set beside the repository, found by src/io/shared-dir.ts): the tiny BLT of that set (the shapes of tinyConfig), HF's
// batches and fixed patch lengths, mean cross-entropy over all B·T positions, clip to norm 1, AdamW with
// the warm-up schedule, first three of the twelve steps. Checks and tolerances are the set's own
// (expected.json → suggested_tolerances, as in spec/train/golden-train.spec.ts), which are built for one
// float32 implementation against HF and calibrated by adding noise to HF's own values: WebGPU is such an
// implementation, so no bound changes.
//   A  step-0 loss |Δ| <= 5e-5          B  step-0 raw grads: per tensor max|Δ| <= 2e-5 max|g_ref|
//   B' exact zeros stay exact           C  step-0 grad norm: relative <= 1e-4
//   E  weights after step 0: |Δ| <= 1e-6 where |coef·g_ref| >= 1e-5, else <= 2·lr (AdamW's sign-like regime)
//   F  steps 0-2: loss |Δ| <= 5e-5, grad norm relative <= 1e-4;  frozen entropy model bit-identical

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBltCheckpoint } from '../../../src/blt/checkpoint.js';
import { readSafetensorsFile } from '../../../src/io/safetensors-file.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';
import { maxAbs, trainSteps } from './train-helpers.js';
import { sharedPath } from '../../../src/io/shared-dir.js';

const DIR = sharedPath('golden-train');
const STEPS = 3;
useWebGpuBackend(); // the installed backend for this file (device "webgpu")

interface Expected {
  steps: { lr: number; loss: number; grad_norm: number; clip_coef: number }[];
  suggested_tolerances: { loss_abs: number; grad_norm_rel: number; grads_step0_rel_to_tensor_max: number;
    after_step0_abs_insensitive: number; after_step0_abs_sensitive_lr0_factor: number };
}

describe.runIf(RUN_WEBGPU)('golden training steps on webgpu', () => {
  it(`the first ${STEPS} steps match HF: loss, raw gradients, clip, AdamW weights, frozen entropy model`, async () => {
    const exp = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;
    const tol = exp.suggested_tolerances;
    const batches = readSafetensorsFile(join(DIR, 'batches.safetensors')).tensors;
    const [, B, T] = batches.get('input_ids')!.shape;
    const P = batches.get('patch_lengths')!.shape[2];
    const rows = (name: string, s: number, width: number) => [...Array(B).keys()].map((b) =>
      Array.from(batches.get(name)!.data.subarray((s * B + b) * width, (s * B + b + 1) * width))); // [B][width]

    const model = await loadBltCheckpoint(DIR, { device: 'webgpu' });
    expect(model.device).toBe('webgpu');
    const names = model.namedParameters().map(([n]) => n);
    expect(names.length).toBe(69);
    const records = await trainSteps(model,
      STEPS, (s) => model.loss(rows('input_ids', s, T), rows('patch_lengths', s, P), rows('target_ids', s, T)),
      (s) => exp.steps[s].lr, 1.0);

    for (let s = 0; s < STEPS; s++) { // A, C, F
      expect(Math.abs(records[s].loss - exp.steps[s].loss), `step ${s} loss`).toBeLessThanOrEqual(tol.loss_abs);
      expect(Math.abs(records[s].norm / exp.steps[s].grad_norm - 1), `step ${s} grad norm`).toBeLessThanOrEqual(tol.grad_norm_rel);
    }

    const refGrads = readSafetensorsFile(join(DIR, 'grads_step0.safetensors')).tensors;
    const after = readSafetensorsFile(join(DIR, 'weights_after_step0.safetensors')).tensors;
    const coef = exp.steps[0].clip_coef, lr0 = exp.steps[0].lr;
    let zeros = 0;
    names.forEach((name, i) => {
      const ref = refGrads.get(name)!.data, got = records[0].grads[i];
      const refMax = maxAbs(ref);
      let diff = 0;
      for (let e = 0; e < ref.length; e++) {
        diff = Math.max(diff, Math.abs(got[e] - ref[e]));
        if (ref[e] === 0) {
          zeros++;
          if (got[e] !== 0) expect.fail(`B': ${name}[${e}] must stay exactly 0, webgpu gives ${got[e]}`);
        }
      }
      expect(diff, `B: ${name}`).toBeLessThanOrEqual(tol.grads_step0_rel_to_tensor_max * refMax); // B
      const wRef = after.get(name)!.data, w = records[0].weights[i];
      for (let e = 0; e < wRef.length; e++) { // E
        const bound = Math.abs(coef * ref[e]) >= 1e-5 ? tol.after_step0_abs_insensitive : tol.after_step0_abs_sensitive_lr0_factor * lr0;
        if (!(Math.abs(w[e] - wRef[e]) <= bound)) expect.fail(`E: ${name}[${e}] ${w[e]} vs HF ${wRef[e]} (bound ${bound})`);
      }
    });
    expect(zeros).toBeGreaterThan(100_000); // the unused hash-embedding rows (about half of all gradient values in this set)

    const initial = readSafetensorsFile(join(DIR, 'model.safetensors')).tensors;
    let frozen = 0;
    for (const [name, t] of model.namedTensors()) {
      if (!name.startsWith('model.patcher.')) continue;
      frozen++;
      expect(t.requiresGrad).toBe(false);
      expect(Array.from(await t.data()), name).toEqual(Array.from(initial.get(name)!.data));
    }
    expect(frozen).toBe(21);
  });
});
