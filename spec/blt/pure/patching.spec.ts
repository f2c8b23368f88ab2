// Patching rules on plain arrays: entropy, global / monotonic / combined /
// top-k / stride / byte / space rules, max patch length, length conventions, threshold selection.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { entropyFromLogits } from "../../../src/blt/patching/entropy.js";
import { lengthsFromStarts, type LengthConvention } from "../../../src/blt/patching/conventions.js";
import { byteStarts, combinedStarts, globalThresholdStarts, isSpaceLike, monotonicStarts, spaceStarts, strideStarts, topKStarts } from "../../../src/blt/patching/rules.js";
import { averagePatchSize, thresholdForPatchSize } from "../../../src/blt/patching/threshold.js";
import type { PatchingConfig } from "../../../src/blt/config/types.js";
import { encode } from "../../../src/blt/tokenizer.js";
import { APPB_ENTROPIES, APPB_LENGTHS_NEXT, APPB_STARTS, APPB_THRESHOLD, modelPatchLengths } from "./fixtures.js";

const LN260 = Math.log(260);
const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((x, y) => x + y, 0);
const entArb = fc.array(fc.double({ min: 0, max: 5.5, noNaN: true }), { minLength: 1, maxLength: 40 });

/** Entropy patch lengths with threshold θ on the model's path (HF preset), in a given length convention. */
const entropyLengths = (ent: ArrayLike<number>, threshold: number, convention: LengthConvention): number[] =>
  modelPatchLengths("hf", { threshold }, ent, undefined, { convention });

/**
 * HF's `process_patch_lengths` applied after the fact, the oracle for the model's max-length splitting:
 * drop zero-length patches, then replace each L > m by ⌊L/m⌋ copies of m plus the remainder if non-zero.
 */
function splitLongPatches(lengths: ArrayLike<number>, m: number): number[] {
  const out: number[] = [];
  for (const L of Array.from(lengths)) {
    for (let q = 0; q < Math.floor(L / m); q++) out.push(m);
    if (L % m !== 0) out.push(L % m);
  }
  return out;
}

describe("entropyFromLogits (eq. 1)", () => {
  it("equal logits give exactly ln 260 (rounded to float32), one-hot gives 0", () => {
    const T = 3;
    const logits = new Float32Array(T * 260);
    logits.fill(1.5, 0, 260);
    logits.fill(-7, 260, 520);
    logits.fill(-1e4, 520, 780);
    logits[520 + 17] = 1e4; // one-hot: other probabilities underflow to exactly 0 in float64
    const h = entropyFromLogits(logits, T);
    expect(h[0]).toBe(Math.fround(LN260));
    expect(h[1]).toBe(Math.fround(LN260));
    expect(h[2]).toBe(0);
  });

  it("handles -Infinity logits (p log p → 0) and rejects NaN / bad shapes", () => {
    const l = new Float64Array([0, 0, -Infinity, -Infinity]);
    expect(entropyFromLogits(l, 1, 4)[0]).toBeCloseTo(Math.log(2), 6);
    expect(() => entropyFromLogits(new Float32Array([0, NaN]), 1, 2)).toThrow(/NaN logit at \[0, 1\]/);
    expect(() => entropyFromLogits(new Float32Array(5), 2, 3)).toThrow(/expected T·V/);
  });

  it("is in [0, ln 260], shift- and permutation-invariant, and matches the naive formula", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: 260, maxLength: 260 }), fc.double({ min: -50, max: 50, noNaN: true }), (row, c) => {
        const h = entropyFromLogits(Float64Array.from(row), 1)[0]!;
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThanOrEqual(Math.fround(LN260));
        // naive: p = e^ℓ / Σ e^ℓ (no overflow for |ℓ| ≤ 30), H = -Σ p ln p; float64 error ≪ 1e-9,
        // output is float32 (relative rounding 6e-8 · 5.6 ≈ 3.3e-7) ⇒ tolerance 1e-6
        const e = row.map(Math.exp);
        const s = sum(e);
        const naive = -e.reduce((acc, x) => acc + (x / s) * Math.log(x / s), 0);
        expect(Math.abs(h - naive)).toBeLessThan(1e-6);
        const shifted = entropyFromLogits(Float64Array.from(row.map((x) => x + c)), 1)[0]!;
        const permuted = entropyFromLogits(Float64Array.from(row.slice().reverse()), 1)[0]!;
        // same float64 value up to summation-order rounding (≈1e-14), then float32 ⇒ ≤ 1 ulp (4.8e-7 at 5.5)
        expect(Math.abs(shifted - h)).toBeLessThanOrEqual(5e-7);
        expect(Math.abs(permuted - h)).toBeLessThanOrEqual(5e-7);
      }),
      { numRuns: 50 },
    );
  });
});

describe("global threshold rule", () => {
  it("reproduces the starts and lengths of Meta's example sentence in all three conventions", () => {
    expect(globalThresholdStarts(APPB_ENTROPIES, APPB_THRESHOLD, "N+1")).toEqual(APPB_STARTS);
    expect(entropyLengths(APPB_ENTROPIES, APPB_THRESHOLD, "N+1")).toEqual(APPB_LENGTHS_NEXT);
    expect(modelPatchLengths("reference", { threshold: APPB_THRESHOLD }, APPB_ENTROPIES)).toEqual(APPB_LENGTHS_NEXT);
    const training = APPB_LENGTHS_NEXT.slice();
    training[training.length - 1] = 19;
    expect(entropyLengths(APPB_ENTROPIES, APPB_THRESHOLD, "N")).toEqual(training);
    expect(modelPatchLengths("hf", { threshold: APPB_THRESHOLD }, APPB_ENTROPIES)).toEqual(training);
    expect(entropyLengths(APPB_ENTROPIES, APPB_THRESHOLD, "N-offline")).toEqual(training);
  });

  it("edge cases: ent[58] exceeds θ by 0.0016 (start 59), ent[18] does not (no start 19)", () => {
    const starts = new Set(globalThresholdStarts(APPB_ENTROPIES, APPB_THRESHOLD));
    expect(starts.has(59)).toBe(true);
    expect(starts.has(19)).toBe(false);
    // strict >: θ equal to ent[58] removes the start
    expect(globalThresholdStarts(APPB_ENTROPIES, APPB_ENTROPIES[58]!).includes(59)).toBe(false);
  });

  it("HF convention: trailing zero-length patch when the next position starts, [1, 0] for N = 1", () => {
    expect(entropyLengths([0.1, 0.2, 9], 1, "N")).toEqual([1, 2, 0]);
    expect(entropyLengths([0.1, 0.2, 9], 1, "N+1")).toEqual([1, 2, 1]);
    expect(entropyLengths([0.1, 0.2, 9], 1, "N-offline")).toEqual([1, 2]);
    expect(entropyLengths([5], 1, "N")).toEqual([1, 0]);
    expect(entropyLengths([5], 1, "N+1")).toEqual([1, 1]);
    expect(entropyLengths([5], 1, "N-offline")).toEqual([1]);
  });

  it("forced starts, count, coverage and positivity", () => {
    fc.assert(
      fc.property(entArb, fc.double({ min: 0, max: 5.5, noNaN: true }), (ent, th) => {
        const N = ent.length;
        const next = entropyLengths(ent, th, "N+1");
        expect(next[0]).toBe(1);
        expect(sum(next)).toBe(N + 1);
        expect(Array.from(next).every((L) => L >= 1)).toBe(true);
        expect(next.length).toBe(2 + ent.slice(1).filter((e) => e > th).length);
        const hf = entropyLengths(ent, th, "N");
        expect(sum(hf)).toBe(N);
        // HF = [C] with the last length decreased by 1
        expect(Array.from(hf)).toEqual([...Array.from(next).slice(0, -1), next[next.length - 1]! - 1]);
        const off = entropyLengths(ent, th, "N-offline");
        expect(sum(off)).toBe(N);
        expect(Array.from(off).every((L) => L >= 1)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("start rule, threshold monotonicity, extremes and affine shift", () => {
    fc.assert(
      fc.property(entArb, fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: 0, max: 3, noNaN: true }), (ent, a, b) => {
        const N = ent.length;
        const s = globalThresholdStarts(ent, a);
        for (let t = 2; t <= N; t++) expect(s.includes(t)).toBe(ent[t - 1]! > a);
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const sHi = globalThresholdStarts(ent, hi);
        const sLo = new Set(globalThresholdStarts(ent, lo));
        expect(sHi.every((t) => sLo.has(t))).toBe(true);
        expect(globalThresholdStarts(ent, -1).length).toBe(N + 1);
        expect(entropyLengths(ent, Math.max(...ent), "N+1")).toEqual(N >= 1 ? [1, N] : []);
        // ent + c with θ + c gives the same starts; values on a 1/64 grid keep the sums exact
        const q = ent.map((e) => Math.round(e * 64) / 64);
        const qa = Math.round(a * 64) / 64;
        expect(globalThresholdStarts(q.map((e) => e + 0.5), qa + 0.5)).toEqual(globalThresholdStarts(q, qa));
      }),
      { numRuns: 60 },
    );
  });
});

/** f(prefix) == f(full) restricted to positions ≤ n, for every prefix n. */
function isIncremental(rule: (n: number) => number[], N: number): boolean {
  const full = rule(N);
  for (let n = 1; n <= N; n++) {
    const prefix = rule(n);
    const restricted = full.filter((t) => t <= n);
    if (JSON.stringify(prefix) !== JSON.stringify(restricted)) return false;
  }
  return true;
}

describe("incrementality", () => {
  it("holds for global, monotonic, combined, space, stride, byte and max-length splitting", () => {
    fc.assert(
      fc.property(entArb, fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), (ent, th, add) => {
        const N = ent.length;
        const toks = ent.map((e) => 4 + Math.floor(e * 46)); // ids covering letters, digits, spaces, punctuation
        toks[0] = 1;
        expect(isIncremental((n) => globalThresholdStarts(ent.slice(0, n), th), N)).toBe(true);
        expect(isIncremental((n) => monotonicStarts(ent.slice(0, n), add), N)).toBe(true);
        expect(isIncremental((n) => combinedStarts(ent.slice(0, n), th, add), N)).toBe(true);
        expect(isIncremental((n) => spaceStarts(toks.slice(0, n)), N)).toBe(true);
        expect(isIncremental((n) => strideStarts(n, 3), N)).toBe(true);
        expect(isIncremental((n) => byteStarts(n), N)).toBe(true);
        const split = (n: number): number[] => {
          const L = modelPatchLengths("reference", { threshold: th, maxPatchLength: 3 }, ent.slice(0, n));
          const st = [0];
          for (let j = 0; j + 1 < L.length; j++) st.push(st[j]! + L[j]!);
          return st;
        };
        expect(isIncremental(split, N)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("does NOT hold for top-k (counterexample)", () => {
    // prefix N = 6, patch size 2: k = 3 - 2 = 1 ⇒ the largest of ent[1..5] (index 1) ⇒ start 2.
    // full N = 7: k = 1 again, but the new ent[6] = 9 is larger ⇒ start 7 and start 2 disappears.
    const ent = [0, 5, 1, 1, 1, 1, 9];
    expect(topKStarts(ent.slice(0, 6), 2)).toEqual([0, 1, 2]);
    expect(topKStarts(ent, 2)).toEqual([0, 1, 7]);
    expect(isIncremental((n) => topKStarts(ent.slice(0, n), 2), 7)).toBe(false);
  });

  it("top-k picks floor(N/ps) - 2 starts from ent[1..N-1], ties towards earlier positions", () => {
    // N = 8, ps = 2 ⇒ k = 2; value 3 at entropy indices 1, 3, 4 ⇒ the earliest two (1, 3) ⇒ starts 2, 4
    expect(topKStarts([9, 3, 1, 3, 3, 0, 0, 0], 2)).toEqual([0, 1, 2, 4]);
    expect(topKStarts([1, 2], 4)).toEqual([0, 1]); // k clamped to 0
  });
});

describe("monotonic and combined rules", () => {
  it("monotonic: 0, 1, 2 start; t ≥ 3 iff ent[t-1] - ent[t-2] > θ_r; shift-invariant", () => {
    fc.assert(
      fc.property(entArb, fc.double({ min: -1, max: 1, noNaN: true }), (ent, th) => {
        const N = ent.length;
        const s = monotonicStarts(ent, th);
        for (let t = 0; t <= N; t++) {
          const want = t <= 2 ? true : ent[t - 1]! - ent[t - 2]! > th;
          expect(s.includes(t)).toBe(want);
        }
        // adding c to all entropies changes nothing (1/64 grid keeps differences exact)
        const q = ent.map((e) => Math.round(e * 64) / 64);
        expect(monotonicStarts(q.map((e) => e + 0.25), th)).toEqual(monotonicStarts(q, th));
      }),
      { numRuns: 60 },
    );
    // hand example: diffs 0.5, -1, 2 ⇒ starts 0,1,2 then 4 (diff ent[3]-ent[2] = 2 > 0.9)
    expect(monotonicStarts([0, 1, 0, 2.5], 0.9)).toEqual([0, 1, 2, 4]);
  });

  it("combined: 3 never starts, t ≥ 4 needs both the rise and the global threshold", () => {
    fc.assert(
      fc.property(entArb, fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), (ent, th, add) => {
        const N = ent.length;
        const s = combinedStarts(ent, th, add);
        for (let t = 0; t <= N; t++) {
          const want = t <= 2 ? true : t === 3 ? false : ent[t - 1]! - ent[t - 2]! > add && ent[t - 1]! > th;
          expect(s.includes(t)).toBe(want);
        }
      }),
      { numRuns: 60 },
    );
    expect(combinedStarts([0, 0, 5, 5, 5], 1, -10)).toEqual([0, 1, 2, 4, 5]);
    // the model's rule selection (reference preset): monotonicity wins over thresholdAdd (as in Meta's code)
    expect(modelPatchLengths("reference", { threshold: 0.9, monotonicity: true, thresholdAdd: 5 }, [0, 1, 0, 2.5])).toEqual([1, 1, 2, 1]);
    expect(modelPatchLengths("reference", { threshold: 1, thresholdAdd: -10 }, [0, 0, 5, 5, 5])).toEqual([1, 1, 2, 1, 1]);
  });
});

describe("static, byte, space rules", () => {
  it("stride with a BOS patch: [1, k, k, ..., rest]; plain stride: P = ceil((N+1)/k)", () => {
    expect(Array.from(lengthsFromStarts(strideStarts(17, 4, "N-offline"), 17, "N-offline"))).toEqual([1, 4, 4, 4, 4]);
    expect(Array.from(lengthsFromStarts(strideStarts(10, 4, "N+1", "none"), 10, "N+1"))).toEqual([4, 4, 3]);
    for (let N = 1; N < 30; N++) expect(strideStarts(N, 4, "N+1", "none").length).toBe(Math.ceil((N + 1) / 4));
  });

  it("byte: N+1 ones in next-token mode (= HF's byte fallback)", () => {
    expect(Array.from(lengthsFromStarts(byteStarts(5), 5, "N+1"))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it("space-like classes", () => {
    const like = (ch: string): boolean => isSpaceLike(ch.charCodeAt(0) + 4);
    expect(["a", "Z", "0", "9", "m"].some(like)).toBe(false);
    expect([" ", ",", "@", "[", "`", "{", "\x7f", "\n"].every(like)).toBe(true);
    expect(isSpaceLike(0x80 + 4)).toBe(false); // continuation byte
    expect(isSpaceLike(0xbf + 4)).toBe(false);
    expect(isSpaceLike(0xc3 + 4)).toBe(true); // lead byte
    expect([0, 1, 2, 3].every(isSpaceLike)).toBe(true);
  });

  it("space: a patch ends at the first of a run of spaces; the rest join the next patch", () => {
    const toks = Array.from(encode("ab, cd  e"));
    const starts = spaceStarts(toks);
    expect(starts).toEqual([0, 1, 4, 8]);
    expect(Array.from(lengthsFromStarts(starts, toks.length, "N+1"))).toEqual([1, 3, 4, 3]);
    // a special token ends a patch even after a space
    expect(spaceStarts([1, 101, 36, 2, 101])).toEqual([0, 1, 3, 4]);
  });
});

describe("max patch length (HF process_patch_lengths)", () => {
  it("the oracle drops zero lengths, then splits into m, m, ..., rest", () => {
    expect(splitLongPatches([1, 0, 9, 4, 0], 4)).toEqual([1, 4, 4, 1, 4]);
  });

  it("the model splits as HF does after the fact, in every mode and convention, and rejects a bad length", () => {
    const modes: Partial<PatchingConfig>[] = [{ mode: "entropy" }, { mode: "entropy", monotonicity: true }, { mode: "static", patchSize: 3 },
      { mode: "space" }, { mode: "byte" }];
    fc.assert(
      fc.property(entArb, fc.double({ min: 0, max: 3, noNaN: true }), fc.integer({ min: 1, max: 6 }), (ent, th, m) => {
        const toks = ent.map((e, i) => (i === 0 ? 1 : 4 + Math.floor(e * 46)));
        for (const preset of ["hf", "reference"] as const) {
          for (const mode of modes) {
            for (const convention of [undefined, "N-offline"] as const) {
              const plain = modelPatchLengths(preset, { ...mode, threshold: th }, ent, toks, { convention });
              const split = modelPatchLengths(preset, { ...mode, threshold: th, maxPatchLength: m }, ent, toks, { convention });
              expect(split).toEqual(splitLongPatches(plain, m));
              expect(split.every((L) => L >= 1 && L <= m)).toBe(true);
            }
          }
        }
      }),
      { numRuns: 40 },
    );
    expect(() => modelPatchLengths("hf", { maxPatchLength: 0 }, [1, 2])).toThrow(/max_patch_length/);
  });
});

describe("lengthsFromStarts validation", () => {
  it("rejects unsorted starts, starts beyond N, bad conventions", () => {
    expect(() => lengthsFromStarts([0, 2, 1], 5, "N+1")).toThrow(/strictly increasing/);
    expect(() => lengthsFromStarts([0, 7], 5, "N+1")).toThrow(/\[0, 5\]/);
    expect(() => lengthsFromStarts([1], 5, "N+1")).toThrow(/first start/);
    expect(() => lengthsFromStarts([0], 5, "bogus" as LengthConvention)).toThrow(/convention/);
    expect(() => globalThresholdStarts([], 1)).toThrow(/at least one token/);
  });
});

describe("threshold for a target patch size", () => {
  const docsArb = fc.array(fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 4 });

  it("reports the average it achieves, and no other threshold gets closer to the target", () => {
    fc.assert(
      fc.property(docsArb, fc.double({ min: 1, max: 12, noNaN: true }), (docs, target) => {
        const choice = thresholdForPatchSize(docs, target);
        expect(averagePatchSize(docs, choice.threshold)).toBeCloseTo(choice.averagePatchSize, 12);
        // brute force over every distinct candidate value (and below all of them)
        const cands = docs.flatMap((d) => d.slice(1, -1));
        const err = Math.abs(choice.averagePatchSize - target);
        for (const th of [...cands, -1]) expect(Math.abs(averagePatchSize(docs, th) - target)).toBeGreaterThanOrEqual(err - 1e-12);
      }),
      { numRuns: 60 },
    );
  });

  it("hits an exactly reachable target and returns a threshold strictly between candidates", () => {
    // one doc, N = 12, candidates ent[1..10]; 12 bytes / 4 patches = 3 ⇒ 2 candidates above θ
    const ent = [9, 0.1, 0.2, 3.0, 0.3, 0.4, 2.0, 0.5, 0.6, 0.7, 0.8, 4];
    const c = thresholdForPatchSize([ent], 3);
    expect(c.numPatches).toBe(4);
    expect(c.averagePatchSize).toBe(3);
    expect(c.threshold).toBeGreaterThan(0.8);
    expect(c.threshold).toBeLessThan(2.0);
    expect(() => thresholdForPatchSize([ent], 0.5)).toThrow(/≥ 1/);
  });
});

describe("the model's patch lengths for every mode (Blt.patchLengthsOf: rule, behaviour, max length)", () => {
  const ent = [3, 0.5, 2.5, 0.1, 0.2, 2.0, 0.3, 9]; // N = 8
  const toks = Array.from(encode("ab cd e")); // N = 8

  it("entropy: HF lengths sum to N, reference lengths to N+1; Meta rules only with metaPatchRules", () => {
    expect(modelPatchLengths("hf", { threshold: 1 }, ent, toks)).toEqual([1, 2, 3, 2, 0]);
    expect(modelPatchLengths("reference", { threshold: 1 }, ent, toks)).toEqual([1, 2, 3, 2, 1]);
    // HF stores `monotonicity` but ignores it (the model once applied it under the HF preset: [1, 1, 1, 3, 2, 0])
    expect(modelPatchLengths("hf", { threshold: 1, monotonicity: true }, ent, toks)).toEqual([1, 2, 3, 2, 0]);
    expect(modelPatchLengths("hf", { threshold: 1, thresholdAdd: -10 }, ent, toks)).toEqual([1, 2, 3, 2, 0]);
    // θ_r = 1: 0, 1, 2 forced; rises > 1 at t = 3 (2.0) and t = 6 (1.8), t = 8 (8.7)
    expect(modelPatchLengths("reference", { threshold: 1, monotonicity: true }, ent, toks)).toEqual([1, 1, 1, 3, 2, 1]);
    expect(modelPatchLengths("reference", { threshold: 1, maxPatchLength: 2 }, ent, toks)).toEqual([1, 2, 2, 1, 2, 1]);
    expect(() => modelPatchLengths("hf", {}, null, toks)).toThrow(/8 entropies, got none/);
    expect(() => modelPatchLengths("hf", {}, [1], toks)).toThrow(/8 entropies, got 1/);
  });

  it("byte, static and space modes, with max_patch_length in each (the model once ignored it outside entropy mode)", () => {
    expect(modelPatchLengths("hf", { mode: "byte" }, null, toks)).toEqual(new Array(9).fill(1));
    expect(modelPatchLengths("hf", { mode: "static", patchSize: 3 }, null, toks)).toEqual([1, 3, 3, 1]);
    expect(modelPatchLengths("hf", { mode: "static", patchSize: 4 }, null, toks)).toEqual([1, 4, 3]);
    expect(modelPatchLengths("hf", { mode: "static", patchSize: 4, maxPatchLength: 2 }, null, toks)).toEqual([1, 2, 2, 2, 1]);
    expect(modelPatchLengths("hf", { mode: "space" }, null, toks)).toEqual([1, 3, 3, 1]);
    expect(modelPatchLengths("hf", { mode: "space", maxPatchLength: 2 }, null, toks)).toEqual([1, 2, 1, 2, 1, 1]);
    expect(() => modelPatchLengths("hf", { mode: "static", patchSize: 4.5 }, null, toks)).toThrow(/integer patch_size/);
    expect(() => modelPatchLengths("hf", { mode: "bpe" }, null, toks)).toThrow(/not implemented/);
  });
});
