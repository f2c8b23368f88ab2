// Lazy tensor sources: row slices and stacks read exactly the bytes of the rows they stand for.
import { describe, expect, it, onTestFinished } from 'vitest';
import fc from 'fast-check';
import { concatRows, sliceRows, type TensorSource } from '../../src/io/tensor-source.js';

/** An in-memory F32 source [rows, cols] whose element (r, c) is base + r * cols + c. */
function memorySource(name: string, rows: number, cols: number, base: number): TensorSource {
  const data = Float32Array.from({ length: rows * cols }, (_, i) => base + i);
  const bytes = new Uint8Array(data.buffer);
  return {
    name, file: `${name}.bin`, dtype: 'F32', shape: [rows, cols],
    read: (offset, length) => {
      if (offset < 0 || offset + length > bytes.length) throw new Error(`${name}: bad read [${offset}, ${offset + length})`);
      return bytes.slice(offset, offset + length);
    },
  };
}

const floats = (b: Uint8Array): number[] => Array.from(new Float32Array(b.slice().buffer));

describe('tensor sources', () => {
  it('concatRows then sliceRows reads the same values as the parts, for any row range', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 3 }),
      fc.nat(), fc.nat(), (rowsPerPart, cols, a, b) => {
        let base = 0;
        const parts = rowsPerPart.map((r, i) => { const s = memorySource(`t${i}`, r, cols, base); base += r * cols; return s; });
        const all = concatRows(parts, 'fused');
        const total = rowsPerPart.reduce((x, y) => x + y, 0);
        expect(all.shape).toEqual([total, cols]);
        const start = a % total, count = b % (total - start + 1);
        const got = floats(sliceRows(all, start, count).read(0, count * cols * 4));
        expect(got).toEqual(Array.from({ length: count * cols }, (_, i) => start * cols + i));
      }));
  });

  it('refuses rows outside the tensor and stacks of different row shapes, naming the tensors', () => {
    const a = memorySource('a', 2, 3, 0), b = memorySource('b', 2, 4, 0);
    expect(() => sliceRows(a, 1, 2)).toThrow(/'a' in a\.bin: rows \[1, 3\) are outside its 2 rows/);
    expect(() => concatRows([a, b], 'ab')).toThrow(/'b' in b\.bin is F32 \[2,4\].*'a' in a\.bin is F32 \[2,3\]/);
    expect(() => sliceRows(a, 0, 1).read(8, 8)).toThrow(/outside its 12 bytes/);
  });
});

describe('safetensors opened lazily', () => {
  it('reads any byte range of any tensor as the whole-file reader decodes it, and refuses ranges outside it, on disk and in memory', async () => {
    const { readSafetensors } = await import('../../src/io/safetensors.js');
    const { writeSafetensors } = await import('../../src/io/safetensors-writer.js');
    const { openSafetensors, readSafetensorsFrom } = await import('../../src/io/safetensors-source.js');
    const { nodeFiles } = await import('../../src/io/node-files.js');
    const { memoryFiles } = await import('../../src/io/checkpoint-files.js');
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const a = Float32Array.from({ length: 12 }, (_, i) => i * 0.5);
    const b = Int32Array.from([7, -3, 11]);
    const bytes = writeSafetensors({ a: { dtype: 'F32', shape: [3, 4], data: a }, b: { dtype: 'I32', shape: [3], data: b } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'blt-src-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'x.safetensors');
    fs.writeFileSync(file, bytes);
    const inMemory = memoryFiles({ 'ckpt/x.safetensors': bytes, 'ckpt/cut.safetensors': bytes.subarray(0, bytes.length - 4) });
    for (const [files, where] of [[nodeFiles, file], [inMemory, 'ckpt/x.safetensors']] as const) {
      const src = openSafetensors(files, where);
      try {
        expect([...src.tensors.keys()].sort()).toEqual(['a', 'b']);
        const ta = src.tensors.get('a')!;
        expect(ta.shape).toEqual([3, 4]);
        expect(floats(sliceRows(ta, 1, 2).read(4, 8))).toEqual([2.5, 3]);
        expect(Array.from(new Int32Array(src.tensors.get('b')!.read(0, 12).slice().buffer))).toEqual(Array.from(readSafetensors(bytes).tensors.get('b')!.data));
        expect(() => ta.read(40, 16)).toThrow(/x\.safetensors: tensor 'a': read of bytes \[40, 56\) is outside its 48 bytes/);
        expect(Array.from(readSafetensorsFrom(files, where).tensors.get('a')!.data)).toEqual(Array.from(a));
      } finally {
        src.close();
      }
    }
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 4));
    expect(() => openSafetensors(nodeFiles, file)).toThrow(/^safetensors: .*x\.safetensors/);
    expect(() => openSafetensors(inMemory, 'ckpt/cut.safetensors')).toThrow(/^safetensors: ckpt\/cut\.safetensors/);
    expect(() => openSafetensors(inMemory, 'ckpt/none.safetensors')).toThrow(/^safetensors: ckpt\/none\.safetensors: no such file/);
  });
});

describe('memoryFiles', () => {
  it('lists folders implied by the paths, reads text and byte ranges, and names the path in every error', async () => {
    const { memoryFiles, joinPath } = await import('../../src/io/checkpoint-files.js');
    const enc = new TextEncoder();
    const files = memoryFiles(new Map([
      ['m/config.json', enc.encode('{"a": 1}')], ['m/model.safetensors', Uint8Array.of(1, 2, 3, 4)],
      ['m/entropy_model/params.json', enc.encode('{}')], ['other.txt', enc.encode('x')],
    ]));
    expect(files.list('m')).toEqual(['config.json', 'entropy_model', 'model.safetensors']);
    expect(files.list('.')).toEqual(['m', 'other.txt']);
    expect(files.list('m/entropy_model/')).toEqual(['params.json']);
    expect(files.exists('m/entropy_model') && files.exists('m/config.json') && !files.exists('m/nope')).toBe(true);
    expect(JSON.parse(files.readText(joinPath('m', 'config.json')))).toEqual({ a: 1 });
    const f = files.open('m/model.safetensors');
    expect(f.size).toBe(4);
    expect(Array.from(f.read(1, 2))).toEqual([2, 3]);
    expect(() => f.read(3, 2)).toThrow(/m\/model\.safetensors: cannot read bytes \[3, 5\) of a 4-byte file/);
    expect(() => files.list('m/config.json')).toThrow(/m\/config\.json: not a folder \(it is a file\)/);
    expect(() => files.readText('m')).toThrow(/^m: no such file \(it is a folder\)/);
    expect(joinPath('/abs/dir/', 'config.json')).toBe('/abs/dir/config.json');
    expect(joinPath('m/blt', '..', 'entropy_model')).toBe('m/entropy_model');
    expect(joinPath('..', 'x', './y')).toBe('../x/y');
  });
});
