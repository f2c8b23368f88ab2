/**
 * Builds a Blt from an opened checkpoint (src/blt/packaging/open.ts: config + TensorSources under HF keys).
 *
 * Interim glue, kept in this one place on purpose: every tensor is read whole and decoded to float32 (BF16/F16
 * widened exactly), then copied into a model built with the config, so it suits small checkpoints only. The
 * scalable path (16-bit weights kept 16-bit, hash tables in row blocks or read on demand) replaces this function
 * with the same signature.
 */
import { decodeTensor, type RawTensor, type StoredDtype } from '../io/safetensors.js';
import { FILE_DTYPE_BYTES, numelOf, type TensorSource } from '../io/tensor-source.js';
import type { Device } from '../tensor/dtype.js';
import type { CheckpointFiles } from '../io/checkpoint-files.js';
import { Rng } from '../tensor/random.js';
import { Blt } from './blt.js';
import { openCheckpoint, type OpenedCheckpoint, type OpenOptions } from './packaging/open.js';

/** An Rng whose draws are all 0: builds a model without spending time on an init that loading overwrites. */
export class ZeroRng extends Rng {
  override normal(): number { return 0; }
  override truncatedNormal(): number { return 0; }
}

/** The whole tensor of a source, decoded (F32/F16/BF16 -> float32, F64 -> float64, I32/I64 -> int32). */
export function readWholeTensor(src: TensorSource): RawTensor {
  const numel = numelOf(src.shape);
  const bytes = src.read(0, numel * FILE_DTYPE_BYTES[src.dtype]);
  const entry = { name: src.name, storedDtype: src.dtype as StoredDtype, shape: [...src.shape], numel, begin: 0, end: bytes.length };
  return decodeTensor(entry, bytes, src.file, true);
}

/** A model with the checkpoint's config and weights, on `device` (default the CPU). */
export function bltFromCheckpoint(ckpt: OpenedCheckpoint, opts: { device?: Device } = {}): Blt {
  const model = new Blt(ckpt.config, { rng: new ZeroRng(0) });
  if (opts.device && opts.device !== 'cpu') model.to(opts.device);
  const values = new Map<string, RawTensor>();
  for (const [key, src] of ckpt.tensors) values.set(key, readWholeTensor(src));
  model.loadStateDict(values);
  return model;
}

/** openCheckpoint + bltFromCheckpoint: any packaging, detected from the files (on disk: nodeFiles; in a browser: memoryFiles). */
export function loadAnyCheckpoint(files: CheckpointFiles, dir: string, opts: OpenOptions & { device?: Device } = {}): Blt {
  const ckpt = openCheckpoint(files, dir, opts);
  try {
    return bltFromCheckpoint(ckpt, opts);
  } finally {
    ckpt.close(); // every tensor has been read
  }
}
