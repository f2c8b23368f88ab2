/**
 * One training phase (entropy model, BLT, or baseline): the optimisation loop of paper §4.8.
 *
 * Per step s (0-based), inside scopeAsync so every intermediate tensor is freed (essential on WebGPU):
 *   lr    = lr(s)                                 warm-up then cosine decay (src/optim/schedule.ts)
 *   loss  = mean next-byte cross-entropy
 *   g     = d loss / d params                     (backward)
 *   total = sqrt(Σ g²),  coef = min(1, clip / (total + 1e-6))      global-norm clip
 *   AdamW step with gradScale = coef              (decoupled decay first; src/optim/adamw.ts)
 * A non-finite loss or gradient norm stops the phase with a TrainingDivergedError naming the step and the first
 * parameter whose gradient is not finite; nothing is written for that step, so the last checkpoint stays intact.
 * Before every checkpoint the weights themselves are checked too (an update can overflow with finite gradients).
 */
import type { Tensor } from '../tensor/tensor.js';
import { scopeAsync } from '../tensor/scope.js';
import * as ops from '../ops/index.js';
import { AdamW } from '../optim/adamw.js';
import { clipGradNorm } from '../optim/clip.js';
import { learningRate, type CosineSchedule } from '../optim/schedule.js';
import type { BatchStream, ByteBatch } from './data.js';
import { Progress, type StepRecord } from './progress.js';

export class TrainingDivergedError extends Error {
  constructor(readonly phase: string, readonly step: number, readonly parameter: string | null, detail: string) {
    super(`${phase} training diverged at step ${step}: ${detail}` +
      (parameter === null ? '' : `; first parameter with a non-finite gradient: '${parameter}'`) +
      '. The last saved checkpoint was left unchanged.');
    this.name = 'TrainingDivergedError';
  }
}

export interface PhaseOptions {
  phase: string;
  /** trained tensors with their state-dict names (the optimizer's params, same order) */
  params: [string, Tensor][];
  optimizer: AdamW;
  /** scalar mean loss of a batch (called inside the step's scope) */
  lossFn: (batch: ByteBatch) => Tensor | Promise<Tensor>;
  stream: BatchStream;
  schedule: CosineSchedule;
  /** global grad-norm clip (paper: 1.0) */
  clip: number;
  /** first step to run (resume) and total number of steps of the phase */
  startStep: number;
  totalSteps: number;
  /** save every n steps (0: only at the end) */
  checkpointEvery: number;
  /** called after step `stepsDone - 1` when a checkpoint is due, at the end, and when stopped */
  save?: (stepsDone: number) => void | Promise<void>;
  /** polled after every step: true stops the phase after saving (Ctrl-C) */
  shouldStop?: (stepsDone: number) => boolean;
  progress?: Progress;
  onStep?: (r: StepRecord) => void;
}

export interface PhaseResult {
  stepsDone: number;
  interrupted: boolean;
  history: StepRecord[];
}

/** Name of the first parameter for which pick(p) has a NaN or ±Inf (null if all are finite). */
async function firstNonFinite(params: [string, Tensor][], pick: (p: Tensor) => Tensor | null): Promise<string | null> {
  for (const [name, p] of params) {
    const t = pick(p);
    if (t === null) continue;
    const v = await t.data();
    for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return name;
  }
  return null;
}

/** Name of the first parameter whose gradient has a NaN or ±Inf (null if all are finite). */
export function firstNonFiniteGradient(params: [string, Tensor][]): Promise<string | null> {
  return firstNonFinite(params, (p) => p.grad);
}

export async function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  const history: StepRecord[] = [];
  const tensors = o.params.map(([, t]) => t);
  const t0 = performance.now();
  let stepsDone = o.startStep;
  for (let s = o.startStep; s < o.totalSteps; s++) {
    const stepStart = performance.now();
    const lr = learningRate(s, o.schedule);
    const { loss, norm, bytes } = await scopeAsync(async () => {
      const batch = o.stream.next();
      const lossT = await o.lossFn(batch);
      const value = (await lossT.data())[0];
      ops.backward(lossT);
      const diverged = async (detail: string): Promise<never> => {
        const bad = await firstNonFiniteGradient(o.params);
        o.optimizer.zeroGrad();
        throw new TrainingDivergedError(o.phase, s, bad, detail);
      };
      if (!Number.isFinite(value)) await diverged(`loss ${value}`);
      let clipped: { norm: number; coef: number };
      try {
        clipped = await clipGradNorm(tensors, o.clip);
      } catch (e) {
        return diverged(`loss ${value}, gradient not finite (${(e as Error).message})`);
      }
      const { norm, coef } = clipped;
      if (!Number.isFinite(norm)) await diverged(`loss ${value}, gradient norm ${norm}`);
      o.optimizer.step({ lr, gradScale: coef });
      o.optimizer.zeroGrad();
      return { loss: value, norm, bytes: batch.B * batch.T };
    });
    stepsDone = s + 1;
    const now = performance.now();
    const rec: StepRecord = {
      phase: o.phase, step: s, loss, bpb: loss / Math.LN2, gradNorm: norm, lr,
      bytesPerSec: bytes / Math.max((now - stepStart) / 1000, 1e-9), elapsedSec: (now - t0) / 1000,
    };
    history.push(rec);
    o.progress?.update(rec, o.startStep);
    o.onStep?.(rec);
    // Yield to the event loop once per step: on the CPU every await above resolves as a microtask, so without
    // this a signal handler (Ctrl-C) would not run until training ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const stop = o.shouldStop?.(stepsDone) ?? false;
    const due = o.checkpointEvery > 0 && stepsDone % o.checkpointEvery === 0;
    if (o.save && (due || stop || stepsDone === o.totalSteps)) {
      // never overwrite a good checkpoint with weights an update has made non-finite
      const bad = await firstNonFinite(o.params, (p) => p);
      if (bad !== null) throw new TrainingDivergedError(o.phase, s, null, `parameter '${bad}' is not finite after the update`);
      await o.save(stepsDone);
    }
    if (stop) {
      o.progress?.finish();
      return { stepsDone, interrupted: true, history };
    }
  }
  if (o.save && o.startStep === o.totalSteps) await o.save(stepsDone);
  o.progress?.finish();
  return { stepsDone, interrupted: false, history };
}

/** Schedule of a phase: warm-up (at most a tenth of the phase), cosine decay to a tenth of the peak. */
export function phaseSchedule(peak: number, warmup: number, total: number): { peak: number; warmup: number; total: number; minLr: number } {
  return { peak, warmup: Math.max(1, Math.min(warmup, Math.floor(total / 10))), total, minLr: peak / 10 };
}
