/**
 * BLT checkpoints in the Hugging Face layout (spec §9.1, §9.3, §9.6; golden README §1, §3):
 *   dir/config.json                      HF BltConfig (parsed by config.ts; HF defaults fill omitted fields)
 *   dir/model.safetensors                state dict of BltForCausalLM (HF key names)
 *   or dir/model.safetensors.index.json  + model-0000x-of-0000y.safetensors (sharded)
 * Original (facebookresearch/blt) key names are mapped to HF names by src/io/blt-keys.ts.
 *
 * Loading checks every tensor against the shapes the config implies (`bltWeightShapes`), naming the key and
 * file, before any model is built; saving writes config.json + model.safetensors atomically, so a saved
 * checkpoint loads back to the same model.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import type { Device } from '../tensor/dtype.js';
import { type RawTensor } from '../io/safetensors.js';
import { writeSafetensors } from '../io/safetensors-writer.js';
import { readSafetensorsFile } from '../io/safetensors-file.js';
import { writeFileAtomic } from '../io/atomic.js';
import { convertOriginalStateDict, isHfKey } from '../io/blt-keys.js';
import { configToHfJson, type BltConfig } from './config.js';
import { bltWeightShapes } from './weight-shapes.js';
import { loadBltConfigFile } from './config-file.js';
import { Blt } from './blt.js';
import { ZeroRng } from './load-sources.js';

/** key -> the file it came from (for error messages) and its tensor. */
type LoadedTensors = Map<string, { file: string; tensor: RawTensor }>;


/** The safetensors files of a checkpoint directory: the index's shards, model.safetensors, or model-*-of-*.safetensors. */
function weightFiles(dir: string): string[] {
  const index = nodePath.join(dir, 'model.safetensors.index.json');
  if (fs.existsSync(index)) {
    let map: unknown;
    try {
      map = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (e) {
      throw new Error(`BLT checkpoint ${index}: cannot parse JSON (${(e as Error).message})`);
    }
    if (typeof map !== 'object' || map === null) throw new Error(`BLT checkpoint ${index}: no "weight_map" object`);
    return [...new Set(Object.values(map as Record<string, string>))].sort().map((f) => nodePath.join(dir, f));
  }
  const single = nodePath.join(dir, 'model.safetensors');
  if (fs.existsSync(single)) return [single];
  const shards = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^model-\d+-of-\d+\.safetensors$/.test(f)).sort() : [];
  if (shards.length > 0) return shards.map((f) => nodePath.join(dir, f));
  throw new Error(`BLT checkpoint ${dir}: no model.safetensors, model.safetensors.index.json or model-*-of-*.safetensors`);
}

/** Reads all weight files; maps original key names to HF ones when the file uses them. */
function readWeights(dir: string, cfg: BltConfig): LoadedTensors {
  const out: LoadedTensors = new Map();
  for (const file of weightFiles(dir)) {
    let { tensors } = readSafetensorsFile(file);
    const keys = [...tensors.keys()];
    if (keys.length > 0 && !keys.some(isHfKey)) {
      tensors = convertOriginalStateDict(tensors, {
        encoder_hash_byte_group_size: cfg.hash.groupSizes, encoder_hash_byte_group_vocab: cfg.hash.vocab,
        encoder_hash_byte_group_nb_functions: cfg.hash.nbFunctions,
      });
    }
    for (const [key, tensor] of tensors) {
      const prev = out.get(key);
      if (prev) throw new Error(`BLT checkpoint: key '${key}' appears in both ${prev.file} and ${file}`);
      out.set(key, { file, tensor });
    }
  }
  return out;
}

/** Every problem between the loaded tensors and the config's expected shapes, one line each. */
function shapeProblems(loaded: LoadedTensors, expected: Map<string, number[]>, dir: string): string[] {
  const problems: string[] = [];
  for (const [key, shape] of expected) {
    const got = loaded.get(key);
    if (!got) { problems.push(`missing key '${key}' (expected shape [${shape}]) in ${dir}`); continue; }
    const s = got.tensor.shape;
    if (s.length !== shape.length || s.some((d, i) => d !== shape[i])) {
      problems.push(`key '${key}' in ${got.file}: shape [${s}] but the config implies [${shape}]`);
    }
    if (got.tensor.dtype === 'I32') problems.push(`key '${key}' in ${got.file}: integer tensor, expected floats`);
  }
  for (const [key, { file }] of loaded) if (!expected.has(key)) problems.push(`unexpected key '${key}' in ${file}`);
  return problems;
}

export interface LoadOptions {
  /** behaviour preset when config.json has no `blt_ts_behaviour` (default "hf") */
  behaviour?: 'hf' | 'reference';
  /** device to put the weights on (default the CPU) */
  device?: Device;
}

/** Loads a BLT checkpoint directory (config.json + safetensors weights). */
export async function loadBltCheckpoint(dir: string, opts: LoadOptions = {}): Promise<Blt> {
  const cfg = await loadBltConfigFile(nodePath.join(dir, 'config.json'), { useHfDefaults: true, behaviour: opts.behaviour });
  const loaded = readWeights(dir, cfg);
  const problems = shapeProblems(loaded, bltWeightShapes(cfg), dir);
  if (problems.length > 0) {
    throw new Error(`BLT checkpoint ${dir}: ${problems.length} problem(s) with the weights:\n  ${problems.slice(0, 20).join('\n  ')}`);
  }
  const model = new Blt(cfg, { rng: new ZeroRng(0) });
  if (opts.device && opts.device !== 'cpu') model.to(opts.device);
  model.loadStateDict(new Map([...loaded].map(([key, { tensor }]) => [key, tensor])));
  return model;
}

/** A freshly initialised model (spec §6.6), seeded. */
export function initBlt(cfg: BltConfig, seed = 0): Blt {
  return new Blt(cfg, { seed });
}

/** Writes config.json and model.safetensors (F32, HF keys) into `dir` (created if needed), each atomically. */
export async function saveBltCheckpoint(model: Blt, dir: string): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, RawTensor>();
  for (const [key, t] of model.stateDict()) {
    const data = await t.data();
    tensors.set(key, { dtype: 'F32', shape: [...t.shape], data: data instanceof Float32Array ? data : Float32Array.from(data) });
  }
  writeFileAtomic(nodePath.join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
  writeFileAtomic(nodePath.join(dir, 'config.json'), JSON.stringify(configToHfJson(model.config), null, 2) + '\n');
}
