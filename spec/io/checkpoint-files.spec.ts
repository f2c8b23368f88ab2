// CheckpointFiles: the checkpoint readers see the file system through it, so a folder read into memory (what the
// demo page does with a folder the visitor picks) must open exactly like the same folder on disk, for every
// packaging: Meta's original .pth layout (its entropy model beside it), Meta's Hub layout, HF single-file.
import fs from 'node:fs';
import nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/index.js';
import { memoryFiles, type CheckpointFiles } from '../../src/io/checkpoint-files.js';
import { nodeFiles } from '../../src/io/node-files.js';
import { FILE_DTYPE_BYTES, numelOf, type TensorSource } from '../../src/io/tensor-source.js';
import { openCheckpoint } from '../../src/blt/packaging/open.js';
import { loadAnyCheckpoint } from '../../src/blt/load-sources.js';
import { metaGoldenModelDir } from '../../src/blt/golden-meta.js';
import { sharedPath } from '../../src/io/shared-dir.js';

const MODEL = metaGoldenModelDir(sharedPath('golden-meta'))!;
const HF = sharedPath('golden', 'blt1b_like');

/** Every file under `root`, read into memory under `name/<relative path>`. */
function inMemory(root: string, name: string): CheckpointFiles {
  const entries = new Map<string, Uint8Array>();
  for (const rel of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const p = nodePath.join(root, rel);
    if (fs.statSync(p).isFile()) entries.set(`${name}/${rel.split(nodePath.sep).join('/')}`, new Uint8Array(fs.readFileSync(p)));
  }
  return memoryFiles(entries);
}

const bytes = (t: TensorSource): Uint8Array => t.read(0, numelOf(t.shape) * FILE_DTYPE_BYTES[t.dtype]);

describe('checkpoints read into memory open like the same folders on disk', () => {
  const blt = nodePath.join(MODEL, 'blt');
  const original = fs.readdirSync(blt).find((d) => d !== 'entropy_model')!;
  const cases: [string, string, CheckpointFiles, string][] = [
    ['meta-original', nodePath.join(blt, original), inMemory(blt, 'picked'), `picked/${original}`],
    ['meta-hub', nodePath.join(MODEL, 'hub'), inMemory(nodePath.join(MODEL, 'hub'), 'hub'), 'hub'],
    ['hf', HF, inMemory(HF, 'blt1b_like'), 'blt1b_like'],
  ];
  for (const [packaging, onDisk, files, dir] of cases) {
    it(`${packaging}: same packaging, config, keys and bytes`, () => {
      const disk = openCheckpoint(nodeFiles, onDisk), mem = openCheckpoint(files, dir);
      try {
        expect(mem.packaging).toBe(packaging);
        expect(disk.packaging).toBe(packaging);
        expect(mem.config).toEqual(disk.config);
        expect([...mem.tensors.keys()].sort()).toEqual([...disk.tensors.keys()].sort());
        for (const [k, t] of disk.tensors) expect(Buffer.from(bytes(mem.tensors.get(k)!)).equals(Buffer.from(bytes(t))), k).toBe(true);
      } finally {
        disk.close();
        mem.close();
      }
    });
  }

  it('a model loaded from memory gives the logits of the one loaded from disk', async () => {
    const files = inMemory(nodePath.join(MODEL, 'hub'), 'hub');
    const a = loadAnyCheckpoint(nodeFiles, nodePath.join(MODEL, 'hub')), b = loadAnyCheckpoint(files, 'hub');
    const ids = [[1, 76, 105, 113, 104, 36, 108, 104]];
    const lengths = await a.patchLengthsFor(ids);
    expect(await b.patchLengthsFor(ids)).toEqual(lengths);
    expect(Array.from(b.forwardWithPatches(ids, lengths).logits.dataSync())).toEqual(Array.from(a.forwardWithPatches(ids, lengths).logits.dataSync()));
  });

  it('a broken folder in memory is refused naming the file, as on disk', () => {
    const good = fs.readFileSync(nodePath.join(HF, 'model.safetensors'));
    const files = memoryFiles({ 'x/config.json': new Uint8Array(fs.readFileSync(nodePath.join(HF, 'config.json'))), 'x/model.safetensors': new Uint8Array(good.subarray(0, 100)) });
    expect(() => openCheckpoint(files, 'x')).toThrow(/x\/model\.safetensors/);
    expect(() => openCheckpoint(memoryFiles({ 'y/readme.txt': new Uint8Array(1) }), 'y')).toThrow(/not a BLT checkpoint .*found: readme\.txt/);
  });
});
