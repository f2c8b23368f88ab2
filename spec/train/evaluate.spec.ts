// Held-out bits per byte (eq. 18) through heldOutBpb: exact on models whose answer is known.
import '../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import { describe, expect, it } from 'vitest';
import '../../src/train/device.js';
import * as ops from '../../src/ops/index.js';
import { heldOutBpb } from '../../src/train/evaluate.js';
import { corpusFromTexts, evalBatches } from '../../src/train/data.js';

const batches = evalBatches(corpusFromTexts(['hello world, hello bytes', 'ünïcödé']), 3, 8);

describe('heldOutBpb', () => {
  it('a uniform predictor over 260 ids scores log2(260) bits per byte', async () => {
    const r = await heldOutBpb(batches, 'cpu', (ids) => ops.zeros([ids.shape[0], ids.shape[1], 260]));
    expect(r.bytes).toBe(batches.reduce((n, b) => n + b.B * b.T, 0));
    // float32 log-softmax of equal logits: |error| ≤ a few ulp of ln 260 ≈ 5.56 per position
    expect(r.bpb).toBeCloseTo(Math.log2(260), 5);
  });
  it('a predictor that puts probability 1/2 on every target scores 1 bit per byte', async () => {
    // logits: target gets ln(259) higher than the other 259 ids -> p(target) = 259 / (259 + 259) = 1/2
    const r = await heldOutBpb(batches, 'cpu', (ids, _p, batch) => {
      const [B, T] = ids.shape;
      const l = new Float32Array(B * T * 260); // [B, T, 260]
      for (let i = 0; i < B * T; i++) l[i * 260 + batch.targets[i]] = Math.log(259);
      return ops.tensor(l, [B, T, 260]);
    });
    expect(r.bpb).toBeCloseTo(1, 5);
  });
  it('runs the async prepare step before every batch', async () => {
    let prepared = 0;
    await heldOutBpb(batches, 'cpu', (ids, n: number) => { expect(n).toBe(prepared); return ops.zeros([ids.shape[0], ids.shape[1], 260]); },
      async () => ++prepared);
    expect(prepared).toBe(batches.length);
  });
});
