/**
 * Checkpoint helpers for training and the CLI. BLT checkpoints are written as HF folders by src/blt/checkpoint.ts
 * (config.json + model.safetensors, each replaced atomically) and read in any packaging (src/blt/packaging); this file adds the
 * argument checks the CLI needs (clear messages for a missing folder or file) and a tensor dump for the
 * byte-level baseline.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import type { Blt } from '../blt/blt.js';
import { loadAnyCheckpoint } from '../blt/load-sources.js';
import type { RawTensor } from '../io/safetensors.js';
import type { Module } from '../nn/module.js';
import type { Device } from '../tensor/dtype.js';
import { nodeFiles } from '../io/node-files.js';

/** All tensors of a module as F32 safetensors entries (downloads from the device). */
export async function moduleTensors(m: Module): Promise<Map<string, RawTensor>> {
  const out = new Map<string, RawTensor>();
  for (const [name, t] of m.stateDict()) {
    const d = await t.data();
    out.set(name, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(d) });
  }
  return out;
}

/**
 * Loads a BLT checkpoint folder onto `device`, in any packaging openCheckpoint detects (Hugging Face single or
 * sharded, Meta Hub, Meta original .pth); errors name the folder and what is wrong with it.
 */
export async function loadCheckpoint(dir: string, device: Device = 'cpu'): Promise<Blt> {
  if (!fs.existsSync(dir)) throw new Error(`checkpoint '${dir}' does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`checkpoint '${dir}' is not a folder (expected config.json + model.safetensors)`);
  if (!fs.existsSync(nodePath.join(dir, 'config.json')) && !fs.existsSync(nodePath.join(dir, 'params.json'))) {
    throw new Error(`checkpoint '${dir}': config.json is missing (or params.json, for Meta's original layout)`);
  }
  try {
    return loadAnyCheckpoint(nodeFiles, dir, { device });
  } catch (e) {
    throw new Error(`checkpoint '${dir}' cannot be loaded: ${(e as Error).message}`);
  }
}
