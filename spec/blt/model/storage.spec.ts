// How a loaded BLT stores its weights (src/blt/checkpoint.ts): bfloat16 checkpoints stay 16-bit in memory and
// compute exactly what float32 copies of the same values compute; the hash table in forced-small row blocks or
// left on disk gives the same logits (and, in blocks, the same gradients); saving streams and round-trips.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/index.js';
import type { Blt } from '../../../src/blt/blt.js';
import { initBlt, loadBltCheckpoint, saveBltCheckpoint } from '../../../src/blt/checkpoint.js';
import { tinyConfig } from '../../../src/blt/config/shapes.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { openSafetensorsFile as openSafetensors } from '../../../src/io/safetensors-file.js';
import { BlockedTable } from '../../../src/nn/blocked-table.js';
import { DiskTable } from '../../../src/nn/disk-table.js';
import { AdamW } from '../../../src/optim/adamw.js';
import { f32ToBf16, bf16ToF32 } from '../../../src/tensor/half.js';
import * as ops from '../../../src/ops/index.js';
import { Tensor } from '../../../src/tensor/tensor.js';

const tmp = mkdtempSync(join(tmpdir(), 'blt-storage-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const IDS = [[1, 76, 105, 112, 112, 115, 48, 36, 70, 80, 101, 32]];
const LENGTHS = [[1, 1, 3, 2, 3, 2]];
const logits = (m: Blt): Float32Array => noGrad(() => m.forwardWithPatches(IDS, LENGTHS).logits.dataSync() as Float32Array);
const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

/** key -> dtype of every state entry. */
function dtypes(m: Blt): Map<string, string> {
  return new Map(m.stateEntries().map(([k, v]) => [k, v instanceof DiskTable ? `disk ${v.source.dtype}` : v.dtype]));
}

async function savedBf16(): Promise<{ model: Blt; dir: string }> {
  const model = initBlt(tinyConfig(), 21);
  const dir = join(tmp, 'bf16');
  await saveBltCheckpoint(model, dir, { dtype: 'bfloat16' });
  return { model, dir };
}

describe('bfloat16 checkpoints', () => {
  it('save as BF16, load 16-bit (norm scales float32), and save again to the same bytes', async () => {
    const { model, dir } = await savedBf16();
    const file = openSafetensors(join(dir, 'model.safetensors'));
    expect(new Set([...file.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['BF16']));
    file.close();
    const back = await loadBltCheckpoint(dir, { hashTables: 'memory' });
    for (const [k, d] of dtypes(back)) expect(d, k).toBe(k.endsWith('norm.weight') ? 'float32' : 'bfloat16');
    // the values are the float32 originals rounded to nearest even
    const w = await back.lm_head.weight.data(), w0 = model.lm_head.weight.dataSync();
    expect(w.every((x, i) => x === bf16ToF32(f32ToBf16(w0[i])))).toBe(true);
    const again = join(tmp, 'bf16-again');
    await saveBltCheckpoint(back, again);
    expect(readFileSync(join(again, 'model.safetensors')).equals(readFileSync(join(dir, 'model.safetensors')))).toBe(true);
  });

  it('computes in float32 exactly what the float32 copy of the same weights computes', async () => {
    const { dir } = await savedBf16();
    const half = await loadBltCheckpoint(dir, { hashTables: 'memory' });
    const full = await loadBltCheckpoint(dir, { dtype: 'float32' });
    expect(dtypes(full).get('lm_head.weight')).toBe('float32');
    expect(same(logits(half), logits(full))).toBe(true);
    // 16-bit weights are inference storage: the model loads frozen, and says why it cannot be unfrozen or trained
    expect(half.parameters()).toEqual([]);
    expect(() => half.requiresGrad(true)).toThrow(/'model\.encoder_hash_tok_embedding\.weight' \[\d+, 32\] is bfloat16 \(16-bit storage, for inference\) .* dtype: 'float32'/);
    expect(() => new AdamW(half.namedTensors().map(([, t]) => t))).toThrow(/AdamW: parameter 'model\.encoder_hash_tok_embedding\.weight' .* is bfloat16/);
    const w = half.lm_head.weight;
    w.requiresGrad = true; // set by hand: refused at the first op that reads it under grad mode
    expect(() => half.loss(IDS, LENGTHS)).toThrow(/'lm_head\.weight' .* is bfloat16 \(16-bit storage\) and requires grad/);
    w.requiresGrad = false;
    expect(full.parameters().length).toBeGreaterThan(0);
    new AdamW(full.parameters()); // float32 weights train
  });

  it('stays within the first-order bound of bfloat16 rounding of the float32 model', async () => {
    // Rounding a weight w to bfloat16 moves it by at most u·|w| (u = 2^-8, round to nearest). To first order a
    // logit z moves by at most u · Σ_i |w_i · ∂z/∂w_i|, which autograd computes exactly on the float32 model; the
    // bound gets 25% for second-order terms plus float32 noise of the two forward passes.
    const { model, dir } = await savedBf16();
    const half = await loadBltCheckpoint(dir);
    const z32 = logits(model), z16 = logits(half);
    const d = Array.from(z16, (v, i) => Math.abs(v - z32[i]));
    const V = model.config.vocabSize, T = IDS[0].length;
    const worst = [...d.keys()].sort((a, b) => d[b] - d[a]).slice(0, 4);
    const checked = [...new Set([...worst, 0, 5 * V + 40, (T - 1) * V + 101])];
    for (const j of checked) {
      model.zeroGrad();
      const out = model.forwardWithPatches(IDS, LENGTHS).logits; // [1, T, V]
      const seed = new Float32Array(out.size);
      seed[j] = 1;
      ops.backward(out, ops.tensor(seed, out.shape));
      let sens = 0;
      for (const [, p] of model.namedParameters()) {
        const g = p.grad!.dataSync(), w = p.dataSync();
        for (let i = 0; i < w.length; i++) sens += Math.abs(w[i] * g[i]);
      }
      const bound = 1.25 * 2 ** -8 * sens + 1e-5 * Math.abs(z32[j]) + 1e-6;
      expect(d[j], `logit ${j}: |Δ| ${d[j]} vs bound ${bound}`).toBeLessThanOrEqual(bound);
      expect(d[j]).toBeGreaterThan(0); // the rounding is visible: the check is not vacuous
    }
  });
});

describe('the hash table in blocks or on disk', () => {
  it('row blocks split at the hash tables (forced small) and a table left on disk give the same logits', async () => {
    const model = initBlt(tinyConfig(), 5);
    const dir = join(tmp, 'tables');
    await saveBltCheckpoint(model, dir);
    const cfg = model.config.hash;
    const rowBytes = model.config.encoder.hiddenSize * 4;
    const blocked = await loadBltCheckpoint(dir, { hashTables: 'memory', blockBytes: Math.ceil(cfg.vocab / 2) * rowBytes });
    const table = blocked.model.encoder_hash_tok_embedding.weight as BlockedTable;
    expect(table).toBeInstanceOf(BlockedTable);
    const tables = cfg.nbFunctions * cfg.groupSizes.length;
    expect(table.blocks.length).toBe(2 * tables); // each hash table in two blocks
    expect(table.starts.filter((s) => s % cfg.vocab === 0).length).toBe(tables);
    const messages: string[] = [];
    const disk = await loadBltCheckpoint(dir, { hashTables: 'disk', log: (m) => messages.push(m) });
    expect(disk.model.encoder_hash_tok_embedding.weight).toBeInstanceOf(DiskTable);
    expect(messages[0]).toMatch(/model\.encoder_hash_tok_embedding\.weight \[\d+, 32\] .* stays in .*model\.safetensors and is read row by row/);
    const want = logits(model);
    expect(same(logits(blocked), want)).toBe(true);
    expect(same(logits(disk), want)).toBe(true);
    // a table on disk is inference storage: the model loads frozen and cannot be unfrozen
    expect(disk.parameters()).toEqual([]);
    expect(() => disk.requiresGrad(true)).toThrow(/'model\.encoder_hash_tok_embedding\.weight' is read from disk on demand and cannot be trained/);

    // training through blocks: the same loss and the same gradient rows as one table
    const lossA = blocked.loss(IDS, LENGTHS), lossB = model.loss(IDS, LENGTHS);
    expect(lossA.item()).toBe(lossB.item());
    ops.backward(lossA);
    ops.backward(lossB);
    const g = (model.model.encoder_hash_tok_embedding.weight as BlockedTable).blocks[0].grad!.dataSync();
    table.blocks.forEach((b, i) => {
      const rows = b.grad!.dataSync();
      expect(same(rows, g.subarray(table.starts[i] * table.dim, table.starts[i] * table.dim + rows.length))).toBe(true);
    });
    expect(blocked.namedParameters().filter(([k]) => k.startsWith('model.encoder_hash_tok_embedding.weight[')).length).toBe(2 * tables);

    // saving a blocked or an on-disk table writes the one fused tensor: the same file
    for (const [m, name] of [[blocked, 'from-blocks'], [disk, 'from-disk']] as const) {
      await saveBltCheckpoint(m, join(tmp, name));
      expect(readFileSync(join(tmp, name, 'model.safetensors')).equals(readFileSync(join(dir, 'model.safetensors'))), name).toBe(true);
    }
  });

  it('await model.forward(ids) runs on a bfloat16 model with its table on disk, recording no graph', async () => {
    const { dir } = await savedBf16();
    const m = await loadBltCheckpoint(dir, { hashTables: 'disk' });
    expect(m.model.encoder_hash_tok_embedding.weight).toBeInstanceOf(DiskTable);
    const out = await m.forward(IDS); // gradient recording is on here
    expect(out.logits.requiresGrad).toBe(false);
    const lengths = await m.patchLengthsFor(IDS);
    expect(same(out.logits.dataSync(), noGrad(() => m.forwardWithPatches(IDS, lengths).logits.dataSync()))).toBe(true);
    expect(await m.bitsPerByte(IDS)).toBeGreaterThan(0);
  });

  it('shards above a size and loads the shards back', async () => {
    const model = initBlt(tinyConfig(), 6);
    const dir = join(tmp, 'sharded');
    await saveBltCheckpoint(model, dir, { maxShardBytes: 200_000 });
    const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
    expect(new Set(Object.values(index.weight_map)).size).toBeGreaterThan(1);
    expect(same(logits(await loadBltCheckpoint(dir)), logits(model))).toBe(true);
  });
});

void Tensor;
