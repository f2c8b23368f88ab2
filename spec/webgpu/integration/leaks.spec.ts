// leaks.spec.ts — no GPU memory leaks in the whole BLT on 'webgpu'. JavaScript's garbage collector knows
// nothing about GPU buffers: every intermediate of a step must be disposed by scope/scopeAsync
// (src/tensor/scope.ts), gradients by zeroGrad, and whatever a step returns by its caller. The buffer
// pool's live count (buffers handed out and not released, src/backend/webgpu/buffer-pool.ts) must then
// return exactly to its baseline (model weights, AdamW moments, kernel scratch), after one step and after
// each of 10 steps; and once the pool is warm, steps of the same shapes allocate no new GPU memory.

import { describe, expect, it } from 'vitest';
import { scopeAsync } from '../../../src/tensor/scope.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import * as ops from '../../../src/ops/index.js';
import { Blt } from '../../../src/blt/blt.js';
import { generate } from '../../../src/blt/generate.js';
import { tinyConfig } from '../../../src/blt/config/shapes.js';
import { AdamW } from '../../../src/optim/adamw.js';
import { clipGradNorm } from '../../../src/optim/clip.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';

const webgpu = useWebGpuBackend();

const text = (s: number) => `step ${s}: Byte Latent Transformer on WebGPU, caf\u00e9 \u4e2d\u6587 \ud83d\ude00 aaaaaaaaaaaa`;
const row = (s: number) => [1, ...Array.from(new TextEncoder().encode(text(s)), (b) => b + 4)].slice(0, 24);

describe.runIf(RUN_WEBGPU)('GPU buffers of the BLT on webgpu', () => {
  it('a training step inside scopeAsync returns the live buffer count to its baseline; 10 steps stay flat', async () => {
    const be = webgpu();
    const model = new Blt(tinyConfig(), { seed: 1 }).to('webgpu');
    const opt = new AdamW(model.parameters(), { lr: 1e-3 });
    const stats = () => { be.ctx.flush(); return be.ctx.stats(); };
    const baseline = stats();
    // the weights (all 90 tensors) and the two moments of the 69 trained ones are what stays alive
    expect(baseline.live).toBeGreaterThanOrEqual(90 + 2 * 69);

    /** One full step (entropy patching, forward, backward, clip, AdamW); returns the loss tensor (an output). */
    const step = (s: number) => scopeAsync(async () => {
      const ids = [row(s), row(s + 1)]; // [2, 24]
      const lengths = await model.patchLengthsFor(ids);
      const loss = model.loss(ids, lengths);
      ops.backward(loss);
      const { coef } = await clipGradNorm(model.parameters(), 1.0);
      opt.step({ gradScale: coef });
      return loss;
    });

    const loss = await step(0);
    expect(loss.device).toBe('webgpu');
    expect(stats().live).toBeGreaterThan(baseline.live); // the loss and the 69 gradients
    const value = (await loss.data())[0];
    expect(Number.isFinite(value)).toBe(true);
    loss.dispose();
    opt.zeroGrad();
    expect(stats().live).toBe(baseline.live);
    expect(stats().bytesInUse).toBe(baseline.bytesInUse);

    const live: number[] = [];
    const allocated: number[] = [];
    for (let s = 1; s <= 10; s++) {
      (await step(s)).dispose();
      opt.zeroGrad();
      live.push(stats().live);
      allocated.push(stats().bytesAllocated);
    }
    expect(live).toEqual(Array(10).fill(baseline.live));
    // warm pool: the later steps (same shapes) are served entirely from released buffers
    expect(allocated.slice(3)).toEqual(Array(7).fill(allocated[2]));
  });

  it('inference (forward with intermediates, generation) releases everything it does not return', async () => {
    const be = webgpu();
    const model = new Blt(tinyConfig(), { seed: 2 }).to('webgpu');
    be.ctx.flush();
    const baseline = be.ctx.stats().live;
    const logits = await scopeAsync(async () => {
      const out = await model.forward([row(0)], { intermediates: true });
      return noGrad(() => ops.softmax(out.logits, -1)).data();
    });
    expect(logits.length).toBe(24 * 260);
    expect(be.ctx.stats().live).toBe(baseline);
    const generated = await generate(model, { ids: row(0).slice(0, 8) }, { maxNewBytes: 3, stopAtEos: false });
    expect(generated.ids.length).toBe(3);
    expect(be.ctx.stats().live).toBe(baseline);
  });
});
