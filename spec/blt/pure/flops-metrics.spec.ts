// FLOPs per byte (paper §4.5, eq. 13) and bits-per-byte (eq. 18).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseBltConfig } from "../../../src/blt/config/parse.js";
import {
  attentionFlops, bltFlopsPerByte, crossAttentionFlops, deEmbeddingFlops, feedForwardFlops, qkvoFlops, transformerFlops,
} from "../../../src/blt/flops.js";
import { averagePatchLength, bitsPerByte, bitsPerByteFromLogits, crossEntropySum } from "../../../src/blt/metrics.js";

const blt1b = parseBltConfig({ model_type: "blt" }, { useHfDefaults: true }); // HF defaults = BLT-1B

describe("FLOPs primitives (Table 11 reconstruction)", () => {
  it("self-attention projections 8lh², FFN 16lh², de-embedding 2hV, causal attention 2lh(m+1)", () => {
    expect(qkvoFlops(3, 10, 1)).toBe(8 * 3 * 100);
    expect(feedForwardFlops(3, 10)).toBe(16 * 3 * 100);
    expect(deEmbeddingFlops(10, 256)).toBe(5120);
    expect(attentionFlops(2, 8, 4, 9)).toBe(2 * 2 * 32 * 10);
    expect(crossAttentionFlops(1, 8, 4, 3, 0.5)).toBe(attentionFlops(1, 8, 4, 3) + qkvoFlops(1, 32, 0.5));
    // non-attention part = 2 FLOPs × the 12lh² parameters of a 4h-MLP block
    expect(transformerFlops(64, 5, 0, 0, 4) - attentionFlops(5, 16, 4, 0)).toBe(2 * 12 * 5 * 64 * 64);
  });
});

describe("BLT FLOPs per byte (eq. 13)", () => {
  it("global term ∝ 1/n_p at fixed global context; local terms independent of n_p", () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 16, noNaN: true }), fc.double({ min: 1.1, max: 4, noNaN: true }), (np, factor) => {
        const a = bltFlopsPerByte(blt1b, { patchSize: np, globalContext: 1024 });
        const b = bltFlopsPerByte(blt1b, { patchSize: np * factor, globalContext: 1024 });
        expect(b.global / a.global).toBeCloseTo(1 / factor, 12);
        expect(b.encoder).toBe(a.encoder);
        expect(b.decoder).toBe(a.decoder);
        expect(a.total).toBeCloseTo(a.global + a.encoder + a.decoder + a.encoderCross + a.decoderCross, 3);
      }),
      { numRuns: 30 },
    );
  });

  it("n_p = 8 vs 4.4 saves 45 % of the global FLOPs", () => {
    const a = bltFlopsPerByte(blt1b, { patchSize: 4.4, globalContext: 2048 });
    const b = bltFlopsPerByte(blt1b, { patchSize: 8, globalContext: 2048 });
    expect(b.global / a.global).toBeCloseTo(0.55, 12);
  });

  it("BLT-1B at n_p = 4.5: the global model dominates and the hand-computed global term matches", () => {
    const f = bltFlopsPerByte(blt1b, { patchSize: 4.5, contextBytes: 8192 });
    const m = 8192 / 4.5;
    const hand = (24 * 25 * 2048 * 2048 + 2 * 25 * 2048 * (m + 1)) / 4.5;
    expect(f.global).toBeCloseTo(hand, 0);
    expect(f.global).toBeGreaterThan(f.encoder + f.decoder);
    expect(() => bltFlopsPerByte(blt1b, { patchSize: 0 })).toThrow(/patchSize/);
  });
});

describe("bits per byte (eq. 18)", () => {
  it("uniform predictor over 260 classes gives log2 260", () => {
    const T = 7;
    const logits = new Float32Array(T * 260).fill(0.25);
    const targets = [5, 9, 100, 259, 2, 4, 77];
    // float64 log-sum-exp of 260 equal terms: error ≈ 1e-15 per row
    expect(bitsPerByteFromLogits(logits, T, 260, targets)).toBeCloseTo(Math.log2(260), 12);
    expect(Math.log2(260)).toBeCloseTo(8.0223678, 6);
  });

  it("near-perfect predictor gives ≈ 0; skipped targets and masks are not counted", () => {
    const logits = new Float64Array(2 * 4).fill(-100);
    logits[1] = 100;
    logits[4 + 3] = 100;
    expect(bitsPerByteFromLogits(logits, 2, 4, [1, 3])).toBeLessThan(1e-80);
    const { count } = crossEntropySum(logits, 2, 4, [-1, 3]);
    expect(count).toBe(1);
    expect(crossEntropySum(logits, 2, 4, [1, 3], [1, 0]).count).toBe(1);
    expect(() => crossEntropySum(logits, 2, 4, [1, 4])).toThrow(/target 4/);
    expect(() => bitsPerByte(1, 0)).toThrow(/nBytes/);
  });

  it("CE matches the naive formula and BPB is additive when weighted by byte counts", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 24, maxLength: 24 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 6, maxLength: 6 }),
        (vals, targets) => {
          const logits = Float64Array.from(vals); // [6, 4]
          let naive = 0;
          for (let t = 0; t < 6; t++) {
            const row = vals.slice(t * 4, t * 4 + 4);
            naive -= Math.log(Math.exp(row[targets[t]!]!) / row.reduce((a, x) => a + Math.exp(x), 0));
          }
          const { sumNats } = crossEntropySum(logits, 6, 4, targets);
          expect(sumNats).toBeCloseTo(naive, 9);
          const all = bitsPerByteFromLogits(logits, 6, 4, targets);
          const a = bitsPerByteFromLogits(logits.subarray(0, 8), 2, 4, targets.slice(0, 2));
          const b = bitsPerByteFromLogits(logits.subarray(8), 4, 4, targets.slice(2));
          expect(all).toBeCloseTo((2 * a + 4 * b) / 6, 12);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("average patch length ignores zero-length patches", () => {
    expect(averagePatchLength([1, 3, 4, 0])).toBe(8 / 3);
    expect(() => averagePatchLength([0])).toThrow(/no non-empty/);
  });
});
