// Reading a BLT config.json from the local disk (Node). Parsing is parse.ts, which runs anywhere.
import { readFile } from 'node:fs/promises';
import type { BltConfig } from './types.js';
import { parseBltConfig, type ParseOptions } from './parse.js';

/** Reads and parses a config.json file from disk. */
export async function loadBltConfigFile(path: string, options: Omit<ParseOptions, 'source'> = {}): Promise<BltConfig> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`BLT config ${path}: cannot read/parse JSON (${(e as Error).message})`);
  }
  return parseBltConfig(json, { ...options, source: path });
}
