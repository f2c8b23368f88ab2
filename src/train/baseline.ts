/**
 * The byte-level baseline: a plain causal transformer over bytes (src/train/byte-lm.ts), trained with the same
 * budget as the BLT (same steps, batch, sequence length, learning-rate schedule, clipping and AdamW) so the two
 * held-out bits-per-byte (eq. 18) can be compared side by side. Its shape is the BLT's global transformer
 * (width, depth, heads, FFN), run on every byte instead of once per patch.
 */
import nodePath from 'node:path';
import fs from 'node:fs';
import type { BltConfig } from '../blt/config/types.js';
import type { Device } from '../tensor/dtype.js';
import * as ops from '../ops/index.js';
import { AdamW } from '../optim/adamw.js';
import { writeSafetensorsFile } from '../io/safetensors-writer.js';
import { stateToWrite } from '../blt/checkpoint.js';
import { writeFileAtomic } from '../io/atomic.js';
import { ByteLM, type ByteLmConfig } from './byte-lm.js';
import { BatchStream, type ByteBatch, type Corpus } from './data.js';
import { runPhase, phaseSchedule } from './loop.js';
import { Progress, type ProgressOptions, type StepRecord } from './progress.js';
import { heldOutBpb } from './evaluate.js';

export interface BaselineOptions {
  config: BltConfig;
  train: Corpus;
  evalSet: ByteBatch[];
  device: Device;
  seed: number;
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  warmup: number;
  clip: number;
  weightDecay: number;
  progress?: ProgressOptions;
  /** folder for baseline.json + model.safetensors (optional) */
  out?: string;
}

export interface BaselineResult {
  bpb: number;
  parameters: number;
  config: ByteLmConfig;
  history: StepRecord[];
}

/** The baseline's shape: the BLT's global transformer over bytes. */
export function baselineConfigFor(cfg: BltConfig): ByteLmConfig {
  const g = cfg.global;
  return {
    vocabSize: cfg.vocabSize, dim: g.hiddenSize, layers: g.numLayers, heads: g.numHeads, hidden: g.intermediateSize,
    ropeTheta: cfg.patcher.ropeTheta, eps: g.rmsNormEps, window: cfg.behaviour.localWindow,
  };
}

export async function trainBaseline(o: BaselineOptions): Promise<BaselineResult> {
  const cfg = baselineConfigFor(o.config);
  const model = new ByteLM(cfg, o.seed + 2);
  if (o.device !== 'cpu') model.to(o.device);
  const params = model.namedParameters();
  const opt = new AdamW(params.map(([, t]) => t), { weightDecay: o.weightDecay });
  const stream = new BatchStream(o.train, { batchSize: o.batchSize, seqLen: o.seqLen, seed: o.seed + 1 });
  const r = await runPhase({
    phase: 'baseline', params, optimizer: opt, stream,
    lossFn: (b) => model.loss(ops.tensor(b.inputs, [b.B, b.T], { device: o.device }), ops.tensor(b.targets, [b.B, b.T], { device: o.device })),
    schedule: phaseSchedule(o.lr, o.warmup, o.steps), clip: o.clip, startStep: 0, totalSteps: o.steps, checkpointEvery: 0,
    progress: new Progress('baseline', o.steps, o.progress),
  });
  const ev = await heldOutBpb(o.evalSet, o.device, (ids) => model.forward(ids));
  if (o.out) {
    fs.mkdirSync(o.out, { recursive: true });
    await writeSafetensorsFile(nodePath.join(o.out, 'model.safetensors'), model.stateEntries().map(([k, v]) => stateToWrite(k, v)), { format: 'pt' });
    writeFileAtomic(nodePath.join(o.out, 'baseline.json'), JSON.stringify({ ...cfg, heldOutBpb: ev.bpb }, null, 2) + '\n');
  }
  return { bpb: ev.bpb, parameters: model.numel(true), config: cfg, history: r.history };
}
