// Real-scale benchmark: a BLT-1B-shaped checkpoint (HF BltConfig() defaults: 4.63B parameters with the entropy
// model, 3.07B of them in the 3000012 x 1024 hash table) in bfloat16, loaded and run the way `blt generate` runs
// it (loadBltCheckpoint with hashTables 'auto', then generate, greedy). Reported per device:
//   load ms       openCheckpoint + bltFromCheckpoint (headers, shape checks, every tensor read into 16-bit storage; the
//                 hash table stays in the file)
//   first step ms the prompt "my name is" and the first byte
//   ms / byte     each further byte: (t(N bytes) - t(1 byte)) / (N - 1), two fresh generations (on WebGPU after
//                 an untimed one that compiles the shaders)
//   peak RSS      VmHWM of the measuring process (a fresh child per device, so one run never inherits another's
//                 peak); HF transformers runs the same files at 3.7 GB
//
// `npm run bench -- --only scale` (not part of the default run: it writes a 9.3 GB checkpoint to the temp folder
// with `blt init`, ~2 min, and deletes it afterwards; set BLT_SCALE_DIR to use an existing checkpoint instead).
// `--quick` does the same on a shrunken config (seconds), to keep the code path exercised.
// Alone: `node dist/bench/scale.js child DIR cpu|webgpu N` prints one JSON row.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchRow } from './cpu.js';
import { parseBltConfig } from '../src/blt/config/parse.js';
import { writeRandomCheckpoint } from '../src/blt/random-checkpoint.js';

export const SCALE_PROMPT = 'my name is';

/** A shrunken config for --quick: HF defaults except small widths and vocabulary. */
const QUICK_CONFIG = {
  encoder_hash_byte_group_vocab: 5000,
  encoder_config: { hidden_size: 64, num_attention_heads: 4, intermediate_size: 128, hidden_size_global: 128 },
  decoder_config: { hidden_size: 64, num_attention_heads: 4, intermediate_size: 128, num_hidden_layers: 2, hidden_size_global: 128 },
  global_config: { hidden_size: 128, num_attention_heads: 4, intermediate_size: 256, num_hidden_layers: 2 },
  patcher_config: { hidden_size: 64, num_attention_heads: 4, intermediate_size: 128, num_hidden_layers: 2 },
};

interface ScaleResult { loadMs: number; firstStepMs: number; msPerByte: number; peakRssBytes: number; text: string; tableOnDisk: boolean }

/** VmHWM (peak resident set) of this process from /proc, in bytes (NaN where /proc is absent). */
function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The measurement, in this process (the child). */
async function measure(dir: string, device: 'cpu' | 'webgpu', bytes: number): Promise<ScaleResult> {
  await import('../src/index.js');
  const { loadBltCheckpoint } = await import('../src/blt/checkpoint.js');
  const { generate } = await import('../src/blt/generate.js');
  const { DiskTable } = await import('../src/nn/disk-table.js');
  if (device === 'webgpu') await (await import('../src/backend/webgpu/index.js')).initWebGpu();
  const t = performance.now();
  const model = await loadBltCheckpoint(dir, { device, log: (m) => console.error(m) });
  const loadMs = performance.now() - t;
  const run = async (n: number): Promise<{ ms: number; text: string }> => {
    const t0 = performance.now();
    const r = await generate(model, SCALE_PROMPT, { maxNewBytes: n, sampling: { greedy: true }, stopAtEos: false });
    return { ms: performance.now() - t0, text: r.text };
  };
  if (device === 'webgpu') await run(2); // untimed: compiles the shaders
  const one = await run(1);
  const all = await run(bytes);
  const result = {
    loadMs, firstStepMs: one.ms, msPerByte: (all.ms - one.ms) / Math.max(1, bytes - 1), peakRssBytes: peakRss(), text: all.text,
    tableOnDisk: model.model.encoder_hash_tok_embedding.weight instanceof DiskTable,
  };
  if (device === 'webgpu') (await import('../src/backend/webgpu/index.js')).destroyWebGpu();
  return result;
}

/** The `scale` bench section: one fresh child process per device. */
export async function benchScale(opts: { quick: boolean }): Promise<BenchRow[]> {
  const given = process.env.BLT_SCALE_DIR || undefined;
  const dir = given ?? fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-scale-'));
  const bytes = opts.quick ? 4 : 16;
  const rows: BenchRow[] = [];
  try {
    if (!given) {
      const cfg = parseBltConfig(opts.quick ? QUICK_CONFIG : {}, { useHfDefaults: true, source: 'HF BltConfig() defaults' });
      const t0 = performance.now();
      const r = await writeRandomCheckpoint(cfg, dir, { dtype: 'bfloat16', seed: 0 });
      console.log(`scale: blt init wrote ${(r.parameters / 1e9).toFixed(3)}B parameters (bfloat16, ${r.files.length} files) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const self = fileURLToPath(import.meta.url);
    for (const device of ['cpu', 'webgpu'] as const) {
      const c = spawnSync(process.execPath, [self, 'child', dir, device, String(bytes)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      const line = c.stdout.trim().split('\n').pop() ?? '';
      if (c.status !== 0 || !line.startsWith('{')) {
        if (device === 'cpu') throw new Error(`scale: the cpu run failed (exit ${c.status}): ${line}`);
        console.log(`scale on webgpu: not run (exit ${c.status}): ${line}`);
        continue;
      }
      const r = JSON.parse(line) as ScaleResult;
      console.log(`scale ${device}: load ${r.loadMs.toFixed(0)} ms, first step ${r.firstStepMs.toFixed(0)} ms, ` +
        `${r.msPerByte.toFixed(0)} ms/byte, peak RSS ${(r.peakRssBytes / 2 ** 30).toFixed(2)} GiB, hash table ${r.tableOnDisk ? 'on disk' : 'in memory'}`);
      rows.push({
        section: `scale (${opts.quick ? 'quick config' : 'BLT-1B shapes'}, bf16, generate ${bytes} bytes)`, variant: device,
        shape: `load ${r.loadMs.toFixed(0)} ms, first step ${r.firstStepMs.toFixed(0)} ms, peak RSS ${(r.peakRssBytes / 2 ** 30).toFixed(2)} GiB`,
        ms: r.msPerByte, flops: 0, gflops: 0, threads: 1,
      });
    }
  } finally {
    if (!given) fs.rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

// child mode: node dist/bench/scale.js child DIR DEVICE BYTES
if (process.argv[1] && pathToFileURL(fs.realpathSync(process.argv[1])).href === import.meta.url && process.argv[2] === 'child') {
  const [dir, device, n] = process.argv.slice(3);
  measure(dir, device === 'webgpu' ? 'webgpu' : 'cpu', Number(n)).then(
    (r) => { console.log(JSON.stringify(r)); process.exit(0); },
    (e: unknown) => { console.log(`error: ${(e as Error).message}`); process.exit(1); },
  );
}
