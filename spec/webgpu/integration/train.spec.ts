// train.spec.ts — full training steps run on 'webgpu' give what they give on 'cpu': a small transformer LM
// (embedding, 2 pre-norm RoPE/GQA transformer layers, RMSNorm, head) and a tiny BLT (tinyConfig, the shapes
// of BLT-1B in miniature, with the model's own entropy patching; and one step of Meta's reference flavour
// with EOS document masks and empty patches). Each step: loss -> backward -> clipGradNorm(1) -> AdamW
// (betas 0.9/0.95, eps 1e-8, wd 0.1), three steps, same initial weights and data on both devices.
//
// Error model. Loss: the CPU path (here with the float64-accumulating JS matmul: setWasmKernels(false), so the
// CPU is the accurate oracle this model assumes) accumulates in float64 and rounds once per op; WebGPU accumulates each
// kernel in float32 (sums of n <= 260 terms, tree or serial: error ~ sqrt(n) u typically, n u at worst)
// and uses WGSL exp (<= 3 + 2|x| ulp) / log (<= 2^-21 abs). Measured, each op adds about 1 u relative to
// its output's scale; these forwards are <= ~80 ops deep, so |dL| <= 1e-5 |L| (~170 u) leaves a factor
// >= 2 for worst-case accumulation. Gradients (forward + backward, ~2x deeper; softmax/rmsnorm backward
// cancel terms): per tensor max|g_gpu - g_cpu| <= RHO max|g_cpu| with RHO = 2e-5, the training golden
// set's tolerance for one float32 implementation against another (calibrated there by adding Gaussian
// noise: 1e-6 x max|g| passes, 1e-5 fails); measured here <= 21 u = 1.3e-6. Exact zeros stay exact (an unused
// embedding row, or a query that sees a single key, has a gradient of exactly 0 on both devices; any
// residue would become a full AdamW step). Weights: adamwWeightBounds (train-helpers.ts) turns the
// gradient bound into a per-element bound; it is tight (<< lr) where the gradient is well above the
// error and 2 lr where AdamW's normalisation makes the step sign-like.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../../../src/ops/index.js';
import { Rng } from '../../../src/tensor/random.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import type { Device } from '../../../src/tensor/dtype.js';
import { Module } from '../../../src/nn/module.js';
import { Embedding, Linear, RMSNorm } from '../../../src/nn/layers.js';
import { TransformerLayer, causalRanges, positionsTensor } from '../../../src/nn/transformer.js';
import { Blt } from '../../../src/blt/blt.js';
import { tinyConfig } from '../../../src/blt/config/shapes.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';
import { setWasmKernels, wasmKernelsActive } from '../../../src/backend/cpu/kernels/wasm/module.js';
import { adamwWeightBounds, maxAbs, trainSteps, type StepRecord } from './train-helpers.js';

useWebGpuBackend(); // the installed backend for this file (device "webgpu")

// The CPU is the reference here: float64 accumulation in every kernel (the wasm matmul accumulates in float32,
// like BLAS and like WebGPU, which would make this a comparison of two float32 implementations).
let wasmWasOn = true;
beforeAll(() => { wasmWasOn = wasmKernelsActive(); setWasmKernels(false); });
afterAll(() => setWasmKernels(wasmWasOn));
const RHO = 2e-5;
const LOSS_REL = 1e-5;
const STEPS = 3;

/** A small causal transformer LM with GQA (4 query heads, 2 kv heads). */
class SmallLM extends Module {
  embed_tokens: Embedding;
  layers: TransformerLayer[];
  norm: RMSNorm;
  lm_head: Linear;
  constructor(readonly V: number, dim: number, seed: number) {
    super();
    const rng = new Rng(seed);
    this.embed_tokens = new Embedding(V, dim, { rng });
    const cfg = { dim, heads: 4, kvHeads: 2, hidden: 2 * dim, eps: 1e-5, ropeTheta: 10000 };
    this.layers = [new TransformerLayer(cfg, rng), new TransformerLayer(cfg, rng)];
    this.norm = new RMSNorm(dim, 1e-5);
    this.lm_head = new Linear(dim, V, { rng });
  }

  /** Mean next-token cross-entropy of ids [B, T] (host), targets = ids shifted, last position ignored. */
  loss(ids: Int32Array, B: number, T: number, device: Device): Tensor {
    const tgt = Int32Array.from(ids, (_, i) => (i % T < T - 1 ? ids[i + 1] : -100)); // [B, T]
    let h = this.embed_tokens.forward(ops.tensor(ids, [B, T], { device })); // [B, T, dim]
    const pos = positionsTensor(T, device), ranges = causalRanges(B, T, null, device);
    for (const layer of this.layers) h = layer.forward(h, pos, ranges);
    return ops.crossEntropy(this.lm_head.forward(this.norm.forward(h)), ops.tensor(tgt, [B, T], { device }));
  }
}

/** Asserts the error model on two runs of the same steps (see the header). */
function compareRuns(cpu: StepRecord[], gpu: StepRecord[], names: string[], lrs: number[]): void {
  let tight = 0, total = 0;
  for (let s = 0; s < cpu.length; s++) {
    const c = cpu[s], g = gpu[s];
    expect(Math.abs(g.loss - c.loss), `step ${s} loss ${g.loss} vs ${c.loss}`).toBeLessThanOrEqual(LOSS_REL * Math.abs(c.loss));
    let normBound = 0;
    names.forEach((name, i) => {
      const gc = c.grads[i], gg = g.grads[i];
      const M = maxAbs(gc);
      let diff = 0;
      for (let e = 0; e < gc.length; e++) {
        diff = Math.max(diff, Math.abs(gg[e] - gc[e]));
        if (gc[e] === 0 && gg[e] !== 0) expect.fail(`step ${s} ${name}[${e}]: cpu gradient is exactly 0, webgpu ${gg[e]}`);
      }
      expect(diff, `step ${s} grad ${name} (max ${M})`).toBeLessThanOrEqual(RHO * M);
      normBound += gc.length * (RHO * M) ** 2;
    });
    // |norm' - norm| <= ||g' - g||_2 <= sqrt(sum_i n_i (RHO M_i)^2)
    expect(Math.abs(g.norm - c.norm), `step ${s} grad norm`).toBeLessThanOrEqual(Math.sqrt(normBound));
  }
  names.forEach((name, i) => {
    const bounds = adamwWeightBounds(cpu, gpu, i, lrs, RHO);
    for (let s = 0; s < cpu.length; s++) {
      const wc = cpu[s].weights[i], wg = gpu[s].weights[i], b = bounds[s];
      for (let e = 0; e < wc.length; e++) {
        if (!(Math.abs(wg[e] - wc[e]) <= b[e])) {
          expect.fail(`step ${s} weight ${name}[${e}]: webgpu ${wg[e]} vs cpu ${wc[e]} (|diff| ${Math.abs(wg[e] - wc[e])} > bound ${b[e]})`);
        }
      }
    }
    const last = bounds[cpu.length - 1];
    total += last.length;
    for (const b of last) if (b < 0.01 * lrs[0]) tight++;
  });
  // The weight check has teeth: most elements have a bound far below one learning-rate step, so a wrong
  // optimizer update (an O(lr) error) cannot hide inside the sign-like elements.
  expect(tight / total).toBeGreaterThan(0.75); // measured: 87% (tiny BLT), more for the small LM
}

describe.runIf(RUN_WEBGPU)('training steps on webgpu match cpu', () => {
  it('a query that sees a single key gets exactly zero dq and dk on webgpu, as on cpu', async () => {
    // Softmax over one key is exactly 1 whatever q and k are, so dS = P (dP - Delta) must be exactly 0
    // (out = v exactly, Delta = dO . out = dO . v = dP). BLT hits this in every length-1 patch of the encoder
    // cross-attention (and at t = 0 of every causal mask); a rounding residue there becomes a full AdamW step.
    const [B, T, H, Hkv, D] = [2, 5, 4, 2, 12];
    const rng = new Rng(3);
    const data = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
    const [qd, kd, vd, gd] = [data(B * T * H * D), data(B * T * Hkv * D), data(B * T * Hkv * D), data(B * T * H * D)];
    for (const device of ['cpu', 'webgpu'] as const) {
      const q = ops.tensor(qd, [B, T, H, D], { device, requiresGrad: true });
      const k = ops.tensor(kd, [B, T, Hkv, D], { device, requiresGrad: true });
      const v = ops.tensor(vd, [B, T, Hkv, D], { device, requiresGrad: true });
      const start = ops.tensor(Int32Array.from({ length: B * T }, (_, i) => i % T), [B, T], { device }); // query t sees key t alone
      const end = ops.tensor(Int32Array.from({ length: B * T }, (_, i) => (i % T) + 1), [B, T], { device });
      const out = ops.attention(q, k, v, { start, end });
      ops.backward(ops.sum(ops.mul(out, ops.tensor(gd, [B, T, H, D], { device }))));
      // out[b, t, h, :] = v[b, t, h / (H / Hkv), :] exactly
      const expected: number[] = [];
      for (let bt = 0; bt < B * T; bt++) {
        for (let h = 0; h < H; h++) expected.push(...vd.subarray((bt * Hkv + Math.floor(h / (H / Hkv))) * D, (bt * Hkv + Math.floor(h / (H / Hkv)) + 1) * D));
      }
      expect(Array.from(await out.data()), `${device}: out = v of the one key`).toEqual(expected);
      expect((await q.grad!.data()).every((x) => x === 0), `${device}: dq exactly 0`).toBe(true);
      expect((await k.grad!.data()).every((x) => x === 0), `${device}: dk exactly 0`).toBe(true);
      expect((await v.grad!.data()).some((x) => x !== 0), `${device}: dv is not`).toBe(true);
    }
  });

  it('a small transformer LM: loss, every gradient, and weights after 3 AdamW steps', async () => {
    const [V, dim, B, T] = [48, 32, 2, 24];
    const rng = new Rng(7);
    const batches = [0, 1, 2].map(() => Int32Array.from({ length: B * T }, () => rng.int(V)));
    const lrs = [1e-3, 2e-3, 3e-3];
    const runs: Record<string, StepRecord[]> = {};
    let names: string[] = [];
    for (const device of ['cpu', 'webgpu'] as const) {
      const model = new SmallLM(V, dim, 11);
      if (device === 'webgpu') model.to('webgpu');
      expect(model.embed_tokens.weight.device).toBe(device);
      names = model.namedParameters().map(([n]) => n);
      runs[device] = await trainSteps(model, STEPS, (s) => model.loss(batches[s], B, T, device), (s) => lrs[s], 1.0);
    }
    expect(names.length).toBe(21);
    compareRuns(runs.cpu, runs.webgpu, names, lrs);
    expect(runs.webgpu[STEPS - 1].loss).toBeLessThan(runs.webgpu[0].loss + 1); // sanity: finite, no blow-up
  });

  it('a tiny BLT (entropy patching inside the step): patches, loss, every gradient, weights after 3 AdamW steps', async () => {
    const texts = ['Hello, WebGPU! caf\u00e9 \u4e2d\u6587 abcabcabcabc', 'aaaaaaaaaaaaaaaaaaaa the quick brown fox', '\u00fcber 12345 \ud83d\ude00 xyzxyzxyzxyzxyzxyzxyz'];
    const row = (i: number) => [1, ...Array.from(new TextEncoder().encode(texts[i % 3]), (b) => b + 4)].slice(0, 36);
    const batch = (s: number) => [row(s), row(s + 1)]; // [2, 36]
    const lrs = [1e-3, 2e-3, 3e-3];
    const runs: Record<string, StepRecord[]> = {};
    const patches: Record<string, string[]> = { cpu: [], webgpu: [] };
    let names: string[] = [];
    for (const device of ['cpu', 'webgpu'] as const) {
      const model = new Blt(tinyConfig(), { seed: 5 });
      if (device === 'webgpu') model.to('webgpu');
      expect(model.device).toBe(device);
      names = model.namedParameters().map(([n]) => n);
      runs[device] = await trainSteps(model, STEPS, async (s) => {
        // HF's patch_in_forward: the entropy model (on the model's device) picks the patches, then the loss
        const lengths = await model.patchLengthsFor(batch(s));
        patches[device].push(lengths.map((l) => l.join(',')).join(' | '));
        return model.loss(batch(s), lengths);
      }, (s) => lrs[s], 1.0);
    }
    expect(names.length).toBe(69); // every trained tensor; the entropy model is frozen
    expect(patches.webgpu).toEqual(patches.cpu);
    compareRuns(runs.cpu, runs.webgpu, names, lrs);
  });

  it("Meta's reference flavour: EOS document masks, N+1 patch lengths, empty and padded patches", async () => {
    // Row 0: two documents (EOS = 2 at position 9), an empty patch in the middle; row 1: fewer patches, so it
    // is padded with empty ones. Empty patches attend to nothing here (emptyPatchAttention 'none'): the
    // kernels' empty-range paths (out = 0, lse = -inf, no gradient) run on both devices.
    const enc = (t: string) => Array.from(new TextEncoder().encode(t), (b) => b + 4);
    const ids = [[1, ...enc('abc def '), 2, ...enc('ghij kl')], [1, ...enc('zzzzzzzz zzzzzzz')]]; // [2, 17]
    const lengths = [[1, 3, 5, 0, 2, 4, 3], [1, 8, 9]]; // sums 18 = T + 1 (next-token mode)
    const lrs = [1e-3];
    const runs: Record<string, StepRecord[]> = {};
    let names: string[] = [];
    for (const device of ['cpu', 'webgpu'] as const) {
      const model = new Blt(tinyConfig('reference'), { seed: 9 });
      if (device === 'webgpu') model.to('webgpu');
      names = model.namedParameters().map(([n]) => n);
      runs[device] = await trainSteps(model, 1, () => model.loss(ids, lengths), () => lrs[0], 1.0);
    }
    compareRuns(runs.cpu, runs.webgpu, names, lrs);
  });
});
