// The PyTorch .pth reader: Meta's own consolidated.pth files (golden-meta) read lazily and agree byte for byte
// with the same weights in safetensors; our writer's files read back; every refusal names the file and the
// opcode, global or key, and nothing in a hostile pickle is ever run.
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPth } from '../../src/io/pth/pth.js';
import { readPickle } from '../../src/io/pth/pickle.js';
import { ZipWriter, crc32 } from '../../src/io/pth/zip-writer.js';
import { stateDictPickle, writePthStateDict } from '../../src/io/pth/pth-writer.js';
import { openSafetensorsFile as openSafetensors } from '../../src/io/safetensors-file.js';
import { numelOf, FILE_DTYPE_BYTES, type TensorSource } from '../../src/io/tensor-source.js';
import { sharedPath } from '../../src/io/shared-dir.js';
import { nodeFiles } from '../../src/io/node-files.js';

/** The state dict of a .pth file (lazy sources; the descriptor stays open for the test's lifetime). */
const readPth = (path: string, opts?: { entry?: string | null }) => openPth(nodeFiles, path, opts).tensors;

const META = sharedPath('golden-meta');
const tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-pth-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const all = (t: TensorSource): Uint8Array => t.read(0, numelOf(t.shape) * FILE_DTYPE_BYTES[t.dtype]);

/** The first directory under the golden-meta set that holds `rel` (the set's model folder name is not fixed). */
function metaFile(...rel: string[]): string {
  const model = JSON.parse(fs.readFileSync(nodePath.join(META, 'manifest.json'), 'utf8')).model_dir as string;
  return nodePath.join(META, model, ...rel);
}

/** A torch.save-like zip with the given entries under folder `a/` (data.pkl first). */
function zipWith(name: string, entries: Record<string, Uint8Array>, opts: { forceZip64?: boolean } = {}): string {
  const path = nodePath.join(tmp, name);
  const z = new ZipWriter(path, opts);
  for (const [n, b] of Object.entries(entries)) z.addEntry(`a/${n}`, b.length, (w) => w(b));
  z.finish();
  return path;
}

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

/** A memory source [rows, cols] of float32 values base + i. */
function memorySource(name: string, shape: number[], base: number): TensorSource {
  const data = Float32Array.from({ length: numelOf(shape) }, (_, i) => base + i);
  const b = new Uint8Array(data.buffer);
  return { name, file: 'memory', dtype: 'F32', shape, read: (o, n) => b.slice(o, o + n) };
}

describe('PyTorch .pth reader on Meta\'s files', () => {
  it('reads the BLT and entropy-model state dicts lazily, with the same bytes as the hub safetensors', () => {
    const blt = readPth(metaFile('blt', fs.readdirSync(metaFile('blt')).find((d) => d !== 'entropy_model')!, 'consolidated.pth'));
    const hub = openSafetensors(metaFile('hub', 'model.safetensors')).tensors;
    expect([...blt.keys()].sort()).toEqual([...hub.keys()].sort());
    for (const [key, t] of blt) {
      const h = hub.get(key)!;
      expect([t.dtype, t.shape], key).toEqual([h.dtype, h.shape]);
      expect(Buffer.from(all(t)).equals(Buffer.from(all(h))), key).toBe(true);
    }
    const meta = JSON.parse(fs.readFileSync(metaFile('meta.json'), 'utf8'));
    const ent = readPth(metaFile('blt', 'entropy_model', 'consolidated.pth'));
    expect(Object.fromEntries([...ent].map(([k, t]) => [k, t.shape]))).toEqual(
      Object.fromEntries(Object.entries(meta.consolidated_pth.entropy_model.model as Record<string, { shape: number[] }>).map(([k, v]) => [k, v.shape])));
  });

  it('reads a sub-range of a tensor without reading the rest', () => {
    const ent = readPth(metaFile('blt', 'entropy_model', 'consolidated.pth'));
    const emb = ent.get('tok_embeddings.weight')!;
    const rowBytes = emb.shape[1] * 4;
    expect(Buffer.from(emb.read(5 * rowBytes, rowBytes)).equals(Buffer.from(all(emb).subarray(5 * rowBytes, 6 * rowBytes)))).toBe(true);
    expect(() => emb.read(0, all(emb).length + 4)).toThrow(/tok_embeddings\.weight.*outside its/);
  });
});

describe('.pth writer', () => {
  it('round-trips tensors through a file, with or without ZIP64 records, LONG1 sizes included', () => {
    const tensors = new Map([['a.weight', memorySource('a', [3, 4], 0)], ['b', memorySource('b', [5], 100)], ['s', memorySource('s', [], 7)]]);
    for (const forceZip64 of [false, true]) {
      const path = nodePath.join(tmp, `rt-${forceZip64}.pth`);
      if (forceZip64) {
        // the writer decides ZIP64 by size; force it through a zip written by hand with the same pickle
        const pkl = stateDictPickle([...tensors.values()], [...tensors.keys()]);
        const z = new ZipWriter(path, { forceZip64: true });
        z.addEntry('x/data.pkl', pkl.length, (w) => w(pkl));
        [...tensors.values()].forEach((t, i) => { const b = all(t); z.addEntry(`x/data/${i}`, b.length, (w) => w(b)); });
        z.finish();
      } else writePthStateDict(path, tensors);
      const back = readPth(path);
      expect([...back.keys()]).toEqual(['a.weight', 'b', 's']);
      for (const [k, t] of tensors) {
        expect(back.get(k)!.shape).toEqual(t.shape);
        expect(Buffer.from(all(back.get(k)!)).equals(Buffer.from(all(t)))).toBe(true);
      }
    }
    // integers above 2^31 are written as LONG1 and read back exactly
    const big = new PickleProbe().longSize(3000012 * 1024);
    expect(big).toBe(3000012 * 1024);
  });

  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
});

/** Reads the size tuple of a one-tensor state dict pickle with a given (large) row count. */
class PickleProbe {
  longSize(rows: number): number {
    const pkl = stateDictPickle([{ name: 't', file: 'm', dtype: 'BF16', shape: [rows], read: () => new Uint8Array() }], ['t']);
    const top = readPickle(pkl, 'probe') as unknown as Map<string, Map<string, { size: number[] }>>;
    return top.get('model')!.get('t')!.size[0];
  }
}

describe('.pth refusals', () => {
  const tensorPickle = (storage: string, size: number[], stride: number[], offset = 0, numel = 4): Uint8Array => {
    const mark = [0x28], tuple = [0x74];
    const ints = (xs: number[]) => xs.flatMap((x) => [0x4b, x]);
    return bytes([0x80, 0x02, 0x7d], 'X', [5, 0, 0, 0], 'model', [0x7d, 0x28], 'X', [1, 0, 0, 0], 'w',
      'ctorch._utils\n_rebuild_tensor_v2\n', mark, mark, 'X', [7, 0, 0, 0], 'storage', `ctorch\n${storage}\n`,
      'X', [1, 0, 0, 0], '0', 'X', [3, 0, 0, 0], 'cpu', [0x4b, numel], tuple, [0x51], [0x4b, offset],
      mark, ints(size), tuple, mark, ints(stride), tuple, [0x89], 'ccollections\nOrderedDict\n', [0x29, 0x52], tuple, [0x52],
      [0x75, 0x73, 0x2e]);
  };
  const data16 = new Uint8Array(16);

  it('refuses GLOBAL os.system before anything is called, naming the file, the global and its byte position', () => {
    const evil = bytes([0x80, 0x02], 'cos\nsystem\n', 'X', [2, 0, 0, 0], 'ls', [0x85, 0x52, 0x2e]);
    const path = zipWith('evil.pth', { 'data.pkl': evil });
    expect(() => readPth(path)).toThrow(new RegExp(`${path.replace(/[.]/g, '\\.')}.*pickle byte 2: global 'os\\.system' is refused`));
  });

  it('refuses a REDUCE of an allowed name that is not a callable it knows, and unknown opcodes', () => {
    // torch.FloatStorage is an allowed name (inside persistent ids), but calling it is not
    const reduceStorage = bytes([0x80, 0x02], 'ctorch\nFloatStorage\n', [0x29, 0x52, 0x2e]);
    expect(() => readPickle(reduceStorage, 'x.pkl')).toThrow(/x\.pkl: pickle byte 23: REDUCE of torch\.FloatStorage is refused/);
    // INST (0x69) imports and calls a class: not in the subset
    expect(() => readPickle(bytes([0x80, 0x02], 'ibuiltins\nexec\n', [0x2e]), 'y.pkl')).toThrow(/y\.pkl: pickle byte 2: opcode 0x69 \("i"\) is not allowed/);
    expect(() => readPickle(bytes([0x80, 0x02, 0x4b]), 'z.pkl')).toThrow(/z\.pkl: pickle byte 2: truncated pickle/);
  });

  it('refuses a truncated zip, naming the file', () => {
    const good = zipWith('good.pth', { 'data.pkl': tensorPickle('FloatStorage', [2, 2], [2, 1]), 'data/0': data16 });
    const cut = nodePath.join(tmp, 'cut.pth');
    const b = fs.readFileSync(good);
    fs.writeFileSync(cut, b.subarray(0, b.length - 30));
    expect(() => readPth(cut)).toThrow(/cut\.pth: no zip end-of-central-directory record/);
    fs.writeFileSync(cut, b.subarray(0, 40));
    expect(() => readPth(cut)).toThrow(/cut\.pth/);
    expect(() => readPth(nodePath.join(tmp, 'missing.pth'))).toThrow(/missing\.pth: cannot open file/);
  });

  it('refuses a big-endian checkpoint', () => {
    const path = zipWith('big.pth', { 'data.pkl': tensorPickle('FloatStorage', [2, 2], [2, 1]), byteorder: bytes('big'), 'data/0': data16 });
    expect(() => readPth(path)).toThrow(/big\.pth: byteorder is 'big'; only little-endian/);
  });

  it('refuses non-contiguous strides, storage offsets that do not fit, unsupported dtypes and a missing storage, naming the key', () => {
    const t = (name: string, pkl: Uint8Array, data = data16) => zipWith(name, { 'data.pkl': pkl, 'data/0': data });
    expect(() => readPth(t('tr.pth', tensorPickle('FloatStorage', [2, 2], [1, 2])))).toThrow(/tensor 'w' in .*tr\.pth: strides \[1,2\] for size \[2,2\] are not contiguous/);
    expect(() => readPth(t('off.pth', tensorPickle('FloatStorage', [2, 2], [2, 1], 1)))).toThrow(/tensor 'w' .*elements \[1, 5\) do not fit in its storage '0' of 4 elements/);
    expect(() => readPth(t('u8.pth', tensorPickle('ByteStorage', [2, 2], [2, 1]), new Uint8Array(4)))).toThrow(/tensor 'w' .*dtype uint8 \(torch\.ByteStorage\) is not supported/);
    expect(() => readPth(zipWith('nodata.pth', { 'data.pkl': tensorPickle('FloatStorage', [2, 2], [2, 1]) }))).toThrow(/'a\/data\/0' is missing/);
    expect(() => readPth(t('short.pth', tensorPickle('FloatStorage', [2, 2], [2, 1]), new Uint8Array(8)))).toThrow(/has 8 bytes, but 4 float32 elements need 16/);
    // a contiguous view at an offset inside a larger storage is fine
    const sub = readPth(t('sub.pth', tensorPickle('FloatStorage', [1, 2], [2, 1], 2, 4), Uint8Array.from({ length: 16 }, (_, i) => i)));
    expect(Array.from(all(sub.get('w')!))).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
  });

  it('refuses a file without a "model" entry, listing the keys it has', () => {
    const pkl = bytes([0x80, 0x02, 0x7d], 'X', [3, 0, 0, 0], 'foo', [0x4b, 1, 0x73, 0x2e]);
    expect(() => readPth(zipWith('nomodel.pth', { 'data.pkl': pkl }))).toThrow(/no 'model' entry \(top-level keys: "foo"\)/);
  });
});
