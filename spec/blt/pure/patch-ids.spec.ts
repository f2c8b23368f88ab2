// Patch ids from lengths: the encoder's p(i) and the decoder's d(i) = p(i+1) - 1, worked examples and properties.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  batchPatchIds, decoderPatchIdsFromLengths, patchIdsFromLengths, patchStartsFromLengths,
} from "../../../src/blt/patching/patch-ids.js";
import { APPB_DECODER_IDS, APPB_ENTROPIES, APPB_LENGTHS_NEXT, APPB_PATCH_IDS, APPB_THRESHOLD, modelPatchLengths } from "./fixtures.js";

describe("worked examples", () => {
  it("worked example: N = 6, lengths [1,1,2,3] (Meta) and [1,1,2,2] (HF)", () => {
    for (const L of [[1, 1, 2, 3], [1, 1, 2, 2]]) {
      expect(Array.from(patchStartsFromLengths(L))).toEqual([0, 1, 2, 4]);
      expect(Array.from(patchIdsFromLengths(L, 6))).toEqual([0, 1, 2, 2, 3, 3]);
      expect(Array.from(decoderPatchIdsFromLengths(L, 6))).toEqual([0, 1, 1, 2, 2, 2]);
    }
  });

  it("Meta's example sentence: encoder and decoder ids for both length conventions", () => {
    const N = APPB_ENTROPIES.length;
    expect(APPB_PATCH_IDS.length).toBe(N);
    expect(APPB_DECODER_IDS.length).toBe(N);
    for (const convention of ["N+1", "N", "N-offline"] as const) {
      const L = convention === "N+1" ? APPB_LENGTHS_NEXT : modelPatchLengths("hf", { threshold: APPB_THRESHOLD }, APPB_ENTROPIES, undefined, { convention });
      expect(Array.from(patchIdsFromLengths(L, N))).toEqual(APPB_PATCH_IDS);
      expect(Array.from(decoderPatchIdsFromLengths(L, N))).toEqual(APPB_DECODER_IDS);
    }
  });

  it("P = 1 (lengths [1], bos_only with stride): decoder id 0 as in HF", () => {
    expect(Array.from(patchIdsFromLengths([1], 1))).toEqual([0]);
    expect(Array.from(decoderPatchIdsFromLengths([1], 1))).toEqual([0]);
    expect(Array.from(patchIdsFromLengths([], 3))).toEqual([0, 0, 0]);
  });

  it("zero-length patches own no position (HF trailing 0, zero in the middle)", () => {
    expect(Array.from(patchIdsFromLengths([1, 0, 2], 3))).toEqual([0, 2, 2]);
    expect(Array.from(patchIdsFromLengths([1, 2, 0], 3))).toEqual([0, 1, 1]);
    expect(Array.from(decoderPatchIdsFromLengths([1, 2, 0], 3))).toEqual([0, 0, 1]);
  });

  it("rejects negative lengths and a first length ≠ 1 for the decoder", () => {
    expect(() => patchIdsFromLengths([1, -1], 2)).toThrow(/index 1/);
    expect(() => decoderPatchIdsFromLengths([2, 1], 3)).toThrow(/must be 1/);
  });
});

describe("properties", () => {
  const lengthsArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 15 }).map((rest) => [1, ...rest]);

  it("p, d non-decreasing; p steps by 0/1 at starts; p - 1 ≤ d ≤ p; d(i) = p(i+1) - 1; completeness", () => {
    fc.assert(
      fc.property(lengthsArb, fc.boolean(), (L, hfConvention) => {
        const total = L.reduce((a, b) => a + b, 0);
        // Meta convention ΣL = N+1; HF ΣL = N: drop one from the last patch (may become 0)
        const N = total - 1;
        if (N < 1) return;
        const lengths = hfConvention ? [...L.slice(0, -1), L[L.length - 1]! - 1] : L;
        const p = patchIdsFromLengths(lengths, N);
        const d = decoderPatchIdsFromLengths(lengths, N);
        const S = Array.from(patchStartsFromLengths(L));
        const pFull = patchIdsFromLengths(L, N + 1); // includes the next position N
        const P = L.length;
        expect(p[0]).toBe(0);
        if (N > 1) expect(p[1]).toBe(1);
        expect(d[0]).toBe(0);
        for (let i = 0; i < N; i++) {
          if (i > 0) {
            expect(p[i]! - p[i - 1]!).toBe(S.includes(i) ? 1 : 0);
            expect(d[i]!).toBeGreaterThanOrEqual(d[i - 1]!);
          }
          expect(d[i]).toBe(pFull[i + 1]! - 1);
          expect(d[i]! <= p[i]! && d[i]! >= p[i]! - 1).toBe(true);
          expect(d[i] === p[i]).toBe(S.includes(i + 1));
          expect(d[i]!).toBeLessThanOrEqual(P - 2);
          // completeness: patch d(i) ends at or before i, patch d(i)+1 reaches beyond i
          const end = S[d[i]!]! + L[d[i]!]! - 1;
          expect(end).toBeLessThanOrEqual(i);
          expect(S[d[i]! + 1]! + L[d[i]! + 1]! - 1).toBeGreaterThan(i);
        }
        // |{i : p(i) = j}| = L_j over positions 0..N
        const counts = new Array<number>(P).fill(0);
        for (const j of pFull) counts[j]!++;
        expect(counts).toEqual(L);
      }),
      { numRuns: 100 },
    );
  });

  /** HF's `_patch_ids_from_lengths` on one row, literally: id(i) = #{j : S_j ≤ i} - 1, S = [0, cumsum(L)[:-1]]. */
  const hfIds = (L: number[], N: number): number[] => {
    const S = L.map((_, j) => L.slice(0, j).reduce((a, b) => a + b, 0));
    return Array.from({ length: N }, (_, i) => (L.length === 0 ? 0 : S.filter((s) => s <= i).length - 1));
  };

  it("batch = per row, whatever the padding: rows with ΣL = N (a trailing 0) or N + 1, any number of padding patches", () => {
    // the case the old padded-block ids got wrong: HF lengths [1, 3, 0], N = 4, in a batch with a longer row
    const two = batchPatchIds([[1, 3, 0], [1, 1, 1, 1]], 4);
    expect(two.P).toBe(4);
    expect(Array.from(two.decoderIds.subarray(0, 4))).toEqual([0, 0, 0, 1]); // d(3) = 1, as for the row alone
    expect(Array.from(two.segments.subarray(0, 4))).toEqual([0, 1, 1, 1]);
    fc.assert(
      fc.property(lengthsArb, fc.boolean(), fc.integer({ min: 0, max: 4 }), (L, hfConvention, pad) => {
        const N = L.reduce((a, b) => a + b, 0) - 1; // Meta: ΣL = N + 1
        if (N < 1) return;
        const row = hfConvention ? [...L.slice(0, -1), L[L.length - 1]! - 1] : L; // HF: ΣL = N, maybe a trailing 0
        const other = Array.from({ length: row.length + pad }, (_, j) => (j === 0 ? 1 : 0));
        other[other.length - 1]! += N - 1; // a row of N tokens with `pad` more patches than `row`
        for (const rows of [[row], [row, other], [other, row]]) {
          const ids = batchPatchIds(rows, N);
          const P = Math.max(...rows.map((r) => r.length));
          expect(ids.P).toBe(P);
          rows.forEach((r, b) => {
            expect(Array.from(ids.lengths.subarray(b * P, (b + 1) * P))).toEqual([...r, ...new Array(P - r.length).fill(0)]);
            expect(Array.from(ids.segments.subarray(b * N, (b + 1) * N))).toEqual(hfIds(r, N).map((j) => b * P + j));
            expect(Array.from(ids.decoderIds.subarray(b * N, (b + 1) * N))).toEqual(hfIds(r.slice(1), N));
            expect(Array.from(ids.decoderIds.subarray(b * N, (b + 1) * N))).toEqual(Array.from(decoderPatchIdsFromLengths(r, N)));
          });
        }
      }),
      { numRuns: 100 },
    );
    expect(() => batchPatchIds([[1, -1]], 2)).toThrow(/index 1/);
  });
});
