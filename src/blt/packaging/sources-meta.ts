// The weights of Meta's checkpoint folders as TensorSources under this project's (Hugging Face) key names.
//
// Meta's BLT state dict uses its module names (`local_encoder.layers.0.attention.wq.weight`, …) and one hash
// table per (function, n-gram size), `encoder_hash_tok_embedding.{i}.weight`; src/io/blt-keys.ts maps the names,
// and the tables are presented as HF's one fused table by stacking their rows lazily (concatRows: a row read
// touches only the table it lies in). The entropy model lives in a folder of its own, in one of two forms:
//   params.json + consolidated.pth     a training run's folder (Meta's original release, and the BLT Hub's entropy_model/)
//   config.json {"args"} + model.safetensors   the Hub form of the entropy model alone (facebook/blt-entropy; BF16)

import { joinPath, type CheckpointFiles } from '../../io/checkpoint-files.js';
import { convertOriginal, isEntropyModelKey, type BltHashConfig, type TensorKind } from '../../io/blt-keys.js';
import { openPth } from '../../io/pth/pth.js';
import { openSafetensors } from '../../io/safetensors-source.js';
import { concatRows, sliceRows, type TensorSource } from '../../io/tensor-source.js';
import type { BltConfig } from '../config/types.js';
import { metaEntropyFromArgs, metaEntropyFromParams, metaPatcherArgs, type MetaEntropyModel, type MetaPatcherArgs } from './meta-config.js';

/** Lazy sources for the whole-dict key converters of blt-keys.ts: stacking and slicing read nothing. */
export const SOURCE_TENSORS: TensorKind<TensorSource> = {
  dtypeOf: (t) => t.dtype,
  shapeOf: (t) => t.shape,
  tableDtypes: ['F32', 'BF16', 'F16', 'F64'],
  concat: (parts, name) => concatRows(parts, name),
  slice: (t, start, rows, name) => sliceRows(t, start, rows, name),
};

export function hashConfigOf(cfg: BltConfig): BltHashConfig {
  return {
    encoder_hash_byte_group_size: cfg.hash.groupSizes, encoder_hash_byte_group_vocab: cfg.hash.vocab,
    encoder_hash_byte_group_nb_functions: cfg.hash.nbFunctions,
  };
}

/** Reads a JSON file, naming it in errors. */
export function readJson(files: CheckpointFiles, path: string): unknown {
  try {
    return JSON.parse(files.readText(path));
  } catch (e) {
    throw new Error(`${path}: cannot read or parse JSON (${(e as Error).message})`);
  }
}

/** Meta-named BLT tensors (and the entropy model's, when given) -> HF-named sources, hash tables fused. */
export function hfNamedSources(blt: Map<string, TensorSource>, cfg: BltConfig, entropy?: Map<string, TensorSource>): Map<string, TensorSource> {
  return convertOriginal(SOURCE_TENSORS, blt, hashConfigOf(cfg), entropy);
}

export interface MetaEntropyFolder {
  dir: string;
  form: 'params.json + consolidated.pth' | 'config.json + model.safetensors';
  model: MetaEntropyModel;
  /** Meta key names (tok_embeddings.weight, layers.{i}.…, norm.weight, output.weight) */
  tensors: Map<string, TensorSource>;
  /** data.patcher_args of its params.json (the params.json form only) */
  patching: { args: MetaPatcherArgs; source: string } | null;
  files: string[];
  close(): void;
}

/** Which of the two entropy-model forms `dir` holds, or null. */
export function entropyFolderForm(files: CheckpointFiles, dir: string): MetaEntropyFolder['form'] | null {
  const has = (f: string): boolean => files.exists(joinPath(dir, f));
  if (has('params.json') && has('consolidated.pth')) return 'params.json + consolidated.pth';
  if (has('config.json') && has('model.safetensors')) return 'config.json + model.safetensors';
  return null;
}

/** Opens an entropy-model folder in either form (see the top of this file). */
export function openMetaEntropyFolder(fs: CheckpointFiles, dir: string): MetaEntropyFolder {
  const form = entropyFolderForm(fs, dir);
  let model: MetaEntropyModel, opened: { tensors: Map<string, TensorSource>; close(): void };
  let patching: MetaEntropyFolder['patching'] = null, files: string[];
  if (form === 'params.json + consolidated.pth') {
    const paramsPath = joinPath(dir, 'params.json'), pth = joinPath(dir, 'consolidated.pth');
    const params = readJson(fs, paramsPath);
    model = metaEntropyFromParams(params, paramsPath);
    const p = metaPatcherArgs(params, paramsPath);
    patching = p === null ? null : { args: p, source: paramsPath };
    opened = openPth(fs, pth);
    files = [paramsPath, pth];
  } else if (form === 'config.json + model.safetensors') {
    const configPath = joinPath(dir, 'config.json'), st = joinPath(dir, 'model.safetensors');
    model = metaEntropyFromArgs(readJson(fs, configPath), configPath);
    opened = openSafetensors(fs, st);
    files = [configPath, st];
  } else {
    throw new Error(`entropy model ${dir}: expected params.json + consolidated.pth, or config.json + model.safetensors`);
  }
  for (const [key, t] of opened.tensors) {
    let ok = false;
    try { ok = isEntropyModelKey(key); } catch { /* unknown key: reported below */ }
    if (!ok) {
      opened.close();
      throw new Error(`entropy model ${dir}: key '${key}' in ${t.file} is not an entropy-model key (tok_embeddings, layers.{i}.…, norm, output)`);
    }
  }
  return { dir, form: form!, model, tensors: opened.tensors, patching, files, close: opened.close };
}
