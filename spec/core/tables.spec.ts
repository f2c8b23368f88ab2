/**
 * Embedding tables too large for one tensor: row blocks (BlockedTable) and tables left on disk (DiskTable).
 * Small tables with forced small block limits exercise the same code paths as BLT-1B's 6 GB hash table.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ops, Rng, Module, BlockedTable, DiskTable, rowBlockLayout, noGrad, Tensor } from '../../src/index.js';
import { writeSafetensorsFile } from '../../src/io/safetensors-writer.js';
import { openSafetensorsFile as openSafetensors } from '../../src/io/safetensors-file.js';

const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.prototype.every.call(a, (v: number, i: number) => Object.is(v, b[i]));

class Holder extends Module {
  constructor(public weight: BlockedTable | DiskTable) { super(); }
}

describe('rowBlockLayout', () => {
  it('covers every row once, in order, splitting at table boundaries and under the byte limit', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 200 }),
      (rows, rowBytes, tableRows, maxRows) => {
        const maxBytes = maxRows * rowBytes;
        const layout = rowBlockLayout(rows, rowBytes, maxBytes, tableRows);
        let next = 0;
        for (const [s, n] of layout) {
          expect(s).toBe(next);
          expect(n * rowBytes).toBeLessThanOrEqual(maxBytes);
          if (layout.length > 1) expect(Math.floor(s / tableRows)).toBe(Math.floor((s + n - 1) / tableRows)); // never across tables
          next = s + n;
        }
        expect(next).toBe(rows);
        if (rows * rowBytes <= maxBytes) expect(layout).toEqual([[0, rows]]);
      }));
    // BLT-1B's fused hash table in bfloat16 under the CPU limit: one block per hash table
    expect(rowBlockLayout(3000012, 2048, 2 ** 31, 500002)).toEqual([0, 1, 2, 3, 4, 5].map((m) => [m * 500002, 500002]));
  });
});

describe('BlockedTable', () => {
  it('draws the same values as one tensor from the same seed, and looks up the same rows (any ids, any blocks)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 12 }),
      fc.array(fc.nat(), { minLength: 1, maxLength: 12 }), fc.nat(),
      (tables, V, dim, blockRows, picks, seed) => {
        const rows = tables * V;
        const blocked = BlockedTable.init(rows, dim, new Rng(seed), 0.5, V, blockRows * dim * 4);
        const whole = ops.truncNormal([rows, dim], new Rng(seed), 0.5);
        expect(blocked.rows).toBe(rows);
        const flat = new Float32Array(rows * dim);
        blocked.blocks.forEach((b, i) => flat.set(b.dataSync(), blocked.starts[i] * dim));
        expect(same(flat, whole.dataSync())).toBe(true);
        const ids = Int32Array.from(picks, (p) => p % rows);
        const got = noGrad(() => blocked.lookup(ids, [1, ids.length]));
        expect(got.shape).toEqual([1, ids.length, dim]);
        expect(same(got.dataSync(), ops.embedding(whole, ops.tensor(ids, [1, ids.length])).dataSync())).toBe(true);
      }), { numRuns: 80 });
  });

  it('sends every block the gradient the whole table would get', () => {
    const rng = new Rng(4);
    const blocked = BlockedTable.init(12, 3, new Rng(1), 1, 4, 2 * 3 * 4); // blocks of 2 rows
    const whole = ops.truncNormal([12, 3], new Rng(1), 1, 3, { requiresGrad: true });
    const ids = Int32Array.from([0, 5, 5, 11, 3, 2, 8]);
    const g = ops.randn([ids.length, 3], rng);
    ops.backward(ops.sum(ops.mul(blocked.lookup(ids, [ids.length]), g)));
    ops.backward(ops.sum(ops.mul(ops.embedding(whole, ops.tensor(ids, [ids.length])), g)));
    const flat = new Float32Array(36);
    blocked.blocks.forEach((b, i) => flat.set(b.grad!.dataSync(), blocked.starts[i] * 3));
    expect(same(flat, whole.grad!.dataSync())).toBe(true);
  });

  it('is one checkpoint key, and one parameter per block named by its rows', () => {
    const m = new Holder(BlockedTable.init(6, 2, new Rng(0), 1, 3, 2 * 2 * 4));
    expect(m.stateEntries().map(([k]) => k)).toEqual(['weight']);
    expect(m.namedParameters().map(([k, t]) => [k, t.shape])).toEqual([['weight[0:2]', [2, 2]], ['weight[2:3]', [1, 2]], ['weight[3:5]', [2, 2]], ['weight[5:6]', [1, 2]]]);
    expect(m.numel()).toBe(12);
    const single = new Holder(BlockedTable.init(6, 2, new Rng(0), 1));
    expect(single.namedParameters().map(([k]) => k)).toEqual(['weight']);
    // loadStateDict fills the blocks from the fused values
    const values = Float32Array.from({ length: 12 }, (_, i) => i);
    m.loadStateDict(new Map([['weight', { shape: [6, 2], data: values }]]));
    expect(Array.from(noGrad(() => m.weight.lookup(Int32Array.of(5, 0, 3), [3])).dataSync())).toEqual([10, 11, 0, 1, 6, 7]);
    expect(() => m.loadStateDict(new Map([['weight', { shape: [5, 2], data: values }]]))).toThrow(/key 'weight': checkpoint shape \[5, 2\] != model shape \[6, 2\]/);
  });
});

describe('DiskTable', () => {
  it('reads exactly the rows asked for from the file (F32 and BF16), refusing gradients and training', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'disk-table-'));
    try {
      const file = path.join(dir, 't.safetensors');
      const values = Float32Array.from({ length: 10 * 4 }, (_, i) => (i % 7) - 3 + 0.5);
      await writeSafetensorsFile(file, [
        { name: 'f', dtype: 'F32', shape: [10, 4], chunks: () => [values] },
        { name: 'b', dtype: 'BF16', shape: [10, 4], chunks: () => [values] }, // exactly representable
      ]);
      const src = openSafetensors(file);
      const reads: [number, number][] = [];
      const f = src.tensors.get('f')!;
      const counting = { ...f, read: (o: number, n: number) => { reads.push([o, n]); return f.read(o, n); } };
      const table = new DiskTable(counting, 'cpu', 'model.encoder_hash_tok_embedding.weight');
      const ids = Int32Array.of(7, 2, 3, 7, 9);
      const want = ops.embedding(ops.tensor(values, [10, 4]), ops.tensor(ids, [5])).dataSync();
      expect(same(noGrad(() => table.lookup(ids, [5])).dataSync(), want)).toBe(true);
      expect(reads).toEqual([[2 * 16, 2 * 16], [7 * 16, 16], [9 * 16, 16]]); // rows 2-3 in one read, then 7, then 9
      expect(same(noGrad(() => new DiskTable(src.tensors.get('b')!).lookup(ids, [5])).dataSync(), want)).toBe(true);
      const recorded = table.lookup(ids, [5]); // with gradient recording on: constant rows, nothing recorded
      expect(same(recorded.dataSync(), want)).toBe(true);
      expect(recorded.requiresGrad).toBe(false);
      const m = new Holder(table);
      expect(m.namedTensors()).toEqual([]);
      expect(m.stateEntries().map(([k]) => k)).toEqual(['weight']);
      expect(() => m.requiresGrad(true)).toThrow(/'weight' is read from disk on demand and cannot be trained/);
      expect(() => noGrad(() => table.lookup(Int32Array.of(10), [1]))).toThrow(/row id 10 is outside \[0, 10\)/);
      src.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

void Tensor;
