// train-helpers.ts — run the same training steps on 'cpu' and 'webgpu' and bound how far the weights may
// drift apart under AdamW, given how far the gradients are apart (the error model of the train specs).

import { scopeAsync } from '../../../src/tensor/scope.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import type { Module } from '../../../src/nn/module.js';
import * as ops from '../../../src/ops/index.js';
import { AdamW } from '../../../src/optim/adamw.js';
import { clipGradNorm } from '../../../src/optim/clip.js';

export const U32 = 2 ** -24;
export const ADAMW = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };

/** What one step leaves on the host: the loss, the raw gradients, the clip, the second moment and the new weights. */
export interface StepRecord {
  loss: number;
  norm: number;
  coef: number;
  grads: Float32Array[];
  /** AdamW's v after the step (for the sensitivity of the update). */
  v: Float32Array[];
  weights: Float32Array[];
}

const host = async (t: Tensor): Promise<Float32Array> => Float32Array.from(await t.data());

/**
 * `steps` training steps: loss -> backward -> clipGradNorm(maxNorm) -> AdamW (PyTorch defaults of the BLT
 * paper: betas 0.9/0.95, eps 1e-8, weight decay 0.1), each inside scopeAsync, grads cleared after it.
 */
export async function trainSteps(model: Module, steps: number, lossAt: (s: number) => Tensor | Promise<Tensor>,
  lrAt: (s: number) => number, maxNorm: number): Promise<StepRecord[]> {
  const params = model.parameters();
  const opt = new AdamW(params, { lr: lrAt(0), ...ADAMW });
  const records: StepRecord[] = [];
  for (let s = 0; s < steps; s++) {
    records.push(await scopeAsync(async () => {
      const loss = await lossAt(s);
      ops.backward(loss);
      const grads: Float32Array[] = [];
      for (const p of params) grads.push(await host(p.grad!));
      const { norm, coef } = await clipGradNorm(params, maxNorm);
      opt.step({ lr: lrAt(s), gradScale: coef });
      const v: Float32Array[] = [], weights: Float32Array[] = [];
      for (const t of opt.v) v.push(await host(t));
      for (const p of params) weights.push(await host(p));
      return { loss: (await loss.data())[0], norm, coef, grads, v, weights };
    }));
    opt.zeroGrad();
  }
  return records;
}

/** max |x| */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Per-element bound on |w_gpu - w_cpu| after every step of AdamW, for one parameter tensor, when every
 * step's raw gradients satisfy |g_gpu - g_cpu| <= rho * max|g_cpu| (asserted separately, step by step), or
 * are both exactly 0.
 *
 * Error model. The clipped gradient differs by d_t = c_t rho M_t + |c'_t - c_t| (|g_t| + rho M_t)
 * (c, c' the two clip coefficients, M_t = max|g_cpu|). Bias-corrected moments are weighted averages
 * m^ = sum_s a_s g_s, v^ = sum_s b_s g_s^2 (a, b >= 0, each summing to 1), so with D = max_{s<=t} d_s:
 * |m^' - m^| <= D, |sqrt(v^') - sqrt(v^)| <= D (Minkowski), and |m^| <= C_t sqrt(v^) with
 * C_t = sqrt(sum_s a_s^2 / b_s) (Cauchy-Schwarz; C_1 = 1, C_3 < 1.01). The step direction
 * r = m^ / (sqrt(v^) + eps) therefore moves by at most (1 + C_t) D / (sqrt(v^) - D + eps), and never by
 * more than 2 C_t (|r| <= C_t on both devices: the sign-like regime of AdamW where a rounding-size
 * gradient still gives a full-size step). The weights obey
 *   B_t = (1 - lr_t wd) B_{t-1} + lr_t min(2 C_t, (1 + C_t) D / (sqrt(v^) - D + eps)) + 8 u (|w| + lr_t C_t),
 * the last term for float32 rounding of the update itself (the GPU kernel rounds each of its ~6
 * operations; the CPU rounds once). Effects of the weights' own difference on later gradients are inside
 * rho, since the gradients of every step are compared, not only the first.
 */
export function adamwWeightBounds(cpu: StepRecord[], gpu: StepRecord[], param: number, lrs: number[], rho: number): Float64Array[] {
  const { beta1, beta2, eps, weightDecay } = ADAMW;
  const n = cpu[0].weights[param].length;
  const D = new Float64Array(n);
  let B = new Float64Array(n);
  const out: Float64Array[] = [];
  for (let t = 1; t <= cpu.length; t++) {
    const c = cpu[t - 1], g = gpu[t - 1], lr = lrs[t - 1];
    let C2 = 0;
    for (let s = 1; s <= t; s++) {
      const a = ((1 - beta1) * beta1 ** (t - s)) / (1 - beta1 ** t);
      const b = ((1 - beta2) * beta2 ** (t - s)) / (1 - beta2 ** t);
      C2 += (a * a) / b;
    }
    const C = Math.sqrt(C2);
    const M = maxAbs(c.grads[param]);
    const dc = Math.abs(g.coef - c.coef);
    const next = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      const gc = c.grads[param][e], gg = g.grads[param][e];
      const d = gc === 0 && gg === 0 ? 0 : c.coef * rho * M + dc * (Math.abs(gc) + rho * M);
      D[e] = Math.max(D[e], d);
      const sq = Math.sqrt(c.v[param][e] / (1 - beta2 ** t));
      const dr = sq - D[e] + eps > 0 ? Math.min(2 * C, ((1 + C) * D[e]) / (sq - D[e] + eps)) : 2 * C;
      next[e] = (1 - lr * weightDecay) * B[e] + lr * dr + 8 * U32 * (Math.abs(c.weights[param][e]) + lr * C);
    }
    B = next;
    out.push(next);
  }
  return out;
}
