// The weights of a Hugging Face checkpoint folder as TensorSources: one `model.safetensors`, or shards named by
// `model.safetensors.index.json` ({"metadata": …, "weight_map": {key: shard file}}, as transformers writes it).
// The index is checked against the shards before anything is read: every shard it names exists, every key is
// in the shard it names, and no key is in two shards or in a shard without being in the index.

import { joinPath, type CheckpointFiles } from '../../io/checkpoint-files.js';
import { openSafetensors } from '../../io/safetensors-source.js';
import type { TensorSource } from '../../io/tensor-source.js';

export const HF_INDEX = 'model.safetensors.index.json';
export const HF_SINGLE = 'model.safetensors';

/** Opened weight files: their tensors, and a function that closes every file. */
export interface WeightSources {
  tensors: Map<string, TensorSource>;
  files: string[];
  close(): void;
}

/** Every tensor of one safetensors file. */
export function singleFileSources(files: CheckpointFiles, path: string): WeightSources {
  const { tensors, close } = openSafetensors(files, path);
  return { tensors, files: [path], close };
}

/** The weight map of an index file: key -> shard file name (relative to the folder). */
function readWeightMap(files: CheckpointFiles, indexPath: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(files.readText(indexPath));
  } catch (e) {
    throw new Error(`BLT checkpoint ${indexPath}: cannot read or parse JSON (${(e as Error).message})`);
  }
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new Error(`BLT checkpoint ${indexPath}: field "weight_map" is missing or not an object`);
  const out = new Map<string, string>();
  for (const [key, file] of Object.entries(map as Record<string, unknown>)) {
    if (typeof file !== 'string' || file.length === 0 || /^([\\/]|[A-Za-z]:)/.test(file) || file.split(/[\\/]/).includes('..')) {
      throw new Error(`BLT checkpoint ${indexPath}: field "weight_map.${key}" must be a shard file name inside the folder, got ${JSON.stringify(file)}`);
    }
    out.set(key, file);
  }
  if (out.size === 0) throw new Error(`BLT checkpoint ${indexPath}: "weight_map" is empty`);
  return out;
}

/** The tensors of a sharded checkpoint, each taken from the shard the index names (checked as described above). */
export function shardedSources(files: CheckpointFiles, dir: string): WeightSources {
  const indexPath = joinPath(dir, HF_INDEX);
  const weightMap = readWeightMap(files, indexPath);
  const shardNames = [...new Set(weightMap.values())].sort();
  const shards = new Map<string, Map<string, TensorSource>>();
  const closers: (() => void)[] = [];
  const close = (): void => { for (const c of closers) c(); };
  try {
    return checkedShards(files, dir, indexPath, weightMap, shardNames, shards, closers, close);
  } catch (e) {
    close();
    throw e;
  }
}

function checkedShards(files: CheckpointFiles, dir: string, indexPath: string, weightMap: Map<string, string>, shardNames: string[],
  shards: Map<string, Map<string, TensorSource>>, closers: (() => void)[], close: () => void): WeightSources {
  for (const name of shardNames) {
    const path = joinPath(dir, name);
    if (!files.exists(path)) {
      const keys = [...weightMap].filter(([, f]) => f === name).map(([k]) => k);
      throw new Error(`BLT checkpoint ${indexPath}: shard '${name}' (holding ${keys.length} keys, e.g. '${keys[0]}') does not exist`);
    }
    const opened = singleFileSources(files, path);
    closers.push(opened.close);
    shards.set(name, opened.tensors);
  }
  const tensors = new Map<string, TensorSource>();
  const seenIn = new Map<string, string>();
  for (const [name, shard] of shards) {
    for (const key of shard.keys()) {
      const other = seenIn.get(key);
      if (other !== undefined) throw new Error(`BLT checkpoint ${dir}: key '${key}' is in two shards, ${other} and ${name}`);
      seenIn.set(key, name);
      if (!weightMap.has(key)) throw new Error(`BLT checkpoint ${indexPath}: shard '${name}' holds key '${key}', which the index does not list`);
    }
  }
  for (const [key, name] of weightMap) {
    const t = shards.get(name)!.get(key);
    if (t === undefined) {
      const actual = seenIn.get(key);
      throw new Error(`BLT checkpoint ${indexPath}: key '${key}' should be in shard '${name}' but is ${actual === undefined ? 'in no shard' : `in '${actual}'`}`);
    }
    tensors.set(key, t);
  }
  return { tensors, files: shardNames.map((n) => joinPath(dir, n)), close };
}
