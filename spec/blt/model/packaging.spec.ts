// openCheckpoint: every packaging detected from its files, normalised to one config + lazy tensors under HF keys,
// and a clear error naming the file and field (or key) for each way a folder can be wrong.
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/index.js';
import { detectPackaging, openCheckpoint } from '../../../src/blt/packaging/open.js';
import { bltWeightShapes } from '../../../src/blt/weight-shapes.js';
import { metaGoldenModelDir } from '../../../src/blt/golden-meta.js';
import { openPth } from '../../../src/io/pth/pth.js';
import { type RawTensor } from '../../../src/io/safetensors.js';
import { readSafetensorsFile } from '../../../src/io/safetensors-file.js';
import { writeSafetensors } from '../../../src/io/safetensors-writer.js';
import { FILE_DTYPE_BYTES, numelOf, type TensorSource } from '../../../src/io/tensor-source.js';
import { sharedPath } from '../../../src/io/shared-dir.js';
import { nodeFiles } from '../../../src/io/node-files.js';

/** The state dict of a .pth file (lazy sources; the descriptor stays open for the test's lifetime). */
const readPth = (path: string, opts?: { entry?: string | null }) => openPth(nodeFiles, path, opts).tensors;

const MODEL = metaGoldenModelDir(sharedPath('golden-meta'))!;
const ORIGINAL = nodePath.join(MODEL, 'blt', fs.readdirSync(nodePath.join(MODEL, 'blt')).find((d) => d !== 'entropy_model')!);
const HUB = nodePath.join(MODEL, 'hub');
const HF = sharedPath('golden', 'blt1b_like');
const tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-packaging-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const bytes = (t: TensorSource): Buffer => Buffer.from(t.read(0, numelOf(t.shape) * FILE_DTYPE_BYTES[t.dtype]));
const readJson = (p: string) => JSON.parse(fs.readFileSync(p, 'utf8'));

/** A writable copy of a folder tree. */
function copyOf(src: string, name: string): string {
  const dst = nodePath.join(tmp, name);
  fs.cpSync(src, dst, { recursive: true });
  for (const f of fs.readdirSync(dst, { recursive: true }) as string[]) fs.chmodSync(nodePath.join(dst, f), 0o755);
  fs.chmodSync(dst, 0o755);
  return dst;
}

describe('openCheckpoint on Meta\'s packagings', () => {
  it('the original .pth layout and the Hub layout give the same config and the same tensors under HF keys', () => {
    const orig = openCheckpoint(nodeFiles, ORIGINAL), hub = openCheckpoint(nodeFiles, HUB);
    expect([orig.packaging, hub.packaging]).toEqual(['meta-original', 'meta-hub']);
    expect(hub.config).toEqual(orig.config);
    const keys = [...bltWeightShapes(orig.config).keys()].sort();
    expect([...orig.tensors.keys()].sort()).toEqual(keys);
    expect([...hub.tensors.keys()].sort()).toEqual(keys);
    for (const k of keys) expect(bytes(hub.tensors.get(k)!).equals(bytes(orig.tensors.get(k)!)), k).toBe(true);
    // the fused hash table is Meta's tables stacked in index order
    const meta = readPth(nodePath.join(ORIGINAL, 'consolidated.pth'));
    const parts = [...meta.keys()].filter((k) => k.startsWith('encoder_hash_tok_embedding.')).sort();
    expect(bytes(orig.tensors.get('model.encoder_hash_tok_embedding.weight')!).equals(Buffer.concat(parts.map((k) => bytes(meta.get(k)!))))).toBe(true);
  });

  it('maps Meta\'s fields where Meta\'s code uses them: windows, heads, FFN widths, patching rule, reference preset', () => {
    const { config: c, patchingSource } = openCheckpoint(nodeFiles, ORIGINAL);
    const params = readJson(nodePath.join(ORIGINAL, 'params.json'));
    const m = params.model, p = params.data.patcher_args;
    expect(patchingSource).toBe(nodePath.join(ORIGINAL, 'params.json')); // Meta's demo reads the BLT's params.json
    expect(c.behaviour).toEqual({ localWindow: m.local_attention_window_len, patcherWindow: 512, patcherChunk: 8192, documentMask: true,
      repoolEachCrossLayer: false, patchLengthsSumTo: 'N+1', emptyPatchAttention: 'none', metaPatchRules: true });
    expect(c.patching).toMatchObject({ mode: p.patching_mode, threshold: p.threshold, thresholdAdd: p.threshold_add,
      monotonicity: p.monotonicity, maxPatchLength: p.max_patch_length, patchInForward: true });
    expect([c.encoder.hiddenSize, c.decoder.hiddenSize, c.global.hiddenSize]).toEqual([m.dim_local_encoder, m.dim_local_decoder, m.dim_global]);
    expect([c.global.numHeads, c.global.numKvHeads]).toEqual([m.n_heads_global, m.n_kv_heads_global]);
    const ffn = (d: number, mo: number) => mo * Math.ceil(Math.floor(m.ffn_dim_multiplier * Math.floor((8 * d) / 3)) / mo);
    expect([c.encoder.intermediateSize, c.global.intermediateSize]).toEqual([ffn(m.dim_local_encoder, m.multiple_of), ffn(m.dim_global, m.multiple_of)]);
    // the entropy model: load_entropy_model's hard-coded multiple_of 256, θ 10000, eps 1e-5
    const e = readJson(nodePath.join(MODEL, 'blt', 'entropy_model', 'params.json')).entropy_model;
    expect(c.patcher).toMatchObject({ hiddenSize: e.dim, numHeads: e.n_heads, numKvHeads: e.n_heads, numLayers: e.n_layers,
      intermediateSize: ffn(e.dim, 256), ropeTheta: 10000, rmsNormEps: 1e-5 });
  });

  it('the threshold trap: the original layout reads the BLT\'s params.json, the Hub layout the entropy model\'s', () => {
    const orig = copyOf(nodePath.join(MODEL, 'blt'), 'trap-blt');
    const bltDir = nodePath.join(orig, nodePath.basename(ORIGINAL));
    const params = readJson(nodePath.join(bltDir, 'params.json'));
    params.data.patcher_args.threshold = 1.25;
    fs.writeFileSync(nodePath.join(bltDir, 'params.json'), JSON.stringify(params));
    expect(openCheckpoint(nodeFiles, bltDir).config.patching.threshold).toBe(1.25);
    const hub = copyOf(HUB, 'trap-hub');
    const ep = readJson(nodePath.join(hub, 'entropy_model', 'params.json'));
    ep.data.patcher_args.threshold = 0.75;
    fs.writeFileSync(nodePath.join(hub, 'entropy_model', 'params.json'), JSON.stringify(ep));
    const h = openCheckpoint(nodeFiles, hub);
    expect(h.config.patching.threshold).toBe(0.75);
    expect(h.patchingSource).toBe(nodePath.join(hub, 'entropy_model', 'params.json'));
  });

  it('takes the BF16 Hub entropy model when asked, keeping its dtype and its own window', () => {
    const o = openCheckpoint(nodeFiles, HUB, { entropyModel: nodePath.join(MODEL, 'entropy_hub') });
    expect(o.entropyDir).toBe(nodePath.join(MODEL, 'entropy_hub'));
    expect(o.tensors.get('model.patcher.embed_tokens.weight')!.dtype).toBe('BF16');
    expect(o.config.behaviour.patcherWindow).toBe(readJson(nodePath.join(MODEL, 'entropy_hub', 'config.json')).args.sliding_window);
    // the BF16 weights are the float32 ones rounded to nearest even (how torch casts), for every tensor
    const f32 = openCheckpoint(nodeFiles, HUB).tensors;
    for (const [k, t] of o.tensors) {
      if (!k.startsWith('model.patcher.')) continue;
      const wide = new Float32Array(Uint8Array.from(bytes(f32.get(k)!)).buffer);
      const half = new Uint16Array(Uint8Array.from(bytes(t)).buffer);
      const u = new Uint32Array(wide.buffer);
      for (let i = 0; i < u.length; i++) expect(half[i], `${k}[${i}]`).toBe((u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16);
    }
  });

  it('refuses a Meta config that lacks a field, disagrees with the weights, or uses a feature this model lacks', () => {
    const hub = copyOf(HUB, 'bad-hub');
    const path = nodePath.join(hub, 'config.json');
    const good = readJson(path);
    const withArgs = (change: (a: Record<string, unknown>) => void) => {
      const a = structuredClone(good); change(a.args); fs.writeFileSync(path, JSON.stringify(a));
      return () => openCheckpoint(nodeFiles, hub);
    };
    expect(withArgs((a) => { delete a.local_attention_window_len; })).toThrow(new RegExp(`${path.replace(/[.]/g, '\\.')}: field "args\\.local_attention_window_len" is missing`));
    expect(withArgs((a) => { a.cross_attn_nheads = 1; })).toThrow(/field "args\.cross_attn_nheads" \(1\) differs from n_heads_local_encoder \(2\)/);
    expect(withArgs((a) => { a.attn_impl = 'sdpa'; })).toThrow(/field "args\.attn_impl" is "sdpa"; this model implements only "xformers"/);
    expect(withArgs((a) => { a.cross_attn_init_by_pooling = false; })).toThrow(/field "args\.cross_attn_init_by_pooling" is false/);
    expect(withArgs((a) => { a.cross_attn_window_encoder = 8; })).toThrow(/field "args\.cross_attn_window_encoder" is 8/);
    expect(withArgs((a) => { a.head_dim = 8; })).toThrow(/field "args\.head_dim" \(8\) differs from the local encoder's dim \/ n_heads = 16/);
    expect(withArgs((a) => { a.dim_local_decoder = 16; a.dim_local_encoder = 16; })).toThrow(
      /key 'model\.local_encoder\.embed_tokens\.weight' \(local_encoder\.tok_embeddings\.weight in .*model\.safetensors\): shape \[260,32\] but the config implies \[260,16\]/);
    expect(withArgs((a) => { a.encoder_hash_byte_group_size = [3, 4]; })).toThrow(/found 3 hash tables but the config implies 2/);
    fs.writeFileSync(path, JSON.stringify(good));
    fs.rmSync(nodePath.join(hub, 'entropy_model', 'params.json'));
    fs.writeFileSync(nodePath.join(hub, 'entropy_model', 'params.json'), '{"entropy_model": {"dim": 32}}');
    expect(() => openCheckpoint(nodeFiles, hub)).toThrow(/entropy_model\/params\.json: field "entropy_model\.n_heads" is missing/);
  });

  it('detects each packaging and says what a folder lacks', () => {
    expect(detectPackaging(nodeFiles, ORIGINAL)).toBe('meta-original');
    expect(detectPackaging(nodeFiles, HUB)).toBe('meta-hub');
    expect(detectPackaging(nodeFiles, HF)).toBe('hf');
    expect(() => detectPackaging(nodeFiles, nodePath.join(MODEL, 'entropy_hub'))).toThrow(/describes a Meta entropy model \(LMTransformerArgs\), not a BLT/);
    expect(() => detectPackaging(nodeFiles, nodePath.join(MODEL, 'hf_converted'))).toThrow(/config\.json but neither model\.safetensors nor model\.safetensors\.index\.json/);
    const empty = nodePath.join(tmp, 'empty');
    fs.mkdirSync(empty);
    expect(() => detectPackaging(nodeFiles, empty)).toThrow(/not a BLT checkpoint .*found: nothing/);
    expect(() => detectPackaging(nodeFiles, nodePath.join(tmp, 'nowhere'))).toThrow(/does not exist/);
  });
});

describe('openCheckpoint on Hugging Face packagings', () => {
  const single = readSafetensorsFile(nodePath.join(HF, 'model.safetensors')).tensors;
  /** A sharded copy of the HF golden checkpoint: keys dealt round-robin into `n` shards. */
  function sharded(name: string, n: number, edit?: (shards: Map<string, RawTensor>[], map: Record<string, string>) => void): string {
    const dir = nodePath.join(tmp, name);
    fs.mkdirSync(dir);
    fs.copyFileSync(nodePath.join(HF, 'config.json'), nodePath.join(dir, 'config.json'));
    const shards = Array.from({ length: n }, () => new Map<string, RawTensor>());
    const map: Record<string, string> = {};
    [...single.keys()].sort().forEach((k, i) => { shards[i % n].set(k, single.get(k)!); map[k] = `model-0000${(i % n) + 1}-of-0000${n}.safetensors`; });
    edit?.(shards, map);
    shards.forEach((s, i) => fs.writeFileSync(nodePath.join(dir, `model-0000${i + 1}-of-0000${n}.safetensors`), writeSafetensors(s)));
    fs.writeFileSync(nodePath.join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: map }));
    return dir;
  }

  it('a sharded copy opens to the same tensors as the single file', () => {
    const one = openCheckpoint(nodeFiles, HF), three = openCheckpoint(nodeFiles, sharded('shards3', 3));
    expect([one.packaging, three.packaging]).toEqual(['hf', 'hf-sharded']);
    expect(three.config).toEqual(one.config);
    expect([...three.tensors.keys()].sort()).toEqual([...one.tensors.keys()].sort());
    for (const [k, t] of one.tensors) expect(bytes(three.tensors.get(k)!).equals(bytes(t)), k).toBe(true);
  });

  it('refuses a missing shard, a key in the wrong shard or in two shards, and a key the index does not list', () => {
    const missing = sharded('missing', 2);
    fs.rmSync(nodePath.join(missing, 'model-00002-of-00002.safetensors'));
    expect(() => openCheckpoint(nodeFiles, missing)).toThrow(/index\.json: shard 'model-00002-of-00002\.safetensors' \(holding \d+ keys, e\.g\. '.*'\) does not exist/);
    const key = 'lm_head.weight';
    expect(() => openCheckpoint(nodeFiles, sharded('wrong', 2, (_s, map) => { map[key] = map[key].includes('00001') ? 'model-00002-of-00002.safetensors' : 'model-00001-of-00002.safetensors'; })))
      .toThrow(/key 'lm_head\.weight' should be in shard 'model-0000\d-of-00002\.safetensors' but is in 'model-0000\d-of-00002\.safetensors'/);
    expect(() => openCheckpoint(nodeFiles, sharded('twice', 2, (s) => { s[0].set(key, single.get(key)!); s[1].set(key, single.get(key)!); })))
      .toThrow(/key 'lm_head\.weight' is in two shards, model-00001-of-00002\.safetensors and model-00002-of-00002\.safetensors/);
    expect(() => openCheckpoint(nodeFiles, sharded('unlisted', 2, (_s, map) => { delete map[key]; })))
      .toThrow(/shard 'model-0000\d-of-00002\.safetensors' holds key 'lm_head\.weight', which the index does not list/);
  });
});

describe('the package entry', () => {
  it('offers every step a user of the released weights takes: detect, open, load, convert, make a random checkpoint', async () => {
    const pkg = await import('../../../src/index.js');
    const hub = nodePath.join(MODEL, 'hub');
    expect(pkg.blt.detectPackaging(pkg.nodeFiles, hub)).toBe('meta-hub');
    const opened = pkg.blt.openCheckpoint(pkg.nodeFiles, hub);
    opened.close();
    expect(opened.config).toEqual(openCheckpoint(nodeFiles, hub).config);
    expect(pkg.blt.loadAnyCheckpoint(pkg.nodeFiles, hub)).toBeInstanceOf(pkg.blt.Blt);
    for (const f of ['convertCheckpoint', 'writeRandomCheckpoint', 'loadBltCheckpoint', 'saveBltCheckpoint', 'checkGolden', 'checkMetaGolden'] as const) {
      expect(typeof pkg.blt[f], f).toBe('function');
    }
  });
});
