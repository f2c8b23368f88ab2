// Checkpoints: the config-implied shapes equal the model's state dict and HF's keys; save -> load
// round-trips exactly; sharded and original-key checkpoints load; bad files fail naming the key and file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/index.js';
import { Blt } from '../../../src/blt/blt.js';
import { loadBltCheckpoint, saveBltCheckpoint, initBlt } from '../../../src/blt/checkpoint.js';
import { bltWeightShapes } from '../../../src/blt/weight-shapes.js';
import { tinyConfig } from '../../../src/blt/config/shapes.js';
import { loadBltConfigFile } from '../../../src/blt/config/file.js';
import { type RawTensor } from '../../../src/io/safetensors.js';
import { writeSafetensors } from '../../../src/io/safetensors-writer.js';
import { readSafetensorsFile } from '../../../src/io/safetensors-file.js';
import { convertHfStateDictToOriginal } from '../../../src/io/blt-keys.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { sharedPath } from '../../../src/io/shared-dir.js';

const GOLDEN = sharedPath('golden');
const tmp = mkdtempSync(join(tmpdir(), 'blt-ckpt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function stateArrays(m: Blt): Map<string, { shape: number[]; data: Float32Array }> {
  return new Map([...m.stateDict()].map(([k, t]) => [k, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
}

function expectSameState(a: Blt, b: Blt): void {
  const sa = stateArrays(a), sb = stateArrays(b);
  expect([...sb.keys()].sort()).toEqual([...sa.keys()].sort());
  for (const [k, v] of sa) {
    expect(sb.get(k)!.shape, k).toEqual(v.shape);
    expect(sb.get(k)!.data.every((x, i) => x === v.data[i]), k).toBe(true);
  }
}

const IDS = [[1, 76, 105, 112, 112, 115, 48, 36, 70, 80]];
const LENGTHS = [[1, 1, 3, 2, 3]];

describe('weight shapes', () => {
  it('bltWeightShapes(config) equals the state dict of the model built from it', () => {
    for (const behaviour of ['hf', 'reference'] as const) {
      const cfg = tinyConfig(behaviour);
      const model = new Blt(cfg, { seed: 3 });
      const fromModel = new Map([...model.stateDict()].map(([k, t]) => [k, [...t.shape]]));
      expect(new Map(bltWeightShapes(cfg))).toEqual(fromModel);
    }
  });

  it('equal HF weight keys and shapes of both golden configs (meta.json)', async () => {
    for (const name of ['blt1b_like', 'proj_gqa']) {
      const cfg = await loadBltConfigFile(join(GOLDEN, name, 'config.json'));
      const meta = JSON.parse(readFileSync(join(GOLDEN, name, 'meta.json'), 'utf8')) as { weight_keys: Record<string, number[]> };
      expect(Object.fromEntries(bltWeightShapes(cfg))).toEqual(meta.weight_keys);
      // the parameters the model trains exclude the frozen entropy model
      const model = new Blt(cfg, { seed: 0 });
      expect(model.namedParameters().some(([k]) => k.startsWith('model.patcher.'))).toBe(false);
      expect(model.stateDict().has('model.patcher.lm_head.weight')).toBe(true);
    }
  });
});

describe('random init', () => {
  it('is deterministic per seed, differs across seeds, and has norms at 1', () => {
    const a = initBlt(tinyConfig(), 7), b = initBlt(tinyConfig(), 7), c = initBlt(tinyConfig(), 8);
    expectSameState(a, b);
    const wa = a.lm_head.weight.dataSync(), wc = c.lm_head.weight.dataSync();
    expect(wa.some((x, i) => x !== wc[i])).toBe(true);
    expect(Array.from(a.model.local_decoder.norm.weight.dataSync()).every((x) => x === 1)).toBe(true);
    // truncated normal with std dD^-1/2 = 32^-1/2: nothing beyond 3 std
    const bound = 3 * 32 ** -0.5;
    expect(Array.from(wa).every((x) => Math.abs(x) <= bound)).toBe(true);
  });
});

describe('save and load', () => {
  it('round-trips weights, config (behaviour switches included) and logits exactly', async () => {
    for (const behaviour of ['hf', 'reference'] as const) {
      const model = initBlt(tinyConfig(behaviour), 11);
      const dir = join(tmp, `rt-${behaviour}`);
      await saveBltCheckpoint(model, dir);
      const back = await loadBltCheckpoint(dir);
      expect(back.config).toEqual(model.config);
      expectSameState(model, back);
      const la = noGrad(() => model.forwardWithPatches(IDS, LENGTHS).logits.dataSync());
      const lb = noGrad(() => back.forwardWithPatches(IDS, LENGTHS).logits.dataSync());
      expect(lb.every((x, i) => x === la[i])).toBe(true);
      // saving again gives the same bytes (deterministic writer)
      const first = readFileSync(join(dir, 'model.safetensors'));
      await saveBltCheckpoint(back, dir);
      expect(readFileSync(join(dir, 'model.safetensors')).equals(first)).toBe(true);
    }
  });

  it('loads sharded files (index json) and original key names to the same weights', async () => {
    const src = join(GOLDEN, 'blt1b_like');
    const ref = await loadBltCheckpoint(src);
    const { tensors } = readSafetensorsFile(join(src, 'model.safetensors'));
    const config = readFileSync(join(src, 'config.json'), 'utf8');

    const sharded = join(tmp, 'sharded');
    const keys = [...tensors.keys()].sort();
    const halves = [keys.slice(0, 40), keys.slice(40)];
    const weightMap: Record<string, string> = {};
    (await import('node:fs')).mkdirSync(sharded, { recursive: true });
    halves.forEach((ks, i) => {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      writeFileSync(join(sharded, file), writeSafetensors(new Map(ks.map((k) => [k, tensors.get(k)!]))));
      for (const k of ks) weightMap[k] = file;
    });
    writeFileSync(join(sharded, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    writeFileSync(join(sharded, 'config.json'), config);
    expectSameState(ref, await loadBltCheckpoint(sharded));

    const original = join(tmp, 'original');
    (await import('node:fs')).mkdirSync(original, { recursive: true });
    const cfgJson = JSON.parse(config) as Record<string, unknown>;
    const { blt, entropy } = convertHfStateDictToOriginal(tensors, cfgJson as never);
    const merged = new Map<string, RawTensor>([...blt, ...entropy]);
    expect(merged.has('local_decoder.output.weight')).toBe(true);
    writeFileSync(join(original, 'model.safetensors'), writeSafetensors(merged));
    writeFileSync(join(original, 'config.json'), config);
    expectSameState(ref, await loadBltCheckpoint(original));
  });

  it('rejects a wrong shape, a missing key and an unexpected key, naming key and file, before building', async () => {
    const model = initBlt(tinyConfig(), 1);
    const dir = join(tmp, 'bad');
    await saveBltCheckpoint(model, dir);
    const file = join(dir, 'model.safetensors');
    const good = readSafetensorsFile(file).tensors;

    const wrong = new Map(good);
    wrong.set('lm_head.weight', { dtype: 'F32', shape: [260, 16], data: new Float32Array(260 * 16) });
    writeFileSync(file, writeSafetensors(wrong));
    await expect(loadBltCheckpoint(dir)).rejects.toThrow(/lm_head\.weight.*model\.safetensors.*\[260,16\].*\[260,32\]/);

    const missing = new Map(good);
    missing.delete('model.local_decoder.norm.weight');
    writeFileSync(file, writeSafetensors(missing));
    await expect(loadBltCheckpoint(dir)).rejects.toThrow(/missing key 'model\.local_decoder\.norm\.weight'/);

    const extra = new Map(good);
    extra.set('model.local_decoder.layers.9.mlp.up_proj.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    writeFileSync(file, writeSafetensors(extra));
    await expect(loadBltCheckpoint(dir)).rejects.toThrow(/unexpected key 'model\.local_decoder\.layers\.9\.mlp\.up_proj\.weight'/);

    await expect(loadBltCheckpoint(join(tmp, 'nowhere'))).rejects.toThrow(/nowhere does not exist/);
  });
});
