// Patching throughput: bytes/s of what `blt patch` computes (src/train/patching-view.ts: the entropy model over
// the whole text, then the threshold rule), on 64 KB and 1 MB of text, to show whether the cost is linear in the
// length (equal bytes/s at both sizes). The model is blt-small's entropy model with random weights (initBlt), the
// text the repository's corpus (data/corpus) repeated to length. The 1 MB case is skipped, saying so, when the
// 64 KB one projects it past MAX_SECONDS (a patcher that is not yet linear).

import { readdirSync, readFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBlt } from '../src/blt/checkpoint.js';
import { smallConfig } from '../src/blt/config/shapes.js';
import { loadBltConfigFile } from '../src/blt/config/file.js';
import { patchingView } from '../src/train/patching-view.js';
import { BLT_SMALL_CONFIG } from './blt-train.js';
import type { BenchRow } from './cpu.js';

const MAX_SECONDS = 600;

/** `n` bytes of the corpus, repeated. */
function corpusBytes(n: number): Uint8Array {
  const dir = resolve(fileURLToPath(import.meta.url), '../../../data/corpus');
  const dirSrc = existsSync(dir) ? dir : resolve(fileURLToPath(import.meta.url), '../../data/corpus');
  const parts = readdirSync(dirSrc).sort().map((f) => readFileSync(join(dirSrc, f)));
  const all = Buffer.concat(parts);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += all.length) out.set(all.subarray(0, Math.min(all.length, n - i)), i);
  return out;
}

export async function benchPatch(opts: { quick: boolean }): Promise<BenchRow[]> {
  const small = existsSync(BLT_SMALL_CONFIG) ? await loadBltConfigFile(BLT_SMALL_CONFIG) : smallConfig();
  // the training benchmark gives patches directly; here the entropy model runs
  const cfg = { ...small, patching: { ...small.patching, patchInForward: true } };
  const model = initBlt(cfg, 0);
  const rows: BenchRow[] = [];
  await patchingView(model, corpusBytes(4096)); // warm-up
  let bytesPerSecond = 0;
  for (const n of opts.quick ? [16 << 10] : [64 << 10, 1 << 20]) {
    if (bytesPerSecond > 0 && n / bytesPerSecond > MAX_SECONDS) {
      console.log(`patch ${n >> 10} KB: not run: projected ${(n / bytesPerSecond).toFixed(0)} s from the smaller case`);
      continue;
    }
    const text = corpusBytes(n);
    const t0 = performance.now();
    const v = await patchingView(model, text);
    const s = (performance.now() - t0) / 1000;
    bytesPerSecond = n / s;
    console.log(`patch ${n >> 10} KB: ${s.toFixed(2)} s = ${Math.round(bytesPerSecond)} bytes/s (${v.byteLengths.length} patches)`);
    rows.push({ section: 'patch (blt-small entropy model)', variant: 'cpu', shape: `${n >> 10} KB`, ms: 1000 * s, flops: 0, gflops: 0, threads: 0, bytesPerSecond });
  }
  return rows;
}
