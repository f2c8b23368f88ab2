// tensor.spec.ts — tensors on device 'webgpu' through the public ops: `initWebGpu()` registers the backend,
// a small model-like graph (embedding, rmsNorm, matmul, fused attention, cross-entropy) runs forward and
// backward on both devices, and loss and gradients agree.
//
// Error model: each kernel's own bound is checked in backend.spec.ts / attention.spec.ts; here the graph
// has depth <= 12 with accumulation lengths <= 16, so f32 rounding contributes well under 12 * (16 + 10) u
// ~ 2e-5 relative to each quantity's scale; 1e-4 * scale leaves a factor ~5 for the conditioning of
// softmax / rmsNorm at these sizes. (A wiring bug - wrong device, dropped gradient, wrong layout - gives
// O(1) errors.)

import { describe, expect, it } from 'vitest';
import * as ops from '../../src/ops/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { randomF32, RUN_WEBGPU } from './gpu-setup.js';
import { useWebGpuBackend } from './integration/backend-setup.js';

useWebGpuBackend();

const [B, T, H, Dh, V] = [2, 6, 2, 4, 13];
const Dm = H * Dh;

/** The same little network on either device; returns the loss and the parameters (for their gradients). */
function run(device: 'cpu' | 'webgpu') {
  const p = (data: Float32Array, shape: number[]) => ops.tensor(data, shape, { device, requiresGrad: true });
  const emb = p(randomF32(V * Dm, 1, 1), [V, Dm]);
  const norm = p(randomF32(Dm, 2, 1), [Dm]);
  const wq = p(randomF32(Dm * Dm, 3, 0.5), [Dm, Dm]);
  const wo = p(randomF32(Dm * V, 4, 0.5), [Dm, V]);
  const ids = ops.tensor(Int32Array.from({ length: B * T }, (_, i) => (i * 5) % V), [B, T], { device });
  const targets = ops.tensor(Int32Array.from({ length: B * T }, (_, i) => (i * 3 + 1) % V), [B, T], { device });
  const start = ops.tensor(Int32Array.from({ length: B * T }, (_, i) => Math.max(0, (i % T) - 2)), [B, T], { device });
  const end = ops.tensor(Int32Array.from({ length: B * T }, (_, i) => (i % T) + 1), [B, T], { device });
  const x = ops.rmsNorm(ops.embedding(emb, ids), norm, 1e-5);                  // [B, T, Dm]
  const q = ops.reshape(ops.matmul(x, wq), [B, T, H, Dh]);                      // [B, T, H, Dh]
  const kv = ops.reshape(x, [B, T, H, Dh]);                                     // [B, T, H, Dh]
  const a = ops.reshape(ops.attention(q, kv, kv, { start, end }), [B, T, Dm]);  // [B, T, Dm]
  const logits = ops.matmul(ops.add(a, x), wo);                                 // [B, T, V]
  const loss = ops.crossEntropy(logits, targets);
  ops.backward(loss);
  return { loss, params: [emb, norm, wq, wo] };
}

async function values(t: Tensor | null | undefined): Promise<Float32Array> {
  if (!t) throw new Error('missing gradient');
  return Float32Array.from(await t.data());
}

describe.runIf(RUN_WEBGPU)('tensors on webgpu', () => {
  it('a small network gives the same loss and gradients on webgpu as on cpu', async () => {
    const cpu = run('cpu');
    const gpu = run('webgpu');
    expect(gpu.loss.device).toBe('webgpu');
    const lc = (await values(cpu.loss))[0];
    const lg = (await values(gpu.loss))[0];
    expect(Math.abs(lg - lc)).toBeLessThanOrEqual(1e-4 * Math.abs(lc));
    for (let i = 0; i < cpu.params.length; i++) {
      const gc = await values(cpu.params[i].grad);
      const gg = await values(gpu.params[i].grad);
      const scale = gc.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(scale, `param ${i} has a gradient`).toBeGreaterThan(0);
      for (let j = 0; j < gc.length; j++) {
        if (Math.abs(gg[j] - gc[j]) > 1e-4 * scale) expect.fail(`param ${i} grad[${j}] = ${gg[j]}, cpu ${gc[j]} (scale ${scale})`);
      }
    }
  });

  it('moving a tensor to webgpu and back round-trips exactly', async () => {
    const x = ops.tensor(randomF32(37, 9), [37]);
    const y = await (await x.to('webgpu')).to('cpu');
    expect(Array.from(await y.data())).toEqual(Array.from(await x.data()));
  });
});
