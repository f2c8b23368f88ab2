// Loading a BLT checkpoint in the Hugging Face layout through CheckpointFiles (src/io/checkpoint-files.ts), so
// the same code loads a folder on disk (Node: nodeFiles) and a folder a browser user picked or the page fetched
// (memoryFiles):
//   dir/config.json                                  HF BltConfig (HF defaults fill omitted fields)
//   dir/model.safetensors                            the weights, HF key names (or the original Meta names)
//   or dir/model.safetensors.index.json + shards     {"weight_map": {key: shard file}}
// Every key and shape is checked against the model the config describes, naming the key and the file, before
// any tensor data is read.
import { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { joinPath, type CheckpointFiles } from '../io/checkpoint-files.js';
import { decodeTensor, type RawTensor, type StoredDtype } from '../io/safetensors.js';
import { openSafetensors } from '../io/safetensors-source.js';
import { FILE_DTYPE_BYTES, numelOf, type TensorSource } from '../io/tensor-source.js';
import { convertOriginalStateDict, isHfKey } from '../io/blt-keys.js';
import { parseBltConfig, type BltConfig } from './config.js';
import { Blt } from './blt.js';

/** An Rng whose draws are all 0: builds a model without spending time on an init that loading overwrites. */
export class ZeroRng extends Rng {
  override normal(): number { return 0; }
  override truncatedNormal(): number { return 0; }
}

export interface FilesCheckpoint {
  config: BltConfig;
  /** state-dict key -> its data, not read yet */
  tensors: Map<string, TensorSource>;
  /** the files the config and the weights come from */
  files: string[];
}

function readJson(files: CheckpointFiles, path: string): unknown {
  const text = files.readText(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`BLT checkpoint ${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** The weight files: the index's shards, else model.safetensors. */
function weightFiles(files: CheckpointFiles, dir: string): string[] {
  const index = joinPath(dir, 'model.safetensors.index.json');
  if (files.exists(index)) {
    const map = (readJson(files, index) as { weight_map?: unknown } | null)?.weight_map;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new Error(`BLT checkpoint ${index}: no "weight_map" object`);
    const names = [...new Set(Object.values(map as Record<string, unknown>))].sort();
    for (const n of names) {
      if (typeof n !== 'string' || n.includes('/') || n.includes('\\') || n === '..') {
        throw new Error(`BLT checkpoint ${index}: weight_map names ${JSON.stringify(n)}, not a file in the folder`);
      }
      if (!files.exists(joinPath(dir, n))) throw new Error(`BLT checkpoint ${index}: shard '${n}' does not exist`);
    }
    return (names as string[]).map((n) => joinPath(dir, n));
  }
  const single = joinPath(dir, 'model.safetensors');
  if (files.exists(single)) return [single];
  const found = files.exists(dir) ? files.list(dir).slice(0, 12).join(', ') : 'nothing (no such folder)';
  throw new Error(`BLT checkpoint ${dir}: no model.safetensors or model.safetensors.index.json (found: ${found || 'nothing'})`);
}

/** Opens a Hugging Face checkpoint folder: its config and its tensors as sources. Reads headers and JSON only. */
export function openHfCheckpoint(files: CheckpointFiles, dir: string, opts: { behaviour?: 'hf' | 'reference' } = {}): FilesCheckpoint {
  const configPath = joinPath(dir, 'config.json');
  if (!files.exists(configPath)) {
    const found = files.exists(dir) ? files.list(dir).slice(0, 12).join(', ') : 'nothing (no such folder)';
    throw new Error(`BLT checkpoint ${dir}: no config.json (found: ${found || 'nothing'})`);
  }
  const config = parseBltConfig(readJson(files, configPath), { source: configPath, useHfDefaults: true, behaviour: opts.behaviour });
  const tensors = new Map<string, TensorSource>();
  const weights = weightFiles(files, dir);
  for (const file of weights) {
    for (const [key, src] of openSafetensors(file, files).tensors) {
      const prev = tensors.get(key);
      if (prev) throw new Error(`BLT checkpoint ${dir}: key '${key}' is in both ${prev.file} and ${file}`);
      tensors.set(key, src);
    }
  }
  return { config, tensors, files: [configPath, ...weights] };
}

/** The whole tensor of a source, decoded (F32/F16/BF16 -> float32, F64 -> float64, I32/I64 -> int32). */
export function readWholeTensor(src: TensorSource): RawTensor {
  const numel = numelOf(src.shape);
  const bytes = src.read(0, numel * FILE_DTYPE_BYTES[src.dtype]);
  const entry = { name: src.name, storedDtype: src.dtype as StoredDtype, shape: [...src.shape], numel, begin: 0, end: bytes.length };
  return decodeTensor(entry, bytes, src.file, true);
}

/** Every mismatch between the sources and the model's own tensors (names and shapes), one line each. */
function keyProblems(model: Blt, tensors: Map<string, TensorSource>): string[] {
  const own = model.stateDict();
  const problems: string[] = [];
  for (const [key, t] of own) {
    const src = tensors.get(key);
    if (!src) { problems.push(`missing key '${key}' (expected shape [${t.shape}])`); continue; }
    if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
      problems.push(`key '${key}' in ${src.file}: shape [${src.shape}] but the config implies [${t.shape}]`);
    }
    if (src.dtype === 'I32' || src.dtype === 'I64') problems.push(`key '${key}' in ${src.file}: integer tensor (${src.dtype}), expected floats`);
  }
  for (const [key, src] of tensors) if (!own.has(key)) problems.push(`unexpected key '${key}' in ${src.file}`);
  return problems;
}

/**
 * A model with this config and these weights, on `device` (default the CPU). Every tensor is read whole and
 * decoded to float32, so this suits checkpoints that fit in memory.
 */
export function bltFromSources(ckpt: FilesCheckpoint, opts: { device?: Device } = {}): Blt {
  const model = new Blt(ckpt.config, { rng: new ZeroRng(0) });
  let values = new Map<string, RawTensor>();
  const keys = [...ckpt.tensors.keys()];
  if (keys.length > 0 && !keys.some(isHfKey)) {
    // the original (Meta) key names: rename and fuse the hash tables, then let loadStateDict check the result
    for (const [key, src] of ckpt.tensors) values.set(key, readWholeTensor(src));
    const h = ckpt.config.hash;
    values = convertOriginalStateDict(values, {
      encoder_hash_byte_group_size: h.groupSizes, encoder_hash_byte_group_vocab: h.vocab, encoder_hash_byte_group_nb_functions: h.nbFunctions,
    });
  } else {
    const problems = keyProblems(model, ckpt.tensors);
    if (problems.length > 0) {
      throw new Error(`BLT checkpoint: ${problems.length} problem(s) with the weights:\n  ${problems.slice(0, 20).join('\n  ')}`);
    }
    for (const [key, src] of ckpt.tensors) values.set(key, readWholeTensor(src));
  }
  if (opts.device && opts.device !== 'cpu') model.to(opts.device);
  model.loadStateDict(values);
  return model;
}

/** openHfCheckpoint + bltFromSources. */
export function loadBltFromFiles(files: CheckpointFiles, dir: string, opts: { behaviour?: 'hf' | 'reference'; device?: Device } = {}): Blt {
  return bltFromSources(openHfCheckpoint(files, dir, opts), opts);
}
