// blt convert: Meta's files to HF and back give identical tensors and configs (Meta's own Hub safetensors
// byte for byte), a converted checkpoint computes the same logits, BF16 output is the float32 weights rounded to
// nearest even, large outputs are sharded, and a conversion never overwrites or half-writes its destination.
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../../src/index.js';
import { convertCheckpoint } from '../../../src/blt/packaging/convert.js';
import { openCheckpoint } from '../../../src/blt/packaging/open.js';
import { bltFromCheckpoint } from '../../../src/blt/load-sources.js';
import { metaGoldenModelDir } from '../../../src/blt/golden-meta.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { readSafetensorsFile } from '../../../src/io/safetensors-file.js';
import { FILE_DTYPE_BYTES, numelOf, type TensorSource } from '../../../src/io/tensor-source.js';
import { sharedPath } from '../../../src/io/shared-dir.js';
import { main } from '../../../src/cli/main.js';
import { nodeFiles } from '../../../src/io/node-files.js';

const MODEL = metaGoldenModelDir(sharedPath('golden-meta'))!;
const ORIGINAL = nodePath.join(MODEL, 'blt', fs.readdirSync(nodePath.join(MODEL, 'blt')).find((d) => d !== 'entropy_model')!);
const HUB = nodePath.join(MODEL, 'hub');
const tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-convert-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const out = (name: string): string => nodePath.join(tmp, name);

const bytes = (t: TensorSource): Buffer => Buffer.from(t.read(0, numelOf(t.shape) * FILE_DTYPE_BYTES[t.dtype]));
function sameTensors(a: Map<string, TensorSource>, b: Map<string, TensorSource>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [k, t] of a) {
    expect([b.get(k)!.dtype, b.get(k)!.shape], k).toEqual([t.dtype, t.shape]);
    expect(bytes(b.get(k)!).equals(bytes(t)), k).toBe(true);
  }
}

describe('blt convert', () => {
  it('Meta Hub -> HF -> Meta -> HF: identical tensors and configs, and Meta\'s own Hub weights file again byte for byte', async () => {
    const hub = openCheckpoint(nodeFiles, HUB);
    await convertCheckpoint(HUB, out('hf1'), { to: 'hf' });
    await convertCheckpoint(out('hf1'), out('meta2'), { to: 'meta' });
    await convertCheckpoint(out('meta2'), out('hf3'), { to: 'hf' });
    const hf1 = openCheckpoint(nodeFiles, out('hf1')), meta2 = openCheckpoint(nodeFiles, out('meta2')), hf3 = openCheckpoint(nodeFiles, out('hf3'));
    expect([hf1.packaging, meta2.packaging, hf3.packaging]).toEqual(['hf', 'meta-hub', 'hf']);
    for (const c of [hf1, meta2, hf3]) { expect(c.config).toEqual(hub.config); sameTensors(hub.tensors, c.tensors); }
    expect(fs.readFileSync(out('hf3/config.json'), 'utf8')).toBe(fs.readFileSync(out('hf1/config.json'), 'utf8'));
    expect(fs.readFileSync(out('hf3/model.safetensors')).equals(fs.readFileSync(out('hf1/model.safetensors')))).toBe(true);
    expect(fs.readFileSync(out('meta2/model.safetensors')).equals(fs.readFileSync(nodePath.join(HUB, 'model.safetensors')))).toBe(true);
    // the Meta config says what Meta's code reads: the same values as Meta's own file
    const mine = JSON.parse(fs.readFileSync(out('meta2/config.json'), 'utf8')).args, meta = JSON.parse(fs.readFileSync(nodePath.join(HUB, 'config.json'), 'utf8')).args;
    for (const [k, v] of Object.entries(mine)) expect(v, k).toEqual(k === 'patch_size' ? Math.trunc(meta[k]) : meta[k]); // an integer stride
    expect(fs.readdirSync(out('meta2/entropy_model')).sort()).toEqual(['consolidated.pth', 'params.json']);
  });

  it('Meta original (.pth) -> Meta Hub: the same tensors, and the HF conversion computes bit-identical logits', async () => {
    await convertCheckpoint(ORIGINAL, out('hub-from-pth'), { to: 'meta' });
    const orig = openCheckpoint(nodeFiles, ORIGINAL), back = openCheckpoint(nodeFiles, out('hub-from-pth'));
    expect(back.config).toEqual(orig.config);
    sameTensors(orig.tensors, back.tensors);
    const meta = bltFromCheckpoint(openCheckpoint(nodeFiles, HUB)), hf = bltFromCheckpoint(openCheckpoint(nodeFiles, out('hf1')));
    for (const f of fs.readdirSync(nodePath.join(MODEL, 'cases')).filter((n) => n.endsWith('.safetensors'))) {
      const { tensors } = readSafetensorsFile(nodePath.join(MODEL, 'cases', f));
      const ids = [Array.from(tensors.get('input_ids')!.data)];
      const lengths = await meta.patchLengthsFor(ids);
      expect(await hf.patchLengthsFor(ids), f).toEqual(lengths);
      const a = noGrad(() => meta.forwardWithPatches(ids, lengths).logits).dataSync();
      const b = noGrad(() => hf.forwardWithPatches(ids, lengths).logits).dataSync();
      expect(Buffer.from(b.buffer).equals(Buffer.from(a.buffer)), f).toBe(true);
      const ref = tensors.get('logits')!.data;
      let m = 0;
      for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(b[i] - ref[i]));
      expect(m, f).toBeLessThanOrEqual(1e-4); // and they are Meta's logits (README's float32 tolerance)
    }
  });

  it('--dtype bf16 rounds every weight to nearest even, and the BF16 checkpoint converts and reads back (HF and Meta, .pth included)', async () => {
    await convertCheckpoint(HUB, out('bf16-hf'), { to: 'hf', dtype: 'bf16' });
    await convertCheckpoint(out('bf16-hf'), out('bf16-meta'), { to: 'meta' });
    const f32 = openCheckpoint(nodeFiles, HUB).tensors;
    for (const dir of ['bf16-hf', 'bf16-meta']) {
      const c = openCheckpoint(nodeFiles, out(dir));
      for (const [k, t] of c.tensors) {
        expect(t.dtype, `${dir} ${k}`).toBe('BF16');
        const w = new Uint32Array(Uint8Array.from(bytes(f32.get(k)!)).buffer), h = new Uint16Array(Uint8Array.from(bytes(t)).buffer);
        for (let i = 0; i < w.length; i++) if (h[i] !== (w[i] + 0x7fff + ((w[i] >>> 16) & 1)) >>> 16) throw new Error(`${dir} ${k}[${i}] not rounded to nearest even`);
      }
    }
    expect(JSON.parse(fs.readFileSync(out('bf16-meta/entropy_model/params.json'), 'utf8')).distributed.model_dtype).toBe('bf16');
    // back to float32: exact (BF16 widens exactly)
    await convertCheckpoint(out('bf16-meta'), out('bf16-f32'), { to: 'hf', dtype: 'f32' });
    const wide = openCheckpoint(nodeFiles, out('bf16-f32')).tensors, narrow = openCheckpoint(nodeFiles, out('bf16-hf')).tensors;
    for (const [k, t] of wide) {
      const f = new Uint32Array(Uint8Array.from(bytes(t)).buffer), h = new Uint16Array(Uint8Array.from(bytes(narrow.get(k)!)).buffer);
      expect(f.every((x, i) => x === (h[i] << 16) >>> 0), k).toBe(true);
    }
  });

  it('shards the HF output above the size limit, with an index that opens to the same tensors', async () => {
    await convertCheckpoint(HUB, out('sharded'), { to: 'hf', maxShardBytes: 200_000 });
    const files = fs.readdirSync(out('sharded')).sort();
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((f) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(f)).length).toBeGreaterThan(2);
    const s = openCheckpoint(nodeFiles, out('sharded'));
    expect(s.packaging).toBe('hf-sharded');
    sameTensors(openCheckpoint(nodeFiles, HUB).tensors, s.tensors);
  });

  it('writes an entropy model Meta\'s params.json loader cannot express in the Hub entropy-model form instead', async () => {
    // the HF golden model with the reference preset: its entropy model's FFN width is not 256-aligned
    const src = out('hf-ref');
    fs.mkdirSync(src);
    const hf = sharedPath('golden', 'blt1b_like');
    const cfg = JSON.parse(fs.readFileSync(nodePath.join(hf, 'config.json'), 'utf8'));
    cfg.blt_ts_behaviour = { localWindow: 64, patcherWindow: 512, patcherChunk: 8192, documentMask: true, repoolEachCrossLayer: false, patchLengthsSumTo: 'N+1',
      emptyPatchAttention: 'none', metaPatchRules: true };
    fs.writeFileSync(nodePath.join(src, 'config.json'), JSON.stringify(cfg));
    fs.copyFileSync(nodePath.join(hf, 'model.safetensors'), nodePath.join(src, 'model.safetensors'));
    await convertCheckpoint(src, out('meta-from-hf'), { to: 'meta' });
    expect(fs.readdirSync(out('meta-from-hf/entropy_model')).sort()).toEqual(['config.json', 'model.safetensors']);
    const a = openCheckpoint(nodeFiles, src), b = openCheckpoint(nodeFiles, out('meta-from-hf'));
    expect(b.config).toEqual(a.config);
    sameTensors(a.tensors, b.tensors);
  });

  it('refuses a non-empty destination, overlapping folders and a model Meta\'s format cannot express, writing nothing', async () => {
    const dst = out('occupied');
    fs.mkdirSync(dst);
    fs.writeFileSync(nodePath.join(dst, 'keep.txt'), 'mine');
    await expect(convertCheckpoint(HUB, dst, { to: 'hf' })).rejects.toThrow(/occupied exists and is not empty \(pass --force to replace it\)/);
    expect(fs.readdirSync(dst)).toEqual(['keep.txt']);
    await expect(convertCheckpoint(HUB, nodePath.join(HUB, 'inside'), { to: 'hf' })).rejects.toThrow(/overlap/);
    await expect(convertCheckpoint(sharedPath('golden', 'blt1b_like'), out('never'), { to: 'meta' }))
      .rejects.toThrow(/cannot write this model in Meta's format: blt_ts_behaviour\.localWindow is null/);
    expect(fs.existsSync(out('never'))).toBe(false);
    // Meta's code runs its entropy model on 8192-byte chunks whatever the files say: any other chunk is refused
    const chunked = out('hf-chunk');
    fs.mkdirSync(chunked);
    const hf = sharedPath('golden', 'blt1b_like');
    const cfg = JSON.parse(fs.readFileSync(nodePath.join(hf, 'config.json'), 'utf8'));
    cfg.blt_ts_behaviour = { localWindow: 64, patcherWindow: 512, patcherChunk: 1024, documentMask: true, repoolEachCrossLayer: false,
      patchLengthsSumTo: 'N+1', emptyPatchAttention: 'none', metaPatchRules: true };
    fs.writeFileSync(nodePath.join(chunked, 'config.json'), JSON.stringify(cfg));
    fs.copyFileSync(nodePath.join(hf, 'model.safetensors'), nodePath.join(chunked, 'model.safetensors'));
    await expect(convertCheckpoint(chunked, out('never'), { to: 'meta' }))
      .rejects.toThrow(/cannot write this model in Meta's format: blt_ts_behaviour\.patcherChunk is 1024/);
    expect(fs.existsSync(out('never'))).toBe(false);
    // --force replaces it
    await convertCheckpoint(HUB, dst, { to: 'hf', force: true });
    expect(fs.readdirSync(dst).sort()).toEqual(['config.json', 'model.safetensors']);
  });

  it('a failure at the last step leaves the old destination as it was and no temp folder behind', async () => {
    const dst = out('kept');
    fs.mkdirSync(dst);
    fs.writeFileSync(nodePath.join(dst, 'keep.txt'), 'mine');
    const real = fs.renameSync;
    let failed = false;
    const spy = vi.spyOn(fs, 'renameSync').mockImplementation((a, b) => {
      if (String(b) === dst && !failed) { failed = true; throw new Error('disk full (injected)'); } // the new folder's rename
      return real(a, b);
    });
    try {
      await expect(convertCheckpoint(HUB, dst, { to: 'meta', force: true })).rejects.toThrow(/disk full \(injected\)/);
    } finally {
      spy.mockRestore();
    }
    expect(fs.readdirSync(dst)).toEqual(['keep.txt']);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.kept.'))).toEqual([]);
    // a failure while writing (here: a tensor whose bytes cannot be read) leaves no destination at all
    const hubCopy = out('hub-copy');
    fs.cpSync(HUB, hubCopy, { recursive: true });
    const ck = openCheckpoint(nodeFiles, hubCopy);
    fs.truncateSync(nodePath.join(hubCopy, 'model.safetensors'), 1000); // after opening: reads past 1000 fail
    const openSpy = vi.spyOn(await import('../../../src/blt/packaging/open.js'), 'openCheckpoint');
    openSpy.mockReturnValue(ck);
    try {
      await expect(convertCheckpoint(hubCopy, out('half'), { to: 'hf' })).rejects.toThrow(/model\.safetensors.*cannot read bytes \[\d+, \d+\) of a 1000-byte file|model\.safetensors.*end of file/);
    } finally {
      openSpy.mockRestore();
    }
    expect(fs.existsSync(out('half'))).toBe(false);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.half.'))).toEqual([]);
  });

  it('the blt convert command: --to is required, and it reports what it converted', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['convert', HUB, out('cli')])).toBe(2);
      expect(err.mock.calls.flat().join(' ')).toMatch(/--to hf or --to meta is required/);
      expect(await main(['convert', ORIGINAL, out('cli'), '--to', 'hf', '--dtype', 'bf16'])).toBe(0);
      expect(log.mock.calls.flat().join(' ')).toMatch(/converted meta-original checkpoint .* \(91 tensors\) to hf/);
      expect(await main(['convert', ORIGINAL, out('cli'), '--to', 'hf'])).toBe(1);
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(openCheckpoint(nodeFiles, out('cli')).tensors.get('lm_head.weight')!.dtype).toBe('BF16');
  });
});
