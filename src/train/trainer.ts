/**
 * Training a BLT from raw bytes, end to end (paper §2.3, §4.2-4.3, §4.8):
 *
 *   1. entropy model: a small byte LM (the BLT's own `model.patcher`), trained on next-byte prediction;
 *   2. threshold: the global entropy threshold θ whose average patch size on training data is closest to the
 *      target (paper §4.3; exact search in thresholdForPatchSize); the achieved bytes/patch is reported;
 *   3. BLT: the entropy model is frozen and patches every batch (global rule, first patch [BOS] of length 1,
 *      Meta's data pipeline); everything else trains with AdamW, warm-up + cosine decay and global-norm clipping.
 *
 * Checkpoints (`out/`): config.json + model.safetensors (HF format, loadable by `blt eval/patch/generate`)
 * every N steps and at the end, and trainer_state.safetensors (AdamW moments, step, data position, θ, loss
 * history) so `resume: true` continues bit-for-bit as an uninterrupted run would. `stop.requested` (set by
 * Ctrl-C in the CLI) ends the run after the current step with a checkpoint.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { Blt } from '../blt/blt.js';
import type { BltConfig } from '../blt/config/types.js';
import { thresholdForPatchSize, averagePatchSize } from '../blt/patching/threshold.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/dtype.js';
import { noGrad } from '../autograd/grad-mode.js';
import * as ops from '../ops/index.js';
import { AdamW } from '../optim/adamw.js';
import { openSafetensorsFile } from '../io/safetensors-file.js';
import { bltFromCheckpoint } from '../blt/load-sources.js';
import { chunkAttention, entropyContext } from '../blt/entropy-context.js';
import {
  BatchStream, evalBatches, loadCorpus, splitHeldOut, type ByteBatch, type Corpus,
} from './data.js';
import { runPhase, phaseSchedule, type PhaseResult } from './loop.js';
import { Progress, type ProgressOptions, type StepRecord } from './progress.js';
import { fileSha256, loadOptimizerState, readTrainerMeta, saveTrainerState, type TrainerMeta } from './state.js';
import { saveBltCheckpoint } from '../blt/checkpoint.js';
import { heldOutBpb } from './evaluate.js';
import { trainBaseline, type BaselineResult } from './baseline.js';

export interface TrainOptions {
  /** files, folders or globs, or an already loaded corpus */
  data: string | string[] | Corpus;
  /** checkpoint folder */
  out: string;
  /** model shapes (threshold is chosen by training) */
  config: BltConfig;
  device?: Device;
  seed?: number;
  /** BLT optimisation steps */
  steps: number;
  /** entropy-model steps */
  entropySteps: number;
  batchSize: number;
  seqLen: number;
  lr?: number;
  entropyLr?: number;
  /** warm-up steps (both phases; capped at a tenth of each phase's steps when larger) */
  warmup?: number;
  clip?: number;
  weightDecay?: number;
  /** target average patch size in bytes (paper §4.3) */
  targetPatchSize?: number;
  heldOutFraction?: number;
  /** checkpoint every n BLT/entropy steps (0: only at the end of each phase) */
  checkpointEvery?: number;
  resume?: boolean;
  /** stop (as if interrupted) once this many BLT steps are done (tests, time-boxed runs) */
  stopAfter?: number;
  /** at most this many held-out bytes are scored (default 32 KiB) */
  evalBytes?: number;
  /** also train the byte-level baseline with the same budget */
  baseline?: boolean;
  progress?: ProgressOptions;
  /** set `requested` to stop after the current step (Ctrl-C) */
  stop?: { requested: boolean };
  log?: (line: string) => void;
}

export interface TrainResult {
  outDir: string;
  threshold: number;
  /** bytes per patch on the training sample the threshold was chosen on */
  trainPatchSize: number;
  /** bytes per patch on the held-out data */
  heldOutPatchSize: number;
  bltBpb: number | null;
  entropyBpb: number | null;
  baseline: BaselineResult | null;
  history: Record<string, StepRecord[]>;
  lossHistory: Record<string, number[]>;
  interrupted: boolean;
  stepsDone: number;
  heldOutBytes: number;
  trainBytes: number;
  seconds: number;
}

export const STATE_FILE = 'trainer_state.safetensors';

/** Resolved options with defaults (what the state file records and a resume must match). */
function resolved(o: TrainOptions): Record<string, unknown> {
  return {
    seed: o.seed ?? 0, steps: o.steps, entropySteps: o.entropySteps, batchSize: o.batchSize, seqLen: o.seqLen,
    lr: o.lr ?? 3e-3, entropyLr: o.entropyLr ?? 3e-3, warmup: o.warmup ?? 20, clip: o.clip ?? 1.0,
    weightDecay: o.weightDecay ?? 0.1, targetPatchSize: o.targetPatchSize ?? 4, heldOutFraction: o.heldOutFraction ?? 0.1,
  };
}

/** Host int32 tensors of a batch (the BLT reads ids on the host for hashing and patching). */
function hostBatch(batch: ByteBatch): { ids: Tensor; targets: Tensor } {
  return {
    ids: ops.tensor(batch.inputs, [batch.B, batch.T]),        // [B, T]
    targets: ops.tensor(batch.targets, [batch.B, batch.T]),   // [B, T]
  };
}

/**
 * Patch lengths of a training batch: the model's rule with θ and the offline convention of training data
 * ("N-offline": the first patch is [BOS], ΣL = T, every L ≥ 1).
 */
export function batchPatchLengths(model: Blt, batch: ByteBatch, threshold: number): Promise<Int32Array[]> {
  return model.patchLengthsFor(ops.tensor(batch.inputs, [batch.B, batch.T]), { threshold, convention: 'N-offline' });
}

/** Next-byte entropies of every row of the batches (host arrays, one per row). */
async function entropyRows(model: Blt, batches: ByteBatch[]): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for (const b of batches) {
    const v = await model.computeEntropies(ops.tensor(b.inputs, [b.B, b.T]));
    for (let r = 0; r < b.B; r++) rows.push(Float32Array.from(v.subarray(r * b.T, (r + 1) * b.T)));
  }
  return rows;
}

/** Mean next-byte cross-entropy of the entropy model on a batch. */
function entropyModelLoss(model: Blt, batch: ByteBatch, device: Device): Tensor {
  const patcher = model.model.patcher!;
  const { B, T } = batch;
  const ids = ops.tensor(batch.inputs, [B, T], { device });
  const { positions, ranges } = chunkAttention(batch.inputs, B, T, entropyContext(model.config), device);
  const logits = patcher.forward(ids, positions, ranges); // [B, T, 260]
  return ops.crossEntropy(logits, ops.tensor(batch.targets, [B, T], { device }));
}

export async function trainBlt(o: TrainOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const opts = resolved(o);
  const device = o.device ?? 'cpu';
  const log = o.log ?? ((line: string) => { if (!o.progress?.quiet) process.stderr.write(line + '\n'); });
  const corpus = typeof o.data === 'object' && !Array.isArray(o.data) ? o.data : loadCorpus(o.data);
  const { train, heldOut } = splitHeldOut(corpus, opts.heldOutFraction as number);
  if (heldOut.size === 0) throw new Error('train: the held-out split is empty (documents too short)');
  const statePath = nodePath.join(o.out, STATE_FILE);

  // ---- model, or the checkpoint to resume from ----------------------------------------------------------
  const config: BltConfig = structuredClone(o.config);
  if (!config.patching.patchInForward) throw new Error('train: the config has no entropy model (patch_in_forward must be true)');
  let meta: TrainerMeta | null = null;
  let model: Blt;
  if (!o.resume) model = new Blt(config, { seed: opts.seed as number });
  else {
    if (!fs.existsSync(statePath)) throw new Error(`train --resume: ${statePath} does not exist (nothing to resume)`);
    meta = readTrainerMeta(statePath);
    for (const [k, v] of Object.entries(opts)) {
      if (k !== 'steps' && JSON.stringify(meta.options[k]) !== JSON.stringify(v)) {
        throw new Error(`train --resume: option '${k}' is ${JSON.stringify(v)} but the run in ${o.out} used ${JSON.stringify(meta.options[k])}`);
      }
    }
    const weightsPath = nodePath.join(o.out, 'model.safetensors');
    if (!fs.existsSync(weightsPath)) throw new Error(`train --resume: ${weightsPath} is missing`);
    if (fileSha256(weightsPath) !== meta.weightsSha256) {
      throw new Error(`train --resume: ${weightsPath} is not the file saved with ${statePath} (an interrupted save, or weights replaced by hand)`);
    }
    // the weights go straight from the file into the model's storage, one tensor at a time (no second copy)
    const weights = openSafetensorsFile(weightsPath);
    try {
      model = bltFromCheckpoint({ packaging: 'hf', dir: o.out, config, tensors: weights.tensors, files: [weightsPath], entropyDir: null,
        patchingSource: nodePath.join(o.out, 'config.json'), close: weights.close }, { dtype: 'float32', hashTables: 'memory' });
    } catch (e) {
      throw new Error(`train --resume: ${o.out}/model.safetensors does not fit the model config: ${(e as Error).message}`);
    } finally {
      weights.close();
    }
    if (meta.threshold !== null) config.patching.threshold = meta.threshold;
    log(`resuming ${o.out}: phase ${meta.phase}, step ${meta.step}`);
  }
  if (device !== 'cpu') model.to(device);
  const lossHistory: Record<string, number[]> = meta ? structuredClone(meta.history) : { entropy: [], blt: [] };
  const history: Record<string, StepRecord[]> = { entropy: [], blt: [] };
  let threshold: number | null = meta?.threshold ?? null;
  let trainPatchSize: number | null = meta?.achievedPatchSize ?? null;
  const stopNow = (stepsDone: number): boolean => (o.stop?.requested ?? false) || (o.stopAfter !== undefined && stepsDone >= o.stopAfter);

  const save = async (phase: TrainerMeta['phase'], step: number, params: [string, Tensor][], opt: AdamW, stream: BatchStream | null): Promise<void> => {
    await saveBltCheckpoint(model, o.out);
    const weightsSha256 = fileSha256(nodePath.join(o.out, 'model.safetensors'));
    await saveTrainerState(statePath, {
      version: 1, phase, step, optimizerSteps: opt.stepCount, position: stream?.position() ?? { epoch: 0, cursor: 0 },
      threshold, achievedPatchSize: trainPatchSize, options: opts, history: lossHistory, weightsSha256,
    }, params, opt);
  };
  const result = (interrupted: boolean, stepsDone: number, extra: Partial<TrainResult> = {}): TrainResult => ({
    outDir: o.out, threshold: threshold ?? NaN, trainPatchSize: trainPatchSize ?? NaN, heldOutPatchSize: NaN,
    bltBpb: null, entropyBpb: null, baseline: null, history, lossHistory, interrupted, stepsDone,
    heldOutBytes: heldOut.size, trainBytes: train.size, seconds: (performance.now() - t0) / 1000, ...extra,
  });

  // ---- 1. entropy model ---------------------------------------------------------------------------------
  const patcher = model.model.patcher!; // patch_in_forward is checked above
  if (meta === null || meta.phase === 'entropy') {
    patcher.requiresGrad(true);
    const params = patcher.namedParameters('model.patcher.');
    const opt = new AdamW(params.map(([, t]) => t), { weightDecay: opts.weightDecay as number });
    const start = meta?.phase === 'entropy' ? meta.step : 0;
    if (meta?.phase === 'entropy') loadOptimizerState(statePath, params, opt, meta.optimizerSteps);
    const stream = new BatchStream(train, { batchSize: o.batchSize, seqLen: o.seqLen, seed: opts.seed as number },
      meta?.phase === 'entropy' ? meta.position : undefined);
    lossHistory.entropy = lossHistory.entropy.slice(0, start);
    const r: PhaseResult = await runPhase({
      phase: 'entropy', params, optimizer: opt, stream,
      lossFn: (batch) => entropyModelLoss(model, batch, device),
      schedule: phaseSchedule(opts.entropyLr as number, opts.warmup as number, o.entropySteps), clip: opts.clip as number,
      startStep: start, totalSteps: o.entropySteps, checkpointEvery: o.checkpointEvery ?? 0,
      save: (n) => save('entropy', n, params, opt, stream),
      shouldStop: () => o.stop?.requested ?? false,
      progress: new Progress('entropy model', o.entropySteps, o.progress),
      onStep: (rec) => lossHistory.entropy.push(rec.loss),
    });
    history.entropy = r.history;
    patcher.requiresGrad(false);
    if (r.interrupted) return result(true, 0);
    meta = null;
  }

  // ---- 2. threshold for the target patch size (paper §4.3) --------------------------------------------
  if (threshold === null) {
    const sample = evalBatches(train, o.batchSize, o.seqLen, 64 * o.seqLen);
    const choice = thresholdForPatchSize(await entropyRows(model, sample), opts.targetPatchSize as number, 'N-offline');
    threshold = choice.threshold;
    trainPatchSize = choice.averagePatchSize;
    log(`entropy threshold θ = ${threshold.toFixed(4)} nats → ${trainPatchSize.toFixed(2)} bytes/patch on training data (target ${String(opts.targetPatchSize)})`);
  }
  config.patching.threshold = threshold;

  // ---- 3. the BLT, patched by the frozen entropy model ------------------------------------------------
  const params = model.namedParameters();
  const opt = new AdamW(params.map(([, t]) => t), { weightDecay: opts.weightDecay as number });
  const resumeBlt = meta?.phase === 'blt' || meta?.phase === 'done';
  const start = resumeBlt ? meta!.step : 0;
  if (resumeBlt) loadOptimizerState(statePath, params, opt, meta!.optimizerSteps);
  const stream = new BatchStream(train, { batchSize: o.batchSize, seqLen: o.seqLen, seed: (opts.seed as number) + 1 },
    resumeBlt ? meta!.position : undefined);
  lossHistory.blt = lossHistory.blt.slice(0, start);
  const th = threshold;
  const r = await runPhase({
    phase: 'blt', params, optimizer: opt, stream,
    lossFn: async (batch) => {
      const lengths = await batchPatchLengths(model, batch, th);
      const { ids, targets } = hostBatch(batch);
      return model.loss(ids, lengths, targets);
    },
    schedule: phaseSchedule(opts.lr as number, opts.warmup as number, o.steps), clip: opts.clip as number,
    startStep: start, totalSteps: o.steps, checkpointEvery: o.checkpointEvery ?? 0,
    save: (n) => save(n >= o.steps ? 'done' : 'blt', n, params, opt, stream),
    shouldStop: (done) => stopNow(done),
    progress: new Progress('BLT', o.steps, o.progress),
    onStep: (rec) => lossHistory.blt.push(rec.loss),
  });
  history.blt = r.history;
  if (r.interrupted) return result(true, r.stepsDone);

  // ---- 4. held-out evaluation ---------------------------------------------------------------------------
  const evalSet = evalBatches(heldOut, o.batchSize, o.seqLen, o.evalBytes ?? 32768);
  const heldOutPatchSize = averagePatchSize(await entropyRows(model, evalSet), threshold, 'N-offline');
  const blt = await heldOutBpb(evalSet, device,
    (_ids, lengths: Int32Array[], batch) => model.forwardWithPatches(ops.tensor(batch.inputs, [batch.B, batch.T]), lengths).logits,
    (_ids, batch) => batchPatchLengths(model, batch, th));
  const ent = await heldOutBpb(evalSet, device, (_ids, _x, batch) => noGrad(() => entropyLogits(model, batch, device)));
  log(`held-out bits/byte: BLT ${blt.bpb.toFixed(4)}, entropy model ${ent.bpb.toFixed(4)} (${blt.bytes} bytes); ${heldOutPatchSize.toFixed(2)} bytes/patch`);

  let baseline: BaselineResult | null = null;
  if (o.baseline) {
    baseline = await trainBaseline({
      config: config, train, evalSet, device, seed: opts.seed as number, steps: o.steps, batchSize: o.batchSize,
      seqLen: o.seqLen, lr: opts.lr as number, warmup: opts.warmup as number, clip: opts.clip as number,
      weightDecay: opts.weightDecay as number, progress: o.progress, out: nodePath.join(o.out, 'baseline'),
    });
    log(`held-out bits/byte: byte-level baseline ${baseline.bpb.toFixed(4)}`);
  }
  return result(false, r.stepsDone, { heldOutPatchSize, bltBpb: blt.bpb, entropyBpb: ent.bpb, baseline });
}

/** Logits of the entropy model alone (it is a byte LM too). */
function entropyLogits(model: Blt, batch: ByteBatch, device: Device): Tensor {
  const { positions, ranges } = chunkAttention(batch.inputs, batch.B, batch.T, entropyContext(model.config), device);
  return model.model.patcher!.forward(ops.tensor(batch.inputs, [batch.B, batch.T], { device }), positions, ranges); // [B, T, 260]
}
