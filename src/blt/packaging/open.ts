// One entry point for every way a BLT checkpoint is packaged: `openCheckpoint(files, dir)` looks at the files
// (through CheckpointFiles: nodeFiles on disk, memoryFiles in a browser), picks the packaging, and returns the model's config and its weights as lazy TensorSources under this project's
// state-dict keys (Hugging Face names, src/io/blt-keys.ts). Nothing but headers, JSON and the pickle is read.
//
//   hf             config.json (HF BltConfig) + model.safetensors
//   hf-sharded     config.json + model.safetensors.index.json + the shards it names
//   meta-hub       config.json = {"args": ByteLatentTransformerArgs} + model.safetensors (Meta key names,
//                  one hash table per function and n-gram size) + entropy_model/ (facebook/blt-1b, blt-7b)
//   meta-original  params.json (TrainArgs) + consolidated.pth (torch.save zip) + an entropy_model/ folder
//                  beside it or inside it (Meta's original release: hf-weights/blt_1b/ and hf-weights/entropy_model/)
//
// Meta's patching rule comes from the file Meta's own scripts read: the BLT's params.json → data.patcher_args for
// the original layout (demo.py), the entropy model's params.json → data.patcher_args for the Hub layout
// (demo_hf.py, also what HF's converter reads). Every tensor is checked against the shapes the config implies
// before anything is returned; every error names the file and the field or key.

import { joinPath, type CheckpointFiles } from '../../io/checkpoint-files.js';
import { isHfKey } from '../../io/blt-keys.js';
import { openPth } from '../../io/pth/pth.js';
import type { TensorSource } from '../../io/tensor-source.js';
import type { BltConfig } from '../config/types.js';
import { parseBltConfig } from '../config/parse.js';
import { bltWeightShapes } from '../weight-shapes.js';
import { bltConfigFromMeta, metaPatcherArgs, type MetaConfigInput } from './meta-config.js';
import { HF_INDEX, HF_SINGLE, shardedSources, singleFileSources } from './sources-hf.js';
import { entropyFolderForm, hfNamedSources, openMetaEntropyFolder, readJson, type MetaEntropyFolder } from './sources-meta.js';

export type Packaging = 'hf' | 'hf-sharded' | 'meta-hub' | 'meta-original';

export interface OpenedCheckpoint {
  packaging: Packaging;
  dir: string;
  config: BltConfig;
  /** state-dict key (HF names) -> its data, not read yet */
  tensors: Map<string, TensorSource>;
  /** every file the weights and config come from */
  files: string[];
  /** the entropy-model folder used (Meta packagings), or null */
  entropyDir: string | null;
  /** the file the patching rule was taken from */
  patchingSource: string;
  /** closes every file the tensors read from (reads after this reopen them) */
  close(): void;
}

export interface OpenOptions {
  /** behaviour preset for an HF config without `blt_ts_behaviour` (default "hf"); Meta's files always run "reference" */
  behaviour?: 'hf' | 'reference';
  /** use the entropy model in this folder (either Meta form) instead of the one found beside the BLT */
  entropyModel?: string;
}

/** The packaging of a checkpoint folder, from the files it holds. */
export function detectPackaging(files: CheckpointFiles, dir: string): Packaging {
  const has = (d: string, f: string): boolean => files.exists(joinPath(d, f));
  if (!files.exists(dir)) throw new Error(`checkpoint ${dir} does not exist`);
  let listing: string[];
  try {
    listing = files.list(dir);
  } catch {
    throw new Error(`checkpoint ${dir} is not a folder`);
  }
  if (has(dir, 'config.json')) {
    const cfg = readJson(files, joinPath(dir, 'config.json')) as Record<string, unknown> | null;
    const isMeta = cfg !== null && typeof cfg === 'object' && 'args' in cfg && !('encoder_config' in cfg);
    if (isMeta) {
      const args = cfg.args as Record<string, unknown> | null;
      if (args !== null && typeof args === 'object' && !('dim_global' in args)) {
        throw new Error(`checkpoint ${dir}: config.json describes a Meta entropy model (LMTransformerArgs), not a BLT; ` +
          `use it as the entropy model of a BLT checkpoint instead`);
      }
      if (!has(dir, HF_SINGLE)) throw new Error(`checkpoint ${dir}: Meta Hub config.json ({"args"}) but no ${HF_SINGLE}`);
      return 'meta-hub';
    }
    if (has(dir, HF_INDEX)) return 'hf-sharded';
    if (has(dir, HF_SINGLE)) return 'hf';
    throw new Error(`checkpoint ${dir}: config.json but neither ${HF_SINGLE} nor ${HF_INDEX}`);
  }
  if (has(dir, 'params.json') && has(dir, 'consolidated.pth')) return 'meta-original';
  throw new Error(`checkpoint ${dir}: not a BLT checkpoint (expected config.json + ${HF_SINGLE} or ${HF_INDEX} (Hugging Face or ` +
    `Meta Hub), or params.json + consolidated.pth (Meta original); found: ${listing.slice(0, 12).join(', ') || 'nothing'})`);
}

/** Every mismatch between the tensors and the shapes the config implies, one line each (empty: none). */
export function weightProblems(tensors: Map<string, TensorSource>, cfg: BltConfig): string[] {
  const expected = bltWeightShapes(cfg);
  const problems: string[] = [];
  for (const [key, shape] of expected) {
    const t = tensors.get(key);
    if (!t) { problems.push(`missing key '${key}' (expected shape [${shape}])`); continue; }
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      problems.push(`key '${key}' (${t.name} in ${t.file}): shape [${t.shape}] but the config implies [${shape}]`);
    }
    if (t.dtype === 'I32' || t.dtype === 'I64') problems.push(`key '${key}' (${t.name} in ${t.file}): integer tensor (${t.dtype}), expected floats`);
  }
  for (const [key, t] of tensors) if (!expected.has(key)) problems.push(`unexpected key '${key}' (${t.name} in ${t.file})`);
  return problems;
}

function checkWeights(tensors: Map<string, TensorSource>, cfg: BltConfig, dir: string): void {
  const problems = weightProblems(tensors, cfg);
  if (problems.length > 0) {
    throw new Error(`BLT checkpoint ${dir}: ${problems.length} problem(s) with the weights:\n  ${problems.slice(0, 20).join('\n  ')}`);
  }
}

function openHf(files: CheckpointFiles, dir: string, packaging: 'hf' | 'hf-sharded', opts: OpenOptions): OpenedCheckpoint {
  const configPath = joinPath(dir, 'config.json');
  const config = parseBltConfig(readJson(files, configPath), { source: configPath, useHfDefaults: true, behaviour: opts.behaviour });
  const weights = packaging === 'hf-sharded' ? shardedSources(files, dir) : singleFileSources(files, joinPath(dir, HF_SINGLE));
  let tensors = weights.tensors;
  const keys = [...tensors.keys()];
  if (keys.length > 0 && !keys.some(isHfKey)) tensors = hfNamedSources(tensors, config); // Meta key names in an HF folder
  return { packaging, dir, config, tensors, files: [configPath, ...weights.files], entropyDir: null, patchingSource: configPath,
    close: weights.close };
}

/** The entropy-model folder of a Meta checkpoint: the option, else `entropy_model/` inside, else beside the BLT. */
function findEntropyFolder(files: CheckpointFiles, dir: string, opts: OpenOptions, beside: boolean): MetaEntropyFolder | null {
  if (opts.entropyModel !== undefined) return openMetaEntropyFolder(files, opts.entropyModel);
  const candidates = [joinPath(dir, 'entropy_model'), ...(beside ? [joinPath(dir, '..', 'entropy_model')] : [])];
  const found = candidates.find((d) => files.exists(d) && entropyFolderForm(files, d) !== null);
  return found === undefined ? null : openMetaEntropyFolder(files, found);
}

function openMeta(files: CheckpointFiles, dir: string, packaging: 'meta-hub' | 'meta-original', opts: OpenOptions): OpenedCheckpoint {
  const hub = packaging === 'meta-hub';
  const configPath = joinPath(dir, hub ? 'config.json' : 'params.json');
  const json = readJson(files, configPath) as Record<string, unknown>;
  if (!hub && json?.['train_entropy_model'] === true) {
    throw new Error(`checkpoint ${dir}: ${configPath} is an entropy-model training run (train_entropy_model: true), not a BLT`);
  }
  const entropy = findEntropyFolder(files, dir, opts, !hub);
  // the patching rule: from the file Meta's script for this layout reads (see the top of this file), else the next one
  const candidates: { source: string; json: unknown }[] = [];
  if (!hub) candidates.push({ source: configPath, json });
  if (entropy?.patching) candidates.push({ source: entropy.patching.source, json: readJson(files, entropy.patching.source) });
  const trainArgs = joinPath(dir, 'train_args.json');
  if (hub && files.exists(trainArgs)) candidates.push({ source: trainArgs, json: readJson(files, trainArgs) });
  let patching: MetaConfigInput['patching'] = null;
  for (const c of candidates) {
    const p = metaPatcherArgs(c.json, c.source);
    if (p !== null) { patching = { args: p, source: c.source }; break; }
  }
  const config = bltConfigFromMeta({
    args: hub ? json?.['args'] : json?.['model'], source: configPath, argsPath: hub ? 'args.' : 'model.', patching,
    entropy: entropy?.model ?? null,
  });
  const weightsPath = joinPath(dir, hub ? HF_SINGLE : 'consolidated.pth');
  const blt = hub ? singleFileSources(files, weightsPath) : openPth(files, weightsPath);
  const close = (): void => { blt.close(); entropy?.close(); };
  try {
    for (const [key, t] of blt.tensors) {
      if (isHfKey(key)) throw new Error(`checkpoint ${dir}: ${t.file} uses Hugging Face key names ('${key}') but the config is Meta's`);
    }
    const tensors = hfNamedSources(blt.tensors, config, entropy?.tensors);
    return {
      packaging, dir, config, tensors, files: [configPath, weightsPath, ...(entropy?.files ?? [])], entropyDir: entropy?.dir ?? null,
      patchingSource: patching?.source ?? configPath, close,
    };
  } catch (e) {
    close();
    throw e;
  }
}

/**
 * Opens a BLT checkpoint folder in any supported packaging (see the top of this file): its config and its weights
 * as TensorSources keyed by HF state-dict names, checked against the config's shapes. Reads no tensor data.
 */
export function openCheckpoint(files: CheckpointFiles, dir: string, opts: OpenOptions = {}): OpenedCheckpoint {
  const packaging = detectPackaging(files, dir);
  const opened = packaging === 'hf' || packaging === 'hf-sharded' ? openHf(files, dir, packaging, opts) : openMeta(files, dir, packaging, opts);
  try {
    checkWeights(opened.tensors, opened.config, dir);
  } catch (e) {
    opened.close();
    throw e;
  }
  return opened;
}
