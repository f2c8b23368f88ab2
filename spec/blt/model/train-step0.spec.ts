// The batched forward + backward of the whole BLT against HF's training golden data (../shared/golden-train
// beside the repository): step 0's mean loss over all B·T positions and the raw gradient of every trained tensor.
// Tolerances are the file's suggested ones (expected.json: loss 5e-5 abs, grads 2e-5 relative to each tensor's max).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../../src/index.js';
import * as ops from '../../../src/ops/index.js';
import { loadBltCheckpoint } from '../../../src/blt/checkpoint.js';
import { readSafetensorsFile } from '../../../src/io/safetensors-file.js';
import { sharedPath } from '../../../src/io/shared-dir.js';

const DIR = sharedPath('golden-train');

describe('golden training step 0', () => {
  it('loss and raw gradients of every trained tensor match HF', async () => {
    const model = await loadBltCheckpoint(DIR);
    const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as
      { steps: { loss: number; grad_norm: number }[]; suggested_tolerances: { loss_abs: number; grads_step0_rel_to_tensor_max: number } };
    const batches = readSafetensorsFile(join(DIR, 'batches.safetensors')).tensors;
    const [, B, T] = batches.get('input_ids')!.shape;
    const P = batches.get('patch_lengths')!.shape[2];
    const rows = (name: string, width: number) => [...Array(B).keys()].map((b) =>
      Array.from(batches.get(name)!.data.subarray(b * width, (b + 1) * width))); // step 0, row b
    const ids = rows('input_ids', T), targets = rows('target_ids', T), lengths = rows('patch_lengths', P);

    const loss = model.loss(ids, lengths, targets);
    expect(Math.abs(loss.item() - expected.steps[0].loss)).toBeLessThanOrEqual(expected.suggested_tolerances.loss_abs);
    ops.backward(loss);

    const grads = readSafetensorsFile(join(DIR, 'grads_step0.safetensors')).tensors;
    const trained = model.namedParameters();
    expect(trained.length).toBe(69);
    expect(new Set(trained.map(([k]) => k))).toEqual(new Set(grads.keys()));
    let sq = 0;
    for (const [key, p] of trained) {
      const ref = grads.get(key)!.data, got = p.grad!.dataSync();
      let refMax = 0, diff = 0;
      for (let i = 0; i < ref.length; i++) {
        refMax = Math.max(refMax, Math.abs(ref[i]));
        diff = Math.max(diff, Math.abs(got[i] - ref[i]));
        sq += got[i] * got[i];
        if (ref[i] === 0) expect(got[i], `${key}[${i}] must stay exactly 0`).toBe(0);
      }
      expect(diff, key).toBeLessThanOrEqual(expected.suggested_tolerances.grads_step0_rel_to_tensor_max * refMax);
    }
    expect(Math.abs(Math.sqrt(sq) / expected.steps[0].grad_norm - 1)).toBeLessThanOrEqual(1e-4);
  }, 30_000);
});
