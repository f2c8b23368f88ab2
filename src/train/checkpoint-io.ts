/**
 * Checkpoint helpers for training and the CLI. BLT checkpoints are written as HF folders by src/blt/checkpoint.ts
 * (config.json + model.safetensors, each replaced atomically) and read in any packaging (src/blt/packaging); this file adds the
 * argument checks the CLI needs (clear messages for a missing folder or file).
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import type { Blt } from '../blt/blt.js';
import { loadAnyCheckpoint, type BuildOptions } from '../blt/load-sources.js';
import type { Device } from '../tensor/dtype.js';
import { nodeFiles } from '../io/node-files.js';

/**
 * Loads a BLT checkpoint folder onto `device`, in any packaging openCheckpoint detects (Hugging Face single or
 * sharded, Meta Hub, Meta original .pth); errors name the folder and what is wrong with it.
 */
export async function loadCheckpoint(dir: string, device: Device = 'cpu', opts: Omit<BuildOptions, 'device'> = {}): Promise<Blt> {
  if (!fs.existsSync(dir)) throw new Error(`checkpoint '${dir}' does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`checkpoint '${dir}' is not a folder (expected config.json + model.safetensors)`);
  if (!fs.existsSync(nodePath.join(dir, 'config.json')) && !fs.existsSync(nodePath.join(dir, 'params.json'))) {
    throw new Error(`checkpoint '${dir}': config.json is missing (or params.json, for Meta's original layout)`);
  }
  try {
    return loadAnyCheckpoint(nodeFiles, dir, { ...opts, device });
  } catch (e) {
    throw new Error(`checkpoint '${dir}' cannot be loaded: ${(e as Error).message}`);
  }
}
