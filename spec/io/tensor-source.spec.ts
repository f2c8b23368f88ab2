// Lazy tensor sources: row slices and stacks read exactly the bytes of the rows they stand for.
import { describe, expect, it } from 'vitest';
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
