// Data pipeline: loading (file, folder, glob, raw bytes), held-out split, batches with shifted targets,
// seeded and resumable order, and the patch lengths training asks the model for.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import {
  BatchStream, corpusFromTexts, evalBatches, globToRegExp, loadCorpus, splitHeldOut,
} from '../../src/train/data.js';
import '../../src/index.js';
import { Blt } from '../../src/blt/blt.js';
import { microConfig, TEXTS } from './fixtures.js';

let dir = '';
beforeAll(() => {
  dir = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-data-'));
  fs.mkdirSync(nodePath.join(dir, 'a/b'), { recursive: true });
  fs.writeFileSync(nodePath.join(dir, 'one.txt'), 'hello world');
  fs.writeFileSync(nodePath.join(dir, 'a/two.md'), 'zwei');
  fs.writeFileSync(nodePath.join(dir, 'a/b/three.txt'), Uint8Array.from([0xff, 0xfe, 0x00, 0x41])); // not UTF-8
  fs.writeFileSync(nodePath.join(dir, 'a/empty.txt'), '');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadCorpus', () => {
  it('reads a single file as raw bytes', () => {
    const c = loadCorpus(nodePath.join(dir, 'one.txt'));
    expect(c.docs.length).toBe(1);
    expect(new TextDecoder().decode(c.docs[0].bytes)).toBe('hello world');
  });
  it('walks a folder recursively, skipping empty files, keeping non-UTF-8 bytes', () => {
    const c = loadCorpus(dir);
    expect(c.docs.map((d) => nodePath.relative(dir, d.name)).sort()).toEqual(['a/b/three.txt', 'a/two.md', 'one.txt']);
    const raw = c.docs.find((d) => d.name.endsWith('three.txt'))!;
    expect(Array.from(raw.bytes)).toEqual([0xff, 0xfe, 0x00, 0x41]);
    expect(c.size).toBe(11 + 4 + 4);
  });
  it('expands globs with * and **', () => {
    expect(loadCorpus(nodePath.join(dir, '**/*.txt')).docs.length).toBe(2); // one.txt, three.txt (empty skipped)
    expect(loadCorpus(nodePath.join(dir, 'a/*.md')).docs.length).toBe(1);
    expect(globToRegExp('a/**/*.txt').test('a/x/y/z.txt')).toBe(true);
    expect(globToRegExp('a/*.txt').test('a/x/z.txt')).toBe(false);
  });
  it('names what is missing', () => {
    expect(() => loadCorpus(nodePath.join(dir, 'nope.txt'))).toThrow(/nope\.txt' does not exist/);
    expect(() => loadCorpus(nodePath.join(dir, '*.xyz'))).toThrow(/matches no file/);
    expect(() => loadCorpus(nodePath.join(dir, 'a/empty.txt'))).toThrow(/no bytes/);
  });
});

describe('splitHeldOut', () => {
  it('holds out the tail of every document at a character start, deterministically', () => {
    const c = corpusFromTexts(TEXTS);
    const s1 = splitHeldOut(c, 0.2), s2 = splitHeldOut(c, 0.2);
    expect(s1.heldOut.docs.length).toBe(TEXTS.length);
    expect(s1.train.size + s1.heldOut.size).toBe(c.size);
    s1.heldOut.docs.forEach((d, i) => {
      expect((d.bytes[0] & 0xc0) !== 0x80).toBe(true); // not a UTF-8 continuation byte
      expect(Array.from(d.bytes)).toEqual(Array.from(s2.heldOut.docs[i].bytes));
      expect(d.bytes.length / c.docs[i].bytes.length).toBeCloseTo(0.2, 1);
    });
  });
  it('rejects fractions outside (0, 1)', () => {
    expect(() => splitHeldOut(corpusFromTexts(TEXTS), 1)).toThrow(/fraction/);
  });
});

describe('BatchStream', () => {
  const corpus = corpusFromTexts(TEXTS);
  it('gives input = [BOS, bytes+4 ...] and targets shifted by one', () => {
    const b = new BatchStream(corpus, { batchSize: 3, seqLen: 20, seed: 1 }).next();
    expect(b.inputs.length).toBe(60);
    for (let r = 0; r < 3; r++) {
      expect(b.inputs[r * 20]).toBe(1);
      for (let t = 0; t + 1 < 20; t++) expect(b.targets[r * 20 + t]).toBe(b.inputs[r * 20 + t + 1]);
      for (let t = 0; t < 20; t++) expect(b.targets[r * 20 + t]).toBeGreaterThanOrEqual(4);
      expect((b.targets[r * 20] - 4) & 0xc0).not.toBe(0x80); // rows start at a character
    }
  });
  it('is seeded, and a saved position resumes the same stream (across epochs)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 40 }), (seed, k) => {
      const a = new BatchStream(corpus, { batchSize: 2, seqLen: 32, seed });
      for (let i = 0; i < k; i++) a.next();
      const resumed = new BatchStream(corpus, { batchSize: 2, seqLen: 32, seed }, a.position());
      for (let i = 0; i < 5; i++) expect(Array.from(resumed.next().inputs)).toEqual(Array.from(a.next().inputs));
    }), { numRuns: 30 });
    const x = new BatchStream(corpus, { batchSize: 2, seqLen: 32, seed: 1 }).next();
    const y = new BatchStream(corpus, { batchSize: 2, seqLen: 32, seed: 2 }).next();
    expect(Array.from(x.inputs)).not.toEqual(Array.from(y.inputs));
  });
  it('rejects a sequence longer than every document', () => {
    expect(() => new BatchStream(corpus, { batchSize: 1, seqLen: 100000, seed: 0 })).toThrow(/no document has 100000 bytes/);
  });
});

describe('evalBatches', () => {
  it('covers the joined documents with consecutive windows', () => {
    const c = corpusFromTexts(['abcdefgh', 'ijkl']);
    const bs = evalBatches(c, 2, 4);
    // stream "abcdefgh\nijkl\n" (14 bytes) -> 3 windows of 4
    expect(bs.map((b) => b.B)).toEqual([2, 1]);
    expect(String.fromCharCode(...Array.from(bs[1].targets, (v) => v - 4))).toBe('\nijk');
  });
});

describe('training patch lengths (the model\'s rule with the offline convention, as batchPatchLengths asks)', () => {
  it('first patch [BOS] has length 1, lengths ≥ 1 sum to T, starts where H > θ', () => {
    const model = new Blt(microConfig());
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 40 }), fc.double({ min: 0, max: 3, noNaN: true }), fc.integer(),
      (B, T, theta, seed) => {
        let s = seed >>> 0;
        const ent = Float32Array.from({ length: B * T }, () => { s = (s * 1664525 + 1013904223) >>> 0; return (s / 2 ** 32) * 3; });
        const ids = Array.from({ length: B }, () => Array.from({ length: T }, (_, t) => (t === 0 ? 1 : 101)));
        const rows = model.patchLengthsOf(ids, ent, { threshold: theta, convention: 'N-offline' });
        rows.forEach((r, b) => {
          expect(r[0]).toBe(1);
          expect(r.reduce((a, x) => a + x, 0)).toBe(T);
          expect(Array.from(r).every((x) => x >= 1)).toBe(true);
          // number of patches = 2 forced starts (positions 0, 1) + candidates t in 2..T-1 with ent[t-1] > θ
          let expected = T >= 2 ? 2 : 1;
          for (let t = 2; t < T; t++) if (ent[b * T + t - 1] > theta) expected++;
          expect(r.length).toBe(expected);
        });
      }), { numRuns: 60 });
  });
});
