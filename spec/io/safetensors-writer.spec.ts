// The streaming safetensors writer (src/io/safetensors-writer.ts) and the 16-bit conversions it uses
// (src/tensor/half.ts): same bytes as the in-memory writer, Python's layout for BF16/F16, round to nearest even,
// atomic on bad data, HF sharding.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  planSafetensors, shardTensors, writeSafetensors, writeSafetensorsFile, writeSafetensorsSharded, type TensorToWrite,
} from '../../src/io/safetensors-writer.js';
import { type RawTensor } from '../../src/io/safetensors.js';
import { readSafetensorsFile } from '../../src/io/safetensors-file.js';
import { openSafetensorsFile as openSafetensors } from '../../src/io/safetensors-file.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../src/tensor/half.js';

let dir = '';
const fresh = (): string => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-writer-')));
afterEach(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); dir = ''; });

const f32 = (x: number): number => Math.fround(x);
const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b >>> 0).buffer)[0];

/** Splits an array into chunks at the given cut points (any sizes, including empty chunks). */
function chunked<T extends { subarray(a: number, b: number): T; length: number }>(a: T, cuts: number[]): T[] {
  const at = [...new Set(cuts.map((c) => c % (a.length + 1)))].sort((x, y) => x - y);
  const out: T[] = [];
  let prev = 0;
  for (const c of [...at, a.length]) { out.push(a.subarray(prev, c)); prev = c; }
  return out;
}

describe('16-bit conversions', () => {
  it('float32 -> bfloat16 / float16 rounds to the nearest value, ties to even (any float32)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
      const x = fromBits(bits);
      for (const [enc, dec] of [[f32ToBf16, bf16ToF32], [f32ToF16, f16ToF32]] as const) {
        const h = enc(x);
        const y = dec(h);
        if (Number.isNaN(x)) { expect(Number.isNaN(y)).toBe(true); continue; }
        if (!Number.isFinite(y)) {
          // overflow: x is beyond the largest finite value plus half an ulp (both formats saturate to Infinity)
          expect(Math.sign(y)).toBe(Math.sign(x));
          continue;
        }
        // no representable neighbour of h is strictly closer to x; on a tie the mantissa is even
        for (const n of [h - 1, h + 1]) {
          if (n < 0 || n > 0xffff || ((n ^ h) & 0x8000) !== 0) continue;
          const z = dec(n);
          if (!Number.isFinite(z)) continue;
          expect(Math.abs(z - x)).toBeGreaterThanOrEqual(Math.abs(y - x));
          if (Math.abs(z - x) === Math.abs(y - x) && y !== z) expect(h & 1).toBe(0);
        }
      }
    }), { numRuns: 3000 });
  });

  it('known values: exact ones stay, halfway cases go to even, NaN stays NaN, overflow saturates', () => {
    expect(bf16ToF32(f32ToBf16(1.5))).toBe(1.5);
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // halfway between 1 and 1+2^-7: even is 1
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82); // halfway between 1+2^-7 and 1+2^-6: even is 1+2^-6
    expect(f32ToBf16(f32(1 + 2 ** -8 + 2 ** -20))).toBe(0x3f81); // above half: up
    expect(Number.isNaN(bf16ToF32(f32ToBf16(NaN)))).toBe(true);
    expect(bf16ToF32(f32ToBf16(fromBits(0x7f7fffff)))).toBe(Infinity); // float32 max rounds past bfloat16 max
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // halfway to 2^16: even is Infinity
    expect(f32ToF16(2 ** -24)).toBe(1); // smallest subnormal
    expect(f32ToF16(2 ** -25)).toBe(0); // halfway to 0: even is 0
    expect(f32ToF16(f32(3 * 2 ** -26))).toBe(1);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(Number.isNaN(f16ToF32(f32ToF16(NaN)))).toBe(true);
    expect(bitsOf(bf16ToF32(0x8000))).toBe(0x80000000); // -0
  });
});

const rawArb: fc.Arbitrary<[string, RawTensor]> = fc.tuple(
  fc.string({ minLength: 1, maxLength: 6 }).filter((s) => s !== '__metadata__'),
  fc.constantFrom<'F32' | 'F64' | 'I32'>('F32', 'F64', 'I32'),
  fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
).chain(([name, dtype, shape]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = dtype === 'I32' ? fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n })
    : fc.array(fc.double({ noNaN: true }), { minLength: n, maxLength: n });
  return values.map((v): [string, RawTensor] => [name, {
    dtype, shape, data: dtype === 'F32' ? Float32Array.from(v) : dtype === 'F64' ? Float64Array.from(v) : Int32Array.from(v),
  }]);
});

describe('writeSafetensorsFile (streaming)', () => {
  it('writes the same bytes as the in-memory writer, for any tensors split into any chunks', async () => {
    fresh();
    let k = 0;
    await fc.assert(fc.asyncProperty(fc.uniqueArray(rawArb, { selector: ([n]) => n, maxLength: 5 }),
      fc.array(fc.nat(), { maxLength: 4 }), async (entries, cuts) => {
        const file = path.join(dir, `t${k++}.safetensors`);
        const writes: TensorToWrite[] = entries.map(([name, t]) => ({
          name, dtype: t.dtype, shape: t.shape, chunks: async function* () { yield* chunked(t.data, cuts); },
        }));
        await writeSafetensorsFile(file, writes, { format: 'pt' });
        expect(Buffer.compare(fs.readFileSync(file), writeSafetensors(new Map(entries), { format: 'pt' }))).toBe(0);
      }), { numRuns: 40 });
  });

  it('lays out BF16 and F16 after F64, F32, I32 exactly as Python safetensors does, and reads back', async () => {
    fresh();
    const file = path.join(dir, 'mixed.safetensors');
    await writeSafetensorsFile(file, [
      { name: 'a', dtype: 'BF16', shape: [3], chunks: () => [Float32Array.of(1.5, NaN, 3)] },
      { name: 'b', dtype: 'F16', shape: [1], chunks: () => [[1]] },
      { name: 'c', dtype: 'I32', shape: [1], chunks: () => [Int32Array.of(2)] },
      { name: 'd', dtype: 'F32', shape: [1], chunks: () => [Float32Array.of(1)] },
      { name: 'e', dtype: 'F64', shape: [1], chunks: () => [Float64Array.of(1)] },
    ], { format: 'pt' });
    // header of torch.save-free `safetensors.torch.save({...}, metadata={'format': 'pt'})` for these tensors
    const python = '{"__metadata__":{"format":"pt"},"e":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"d":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"c":{"dtype":"I32","shape":[1],"data_offsets":[12,16]},' +
      '"a":{"dtype":"BF16","shape":[3],"data_offsets":[16,22]},"b":{"dtype":"F16","shape":[1],"data_offsets":[22,24]}}       ';
    const bytes = fs.readFileSync(file);
    expect(Number(bytes.readBigUInt64LE(0))).toBe(python.length);
    expect(bytes.subarray(8, 8 + python.length).toString('utf8')).toBe(python);
    const back = readSafetensorsFile(file).tensors;
    expect(back.get('a')!.storedDtype).toBe('BF16');
    expect(Array.from(back.get('a')!.data)).toEqual([1.5, NaN, 3]);
    expect(Array.from(back.get('b')!.data)).toEqual([1]);
    expect(Array.from(bytes.subarray(bytes.length - 8))).toEqual([0xc0, 0x3f, 0xc0, 0x7f, 0x40, 0x40, 0x00, 0x3c]);
  });

  it('takes 16-bit words and raw bytes as stored', async () => {
    fresh();
    const file = path.join(dir, 'raw.safetensors');
    await writeSafetensorsFile(file, [
      { name: 'w', dtype: 'BF16', shape: [2, 2], chunks: () => [Uint16Array.of(0x3f80, 0x4000), Uint16Array.of(0xbf80, 0)] },
      { name: 'r', dtype: 'F32', shape: [2], chunks: () => [new Uint8Array(Float32Array.of(0.25, -2).buffer)] },
    ]);
    const back = readSafetensorsFile(file).tensors;
    expect(Array.from(back.get('w')!.data)).toEqual([1, 2, -1, 0]);
    expect(Array.from(back.get('r')!.data)).toEqual([0.25, -2]);
  });

  it('leaves the old file in place and no temp file when the data is short, long or fails mid-way', async () => {
    fresh();
    const file = path.join(dir, 'keep.safetensors');
    fs.writeFileSync(file, 'old');
    const t = (chunks: () => Iterable<Float32Array> | AsyncIterable<Float32Array>): TensorToWrite[] => [{ name: 'x', dtype: 'F32', shape: [2, 2], chunks }];
    await expect(writeSafetensorsFile(file, t(() => [new Float32Array(3)]))).rejects.toThrow(/'x': data has 12 bytes but F32 shape \[2,2\] needs 16/);
    await expect(writeSafetensorsFile(file, t(() => [new Float32Array(3), new Float32Array(2)]))).rejects.toThrow(/'x': data is longer/);
    await expect(writeSafetensorsFile(file, t(async function* () { yield new Float32Array(2); throw new Error('disk source gone'); }))).rejects.toThrow(/disk source gone/);
    await expect(writeSafetensorsFile(file, [{ name: 'x', dtype: 'F32', shape: [1], chunks: () => [Uint16Array.of(1, 2)] }])).rejects.toThrow(/16-bit words given for a F32 tensor/);
    expect(fs.readFileSync(file, 'utf8')).toBe('old');
    expect(fs.readdirSync(dir)).toEqual(['keep.safetensors']);
  });

  it('plans offsets past 4 GB exactly (a BLT-1B hash table in BF16) without touching the data', () => {
    const plan = planSafetensors([
      { name: 'model.encoder_hash_tok_embedding.weight', dtype: 'BF16', shape: [3000012, 1024], chunks: () => { throw new Error('not read'); } },
      { name: 'z', dtype: 'BF16', shape: [3], chunks: () => { throw new Error('not read'); } },
    ]);
    expect(plan.order.map((o) => [o.begin, o.end])).toEqual([[0, 6144024576], [6144024576, 6144024582]]);
    expect(plan.fileBytes).toBe(plan.head.length + 6144024582);
  });
});

describe('writeSafetensorsSharded (Hugging Face layout)', () => {
  const t = (name: string, n: number, v: number): TensorToWrite => ({ name, dtype: 'F32', shape: [n], chunks: () => [new Float32Array(n).fill(v)] });

  it('splits like HF: a new shard when the next tensor would pass the limit, a big tensor alone', () => {
    const sizes = shardTensors([t('a', 10, 0), t('b', 10, 0), t('c', 30, 0), t('d', 5, 0), t('e', 5, 0)], 80)
      .map((s) => s.map((x) => x.name));
    expect(sizes).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
  });

  it('writes shards + index.json above the limit, one file below it, and removes the other layout', async () => {
    fresh();
    const tensors = [t('x.b', 10, 1), t('x.a', 10, 2), t('y', 30, 3)];
    const names = await writeSafetensorsSharded(dir, tensors, { maxShardBytes: 80, metadata: { format: 'pt' } });
    expect(names).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const index = JSON.parse(fs.readFileSync(path.join(dir, 'model.safetensors.index.json'), 'utf8')) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    expect(index.metadata.total_size).toBe(200);
    expect(Object.keys(index.weight_map)).toEqual(['x.a', 'x.b', 'y']);
    expect(index.weight_map.y).toBe('model-00002-of-00002.safetensors');
    const shard = openSafetensors(path.join(dir, index.weight_map['x.a']));
    expect(Array.from(new Float32Array(shard.tensors.get('x.a')!.read(0, 8).slice().buffer))).toEqual([2, 2]);
    shard.close();

    await writeSafetensorsSharded(dir, tensors, { maxShardBytes: 1000 });
    expect(fs.readdirSync(dir).sort()).toEqual(['model.safetensors']);
    await writeSafetensorsSharded(dir, tensors, { maxShardBytes: 80 });
    expect(fs.readdirSync(dir).sort()).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
  });
});
