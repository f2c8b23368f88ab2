// The training pipeline on a micro BLT: entropy model -> threshold -> BLT; exact resume; NaN stop with the
// checkpoint left intact; stop requests (Ctrl-C) save a resumable checkpoint.
import '../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import { describe, expect, it, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { trainBlt, STATE_FILE, type TrainOptions } from '../../src/train/trainer.js';
import { corpusFromTexts } from '../../src/train/data.js';
import { loadBltCheckpoint } from '../../src/blt/checkpoint.js';
import { writeSafetensors } from '../../src/io/safetensors-writer.js';
import { readSafetensorsFile } from '../../src/io/safetensors-file.js';
import { fileSha256, readTrainerMeta } from '../../src/train/state.js';
import { microConfig, TEXTS } from './fixtures.js';

const root = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-train-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const corpus = corpusFromTexts(TEXTS);
function opts(out: string, extra: Partial<TrainOptions> = {}): TrainOptions {
  return {
    data: corpus, out: nodePath.join(root, out), config: microConfig(), seed: 3, steps: 8, entropySteps: 4,
    batchSize: 2, seqLen: 24, lr: 3e-3, entropyLr: 3e-3, warmup: 2, targetPatchSize: 3, heldOutFraction: 0.2,
    checkpointEvery: 0, evalBytes: 96, progress: { quiet: true }, log: () => {}, ...extra,
  };
}

function weights(dir: string): Map<string, Float32Array> {
  return new Map([...readSafetensorsFile(nodePath.join(dir, 'model.safetensors')).tensors].map(([k, t]) => [k, t.data as Float32Array]));
}

describe('trainBlt', () => {
  it('trains, picks a threshold near the target patch size, saves a loadable HF checkpoint', async () => {
    const r = await trainBlt(opts('full'));
    expect(r.interrupted).toBe(false);
    expect(r.stepsDone).toBe(8);
    expect(r.lossHistory.entropy.length).toBe(4);
    expect(r.lossHistory.blt.length).toBe(8);
    // the exact search lands on the reachable count nearest the target; with 2 rows × 24 bytes that is within ±1 byte/patch
    expect(Math.abs(r.trainPatchSize - 3)).toBeLessThan(1);
    expect(r.bltBpb).toBeGreaterThan(0);
    expect(r.bltBpb).toBeLessThan(9); // untrained ≈ log2(260) = 8.02; a few steps must not be worse than ~uniform+1
    const model = await loadBltCheckpoint(r.outDir);
    expect(model.config.patching.threshold).toBeCloseTo(r.threshold, 6);
    const meta = readTrainerMeta(nodePath.join(r.outDir, STATE_FILE));
    expect(meta.phase).toBe('done');
    expect(meta.step).toBe(8);
  });

  it('k steps + resume k steps gives bit-identical weights to 2k straight', async () => {
    const straight = await trainBlt(opts('straight'));
    const first = await trainBlt(opts('resumed', { stopAfter: 4, checkpointEvery: 3 }));
    expect(first.interrupted).toBe(true);
    expect(first.stepsDone).toBe(4);
    const second = await trainBlt(opts('resumed', { resume: true }));
    expect(second.stepsDone).toBe(8);
    expect(second.lossHistory.blt).toEqual(straight.lossHistory.blt);
    const a = weights(straight.outDir), b = weights(second.outDir);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(Buffer.from(b.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
  });

  it('a stop request (Ctrl-C) inside the entropy-model phase saves a state that resumes exactly', async () => {
    const straight = await trainBlt(opts('ent-straight', { steps: 2 }));
    const stop = { requested: false };
    const o = opts('ent-resumed', { steps: 2, stop });
    const running = trainBlt(o);
    stop.requested = true; // seen after the first entropy-model step (the step awaits its loss first)
    const r1 = await running;
    expect(r1.interrupted).toBe(true);
    const meta = readTrainerMeta(nodePath.join(o.out, STATE_FILE));
    expect(meta.phase).toBe('entropy');
    expect(meta.step).toBe(1);
    const r2 = await trainBlt({ ...o, stop: undefined, resume: true });
    expect(r2.lossHistory.entropy).toEqual(straight.lossHistory.entropy);
    expect(r2.lossHistory.blt).toEqual(straight.lossHistory.blt);
    expect(r2.threshold).toBe(straight.threshold);
  });

  it('refuses to resume with different options, or without a state file', async () => {
    await expect(trainBlt(opts('resumed', { resume: true, batchSize: 3 }))).rejects.toThrow(/option 'batchSize' is 3 but the run .* used 2/);
    await expect(trainBlt(opts('never-run', { resume: true }))).rejects.toThrow(/nothing to resume/);
    // another model: refused naming the file and the tensor, before any step
    const wider = microConfig();
    wider.global.intermediateSize = 96;
    await expect(trainBlt(opts('resumed', { resume: true, config: wider })))
      .rejects.toThrow(/resumed\/model\.safetensors does not fit the model config: .*key 'model\.global_transformer\.layers\.0\.mlp\.gate_proj\.weight'.*shape \[64,32\] but the config implies \[96,32\]/s);
  });

  it('a NaN loss stops training naming the step and a parameter; the last checkpoint stays intact', async () => {
    const o = opts('nan', { checkpointEvery: 2 });
    await trainBlt({ ...o, stopAfter: 2 });
    // corrupt one weight of the saved checkpoint (and re-register its hash) so the resumed run meets a NaN at step 2
    const wPath = nodePath.join(o.out, 'model.safetensors'), sPath = nodePath.join(o.out, STATE_FILE);
    const w = readSafetensorsFile(wPath);
    (w.tensors.get('model.global_transformer.layers.0.mlp.down_proj.weight')!.data as Float32Array)[0] = NaN;
    fs.writeFileSync(wPath, writeSafetensors(w.tensors, w.metadata));
    const st = readSafetensorsFile(sPath);
    const meta = { ...readTrainerMeta(sPath), weightsSha256: fileSha256(wPath) };
    fs.writeFileSync(sPath, writeSafetensors(st.tensors, { state: JSON.stringify(meta) }));
    const weightsBefore = fs.readFileSync(wPath), stateBefore = fs.readFileSync(sPath);
    await expect(trainBlt({ ...o, resume: true })).rejects.toThrow(/blt training diverged at step 2: loss NaN.*first parameter with a non-finite gradient: 'model\./);
    // nothing was written by the failed run
    expect(fs.readFileSync(wPath).equals(weightsBefore)).toBe(true);
    expect(fs.readFileSync(sPath).equals(stateBefore)).toBe(true);
  });

  it('an update that makes the weights non-finite is caught before it is saved', async () => {
    // lr 1e39: every |update| ≈ lr exceeds float32's range (3.4e38), so the first update makes the weights ±Inf
    const o = opts('nan-update', { lr: 1e39, checkpointEvery: 1 });
    await expect(trainBlt(o)).rejects.toThrow(/blt training diverged at step 0: parameter 'model\.[^']+' is not finite after the update/);
    const meta = readTrainerMeta(nodePath.join(o.out, STATE_FILE));
    expect(meta.phase).toBe('entropy'); // the last checkpoint is the one saved at the end of the entropy-model phase
    expect(Number.isFinite(weights(o.out).get('lm_head.weight')![0])).toBe(true);
  });

  it('refuses to resume from weights that are not the ones saved with the trainer state', async () => {
    const o = opts('mismatch', { stopAfter: 1 });
    await trainBlt(o);
    const wPath = nodePath.join(o.out, 'model.safetensors');
    const bytes = fs.readFileSync(wPath);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(wPath, bytes);
    await expect(trainBlt({ ...o, stopAfter: undefined, resume: true })).rejects.toThrow(/is not the file saved with/);
  });
});

describe('trainBaseline', () => {
  it('trains the byte-level transformer with the same budget and scores the held-out batches', async () => {
    const { trainBaseline, baselineConfigFor } = await import('../../src/train/baseline.js');
    const { evalBatches, splitHeldOut } = await import('../../src/train/data.js');
    const cfg = microConfig();
    const { train, heldOut } = splitHeldOut(corpus, 0.2);
    const r = await trainBaseline({
      config: cfg, train, evalSet: evalBatches(heldOut, 2, 24, 96), device: 'cpu', seed: 0, steps: 12, batchSize: 2,
      seqLen: 24, lr: 1e-2, warmup: 2, clip: 1, weightDecay: 0.1, progress: { quiet: true },
    });
    expect(baselineConfigFor(cfg)).toMatchObject({ dim: 32, layers: 1, heads: 2, hidden: 64 });
    expect(r.history.length).toBe(12);
    // 12 steps at lr 1e-2 must move the loss well below its start (≈ ln 260 = 5.56): mean of the last 3 < first - 1
    const last = r.history.slice(-3).reduce((s, h) => s + h.loss, 0) / 3;
    expect(last).toBeLessThan(r.history[0].loss - 1);
    expect(r.bpb).toBeGreaterThan(0);
    expect(r.bpb).toBeLessThan(8.1);
  });
});
