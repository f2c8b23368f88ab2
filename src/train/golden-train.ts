/**
 * Training parity with Hugging Face's BLT (shared/golden-train/README.md): replays the 12 recorded steps —
 * fixed batches and patch lengths, lr(s) = peak · min(1, (s+1)/warmup), mean cross-entropy over all B·T
 * positions, global-norm clip (max 1.0), PyTorch AdamW (decay first, eps outside the sqrt), the entropy model
 * frozen — and runs the README's checks A-G with its tolerances (section 6.2):
 *   A  step-0 loss                        |Δ| ≤ 5e-5
 *   B  step-0 raw gradients               per tensor max|Δ| / max|g_ref| ≤ 2e-5
 *   B' exact zeros of grads_step0 stay exactly 0
 *   C  step-0 global norm                 relative ≤ 1e-4
 *   D  clip + AdamW fed grads_step0       |Δ| ≤ 2.5e-7 vs weights_after_step0; frozen tensors bit-identical
 *   E  full step 0 (own gradients)        |Δ| ≤ 1e-6 where |coef·g_ref| ≥ 1e-5, else ≤ 2·lr(0)
 *   F  all steps: loss and grad norm      |Δ| ≤ 5e-5, relative ≤ 1e-4
 *   G  final weights                      ‖w − w_ref‖₂ / ‖w_ref − w_init‖₂ ≤ 1e-3 and max|Δ| ≤ 1e-2
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { Blt } from '../blt/blt.js';
import { loadBltConfigFile } from '../blt/config/file.js';
import { type RawTensor } from '../io/safetensors.js';
import { readSafetensorsFile } from '../io/safetensors-file.js';
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/dtype.js';
import { scopeAsync, keep } from '../tensor/scope.js';
import { getBackend } from '../backend/backend.js';
import * as ops from '../ops/index.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip.js';

export interface GoldenTrainRow {
  check: string;
  what: string;
  value: number;
  tolerance: number;
  ok: boolean;
}

export interface GoldenTrainResult {
  ok: boolean;
  rows: GoldenTrainRow[];
}

interface Expected {
  steps: { step: number; lr: number; loss: number; grad_norm: number; clip_coef: number }[];
  suggested_tolerances: Record<string, number>;
}

function need(dir: string, name: string): string {
  const p = nodePath.join(dir, name);
  if (!fs.existsSync(p)) throw new Error(`check-train-golden: ${p} is missing (is '${dir}' a golden-train folder?)`);
  return p;
}

/** A fresh model with the golden initial weights on `device`. */
async function loadModel(dir: string, device: Device): Promise<Blt> {
  const config = await loadBltConfigFile(need(dir, 'config.json'));
  const model = new Blt(config, { seed: 0 });
  model.loadStateDict(readSafetensorsFile(need(dir, 'model.safetensors')).tensors);
  if (device !== 'cpu') model.to(device);
  return model;
}

/** One step's inputs: host ids [B, T], targets [B, T] and patch-length rows. */
function stepBatch(batches: Map<string, RawTensor>, s: number): { ids: Tensor; targets: Tensor; lengths: Int32Array[] } {
  const inp = batches.get('input_ids')!, tgt = batches.get('target_ids')!, pl = batches.get('patch_lengths')!;
  const [, B, T] = inp.shape;
  const P = pl.shape[2];
  const ids = ops.tensor(Int32Array.from(inp.data.subarray(s * B * T, (s + 1) * B * T)), [B, T]);     // [B, T]
  const targets = ops.tensor(Int32Array.from(tgt.data.subarray(s * B * T, (s + 1) * B * T)), [B, T]); // [B, T]
  const lengths: Int32Array[] = [];
  for (let b = 0; b < B; b++) lengths.push(Int32Array.from(pl.data.subarray((s * B + b) * P, (s * B + b + 1) * P)));
  return { ids, targets, lengths };
}

/** lr(s) = peak · min(1, (s+1)/warmup), float64, q first (the schedule the HF training golden set was made with). */
export function goldenLr(s: number, peak: number, warmup: number): number {
  const q = (s + 1) / warmup;
  return peak * Math.min(1, q);
}

async function host(t: Tensor): Promise<Float32Array> {
  const d = await t.data();
  return d instanceof Float32Array ? d : Float32Array.from(d);
}

/** How many values of the tensors that are not trained differ from the reference's (the frozen entropy model). */
async function frozenChanges(model: Blt, trainedKeys: Set<string>, ref: Map<string, RawTensor>): Promise<number> {
  let changed = 0;
  for (const [name, t] of model.stateDict()) {
    if (trainedKeys.has(name)) continue;
    const w = await host(t), want = ref.get(name)!.data;
    for (let i = 0; i < w.length; i++) if (w[i] !== want[i]) changed++;
  }
  return changed;
}

export async function checkTrainGolden(dir: string, opts: { device?: Device; log?: (line: string) => void } = {}): Promise<GoldenTrainResult> {
  const device = opts.device ?? 'cpu';
  const log = opts.log ?? ((line: string) => console.log(line));
  const expected = JSON.parse(fs.readFileSync(need(dir, 'expected.json'), 'utf8')) as Expected;
  const train = JSON.parse(fs.readFileSync(need(dir, 'train.json'), 'utf8')) as {
    lr_schedule: { peak_lr: number; warmup_steps: number }; grad_clip: { max_norm: number };
    optimizer: { betas: [number, number]; eps: number; weight_decay: number };
    trained_parameters: { keys: string[] }; frozen_parameters: { keys: string[] };
  };
  const tol = expected.suggested_tolerances;
  const batches = readSafetensorsFile(need(dir, 'batches.safetensors')).tensors;
  const init = readSafetensorsFile(need(dir, 'model.safetensors')).tensors;
  const grads0 = readSafetensorsFile(need(dir, 'grads_step0.safetensors')).tensors;
  const after0 = readSafetensorsFile(need(dir, 'weights_after_step0.safetensors')).tensors;
  const final = readSafetensorsFile(need(dir, 'final.safetensors')).tensors;
  const S = expected.steps.length;
  const { peak_lr: peak, warmup_steps: warmup } = train.lr_schedule;
  const maxNorm = train.grad_clip.max_norm;
  const adamOpts = { beta1: train.optimizer.betas[0], beta2: train.optimizer.betas[1], eps: train.optimizer.eps, weightDecay: train.optimizer.weight_decay };
  const trainedKeys = new Set(train.trained_parameters.keys);
  const rows: GoldenTrainRow[] = [];
  const row = (check: string, what: string, value: number, tolerance: number, ok = value <= tolerance): void => {
    rows.push({ check, what, value, tolerance, ok });
    log(`${ok ? 'ok  ' : 'FAIL'} ${check.padEnd(2)} ${what.padEnd(58)} ${value.toExponential(3)}  (tolerance ${tolerance.toExponential(1)})`);
  };

  /** Trained parameters of a model in golden order, checked against train.json's key list. */
  const trainedOf = (m: Blt): [string, Tensor][] => {
    const named = m.namedParameters();
    const names = named.map(([n]) => n);
    const missing = train.trained_parameters.keys.filter((k) => !names.includes(k));
    const extra = names.filter((n) => !trainedKeys.has(n));
    if (missing.length || extra.length) {
      throw new Error(`check-train-golden: trained parameters differ from train.json: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    }
    return named;
  };

  // ---- D: optimizer only, fed the reference gradients ------------------------------------------------
  {
    const m = await loadModel(dir, device);
    const params = trainedOf(m);
    for (const [name, p] of params) {
      const g = grads0.get(name);
      if (!g) throw new Error(`check-train-golden: grads_step0.safetensors has no '${name}'`);
      p.grad = keep(new Tensor(getBackend(device).upload(g.data as Float32Array), p.shape));
    }
    const opt = new AdamW(params.map(([, t]) => t), adamOpts);
    const { coef } = await clipGradNorm(params.map(([, t]) => t), maxNorm);
    opt.step({ lr: expected.steps[0].lr, gradScale: coef });
    let worst = 0;
    for (const [name, p] of params) {
      const w = await host(p), ref = after0.get(name)!.data;
      for (let i = 0; i < w.length; i++) worst = Math.max(worst, Math.abs(w[i] - ref[i]));
    }
    row('D', 'optimizer only (grads_step0 → clip → AdamW): max |Δ|', worst, tol.optimizer_only_step0_abs);
    const frozenDiff = await frozenChanges(m, trainedKeys, after0);
    row('D', 'frozen entropy-model values changed (must be 0)', frozenDiff, 0, frozenDiff === 0);
    opt.zeroGrad();
  }

  // ---- A, B, B', C, E, F, G: the full 12-step replay -------------------------------------------------
  const model = await loadModel(dir, device);
  const params = trainedOf(model);
  const opt = new AdamW(params.map(([, t]) => t), adamOpts);
  let worstLoss = 0, worstNorm = 0;
  for (let s = 0; s < S; s++) {
    const exp = expected.steps[s];
    const lr = goldenLr(s, peak, warmup);
    await scopeAsync(async () => {
      const { ids, targets, lengths } = stepBatch(batches, s);
      const loss = model.loss(ids, lengths, targets);
      const value = (await loss.data())[0];
      ops.backward(loss);
      const { norm, coef } = await clipGradNorm(params.map(([, t]) => t), maxNorm);
      worstLoss = Math.max(worstLoss, Math.abs(value - exp.loss));
      worstNorm = Math.max(worstNorm, Math.abs(norm - exp.grad_norm) / exp.grad_norm);
      log(`step ${String(s).padStart(2)}  lr ${lr.toFixed(4)}  loss ${value.toFixed(6)} (ref ${exp.loss.toFixed(6)})  |g| ${norm.toFixed(6)} (ref ${exp.grad_norm.toFixed(6)})  coef ${coef.toFixed(6)}`);
      if (s === 0) {
        row('A', 'step-0 loss |Δ|', Math.abs(value - exp.loss), tol.loss_abs);
        let worstRel = 0, worstName = '', zeroViolations = 0;
        for (const [name, p] of params) {
          const g = await host(p.grad!), ref = grads0.get(name)!.data;
          let maxRef = 0, maxD = 0;
          for (let i = 0; i < g.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxD = Math.max(maxD, Math.abs(g[i] - ref[i]));
            if (ref[i] === 0 && g[i] !== 0) zeroViolations++;
          }
          const rel = maxRef > 0 ? maxD / maxRef : maxD;
          if (rel > worstRel) { worstRel = rel; worstName = name; }
        }
        row('B', `step-0 gradients, worst max|Δ|/max|g_ref| (${worstName.replace(/^model\./, '')})`, worstRel, tol.grads_step0_rel_to_tensor_max);
        row("B'", 'exact zeros of grads_step0 that are nonzero here', zeroViolations, 0, zeroViolations === 0);
        row('C', 'step-0 gradient norm, relative |Δ|', Math.abs(norm - exp.grad_norm) / exp.grad_norm, tol.grad_norm_rel);
      }
      opt.step({ lr, gradScale: coef });
      opt.zeroGrad();
      if (s === 0) {
        let worstSens = 0, worstInsens = 0;
        for (const [name, p] of params) {
          const w = await host(p), ref = after0.get(name)!.data, g = grads0.get(name)!.data;
          for (let i = 0; i < w.length; i++) {
            const d = Math.abs(w[i] - ref[i]);
            if (Math.abs(exp.clip_coef * g[i]) >= 1e-5) worstSens = Math.max(worstSens, d);
            else worstInsens = Math.max(worstInsens, d);
          }
        }
        row('E', 'after step 0, max |Δ| where |coef·g_ref| ≥ 1e-5', worstSens, tol.after_step0_abs_insensitive);
        row('E', 'after step 0, max |Δ| elsewhere', worstInsens, tol.after_step0_abs_sensitive_lr0_factor * exp.lr);
      }
    });
  }
  row('F', `all ${S} steps: worst loss |Δ|`, worstLoss, tol.loss_abs);
  row('F', `all ${S} steps: worst grad-norm relative |Δ|`, worstNorm, tol.grad_norm_rel);

  let diff2 = 0, upd2 = 0, maxAbs = 0;
  for (const [name, p] of params) {
    const w = await host(p), ref = final.get(name)!.data, w0 = init.get(name)!.data;
    for (let i = 0; i < w.length; i++) {
      const d = w[i] - ref[i];
      diff2 += d * d;
      upd2 += (ref[i] - w0[i]) ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
  }
  row('G', 'final weights ‖w − w_ref‖₂ / ‖w_ref − w_init‖₂', Math.sqrt(diff2 / upd2), tol.final_rel_l2_vs_update);
  row('G', 'final weights max |Δ|', maxAbs, tol.final_max_abs);
  const frozenDiff = await frozenChanges(model, trainedKeys, final);
  row('G', 'frozen entropy-model values changed after 12 steps (must be 0)', frozenDiff, 0, frozenDiff === 0);
  const ok = rows.every((r) => r.ok);
  log(ok ? `training parity: all ${rows.length} checks pass (${device})` : `training parity: ${rows.filter((r) => !r.ok).length} check(s) FAIL (${device})`);
  return { ok, rows };
}
