// Regenerates data/demo-model/, the small trained BLT the demo page ships (its entropy model drives the
// patching playground; the whole model runs the walk-through and generation).
//
// Recipe: the main job's (src/cli/demo.ts, `blt demo`): demoConfig(), DEMO_LR, the bundled corpus data/corpus,
// 150 entropy-model steps and 150 BLT steps of 8 x 128 bytes, target patch size 4, seed 0, on the CPU; only the
// byte-level baseline, which the page does not use, is left out. The weights are stored as bfloat16 (rounded to
// nearest even), which halves the file to ~0.45 MB; the page and the browser tests read exactly this file.
//
// Run: npm run web:model   (builds dist/ first; a few minutes on two cores)
import '../../dist/src/index.js'; // the Node entry: installs the CPU backend
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainBlt } from '../../dist/src/train/trainer.js';
import { bundledCorpus, demoConfig, DEMO_LR } from '../../dist/src/cli/demo.js';
import { loadCorpus } from '../../dist/src/train/data.js';
import { readSafetensorsFile } from '../../dist/src/io/safetensors-file.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const outDir = path.join(root, 'data', 'demo-model');

/** float32 -> bfloat16 bits, round to nearest even (the weights are finite). */
function toBf16(data) {
  const f = Float32Array.from(data);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(u.length);
  for (let i = 0; i < u.length; i++) out[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16;
  return out;
}

/** A safetensors file of BF16 tensors (header JSON padded with spaces to 8 bytes, data in header order). */
function bf16Safetensors(tensors) {
  const header = { __metadata__: { format: 'pt' } };
  const parts = [];
  let offset = 0;
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const bits = toBf16(t.data);
    header[name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bits.byteLength] };
    parts.push(new Uint8Array(bits.buffer));
    offset += bits.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + head.length + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
  bytes.set(head, 8);
  let at = 8 + head.length;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  return bytes;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'blt-demo-model-'));
try {
  const r = await trainBlt({
    data: loadCorpus(bundledCorpus()), out: work, config: demoConfig(), device: 'cpu', seed: 0, steps: 150, entropySteps: 150,
    batchSize: 8, seqLen: 128, lr: DEMO_LR, entropyLr: DEMO_LR, warmup: 20, targetPatchSize: 4, checkpointEvery: 0,
    baseline: false, progress: { quiet: false, every: 25 },
  });
  fs.mkdirSync(outDir, { recursive: true });
  fs.copyFileSync(path.join(work, 'config.json'), path.join(outDir, 'config.json'));
  const { tensors } = readSafetensorsFile(path.join(work, 'model.safetensors'));
  fs.writeFileSync(path.join(outDir, 'model.safetensors'), bf16Safetensors(tensors));
  console.log(`data/demo-model: θ = ${r.threshold.toFixed(4)} nats, held-out ${r.bltBpb?.toFixed(3)} bits/byte (BLT), ` +
    `${r.entropyBpb?.toFixed(3)} (entropy model), ${r.heldOutPatchSize.toFixed(2)} bytes/patch held out`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
