/**
 * The trainer state file (`trainer_state.safetensors` next to config.json + model.safetensors): everything
 * besides the weights that `--resume` needs to continue exactly as an uninterrupted run would:
 *   m.<param>, v.<param>     AdamW moments (float32, same shapes as the parameters)
 *   __metadata__.state       JSON: phase, steps done, optimizer step count, data position, entropy threshold,
 *                            options of the run and the loss history so far.
 * Written (streaming, atomically) after the weights; it records the weights' sha256, so a crash between the two
 * writes (new weights, old state) is detected on resume instead of silently mixing two steps.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { openSafetensorsFile } from '../io/safetensors-file.js';
import { numelOf } from '../io/tensor-source.js';
import { writeSafetensorsFile, type TensorToWrite } from '../io/safetensors-writer.js';
import { getBackend } from '../backend/backend.js';
import type { Tensor } from '../tensor/tensor.js';
import type { AdamW } from '../optim/adamw.js';
import type { DataPosition } from './data.js';
import { shapeToString } from '../tensor/shape.js';

export interface TrainerMeta {
  version: 1;
  phase: 'entropy' | 'blt' | 'done';
  /** steps done in the current phase */
  step: number;
  optimizerSteps: number;
  position: DataPosition;
  threshold: number | null;
  achievedPatchSize: number | null;
  /** the options the run was started with (a resume must use the same) */
  options: Record<string, unknown>;
  /** per-step losses so far, per phase */
  history: Record<string, number[]>;
  /** sha256 of the model.safetensors written with this state (a resume refuses weights from another save) */
  weightsSha256: string;
}

/** sha256 of a file's bytes, hex (read 16 MB at a time: the file may be larger than memory allows twice). */
export function fileSha256(path: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(16 << 20);
  const fd = fs.openSync(path, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** A float32 tensor as a tensor to write (read from its device when its turn comes). */
function toWrite(name: string, t: Tensor): TensorToWrite {
  return { name, dtype: 'F32', shape: [...t.shape], chunks: async function* () { yield await t.data(); } };
}

export async function saveTrainerState(path: string, meta: TrainerMeta, params: [string, Tensor][], opt: AdamW): Promise<void> {
  const tensors = params.flatMap(([name], i) => [toWrite(`m.${name}`, opt.m[i]), toWrite(`v.${name}`, opt.v[i])]);
  await writeSafetensorsFile(path, tensors, { state: JSON.stringify(meta) });
}

export function readTrainerMeta(path: string): TrainerMeta {
  const f = openSafetensorsFile(path); // the header is enough
  f.close();
  const raw = f.metadata.state;
  if (raw === undefined) throw new Error(`trainer state ${path}: no 'state' metadata (not a blt trainer state file)`);
  const meta = JSON.parse(raw) as TrainerMeta;
  if (meta.version !== 1) throw new Error(`trainer state ${path}: unsupported version ${String(meta.version)}`);
  return meta;
}

/**
 * Restores AdamW's moments and step count from the file for these parameters (names and shapes must match).
 * Every name and shape is checked before anything is written; then one moment at a time is read into place.
 */
export function loadOptimizerState(path: string, params: [string, Tensor][], opt: AdamW, optimizerSteps: number): void {
  const f = openSafetensorsFile(path);
  try {
    const moments = params.flatMap(([name, p], i) => ([[`m.${name}`, opt.m[i]], [`v.${name}`, opt.v[i]]] as const).map(([key, dst]) => {
      const t = f.tensors.get(key);
      if (!t) throw new Error(`trainer state ${path}: missing '${key}' (was the run started with another model?)`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, j) => d !== p.shape[j])) {
        throw new Error(`trainer state ${path}: '${key}' has shape ${shapeToString(t.shape)}, parameter has ${shapeToString(p.shape)}`);
      }
      if (t.dtype !== 'F32') throw new Error(`trainer state ${path}: '${key}' is ${t.dtype}, expected F32`);
      return { t, dst };
    }));
    for (const { t, dst } of moments) {
      const values = new Float32Array(numelOf(t.shape));
      new Uint8Array(values.buffer).set(t.read(0, values.byteLength));
      const be = getBackend(dst.device);
      const up = be.upload(values);
      be.copyInto(dst.storage, up);
      be.dispose(up);
    }
  } finally {
    f.close();
  }
  opt.stepCount = optimizerSteps;
}
