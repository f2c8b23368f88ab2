// Hash n-gram ids: exact values, BigInt == fast path, locality.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  HASH_PRIMES, encoderHashIds, floorModBigInt, hashNgramIds, hashNgramIdsBigInt, ngramWindow,
  offsetIds, primeForFunction, rollingPolyHashRaw,
} from "../../../src/blt/hash-ngram.js";
import { encode } from "../../../src/blt/tokenizer.js";

const HELLO = [1, 76, 105, 112, 112, 115];
const ABC = [1, ...Array.from({ length: 10 }, (_, i) => 101 + i)]; // "abcdefghij"

// values computed with Meta's hash functions: prime 1 000 000 007, V = 500 002
const HELLO_IDS: Record<number, number[]> = {
  3: [443987, 124875, 393970, 386145, 358223, 190185],
  4: [437197, 433869, 117936, 254402, 246577, 30240],
  5: [123201, 168913, 27892, 170862, 307328, 265602],
  6: [166353, 160907, 92310, 405250, 48218, 280239],
  7: [34117, 338221, 15158, 281878, 94816, 340137],
  8: [172383, 205585, 456240, 129346, 299568, 322649],
};
const ABC_IDS: Record<number, number[]> = {
  3: [443987, 321004, 462190, 402282, 342275, 282268, 222261, 162254, 102247, 42240, 482235],
  4: [437197, 284764, 98976, 80859, 458148, 335336, 212524, 493216, 370404, 247592, 124780],
  5: [123201, 38418, 9186, 446601, 51683, 52171, 52560, 52949, 53338, 53727, 54116],
  6: [166353, 284692, 366262, 3381, 203645, 71578, 238419, 405161, 71901, 335141, 1881],
  7: [34117, 384138, 36592, 152279, 420015, 57896, 459948, 160904, 361763, 159118, 359977],
  8: [172383, 173114, 292014, 116851, 404921, 441536, 348298, 422731, 392568, 362306, 332044],
};

describe("hash ids computed with Meta's functions", () => {
  it("token ids of the fixtures come from the tokenizer", () => {
    expect(Array.from(encode("Hello"))).toEqual(HELLO);
    expect(Array.from(encode("abcdefghij"))).toEqual(ABC);
  });

  it("raw signed int64 values", () => {
    const p = HASH_PRIMES[0]!;
    expect(rollingPolyHashRaw([0, 0, 1], p)).toBe(1000000014000000049n);
    expect(rollingPolyHashRaw([0, 0, 0, 0, 0, 0, 0, 1], p)).toBe(9015250055358150391n);
    expect(rollingPolyHashRaw([1, 101, 102], p)).toBe(-8680462913257303990n);
    expect(rollingPolyHashRaw([0, 0, 0, 0, 0, 1, 101, 102], p)).toBe(608244811471806022n);
    expect(rollingPolyHashRaw([107, 108, 109], p)).toBe(-1680462808257303492n);
    expect(rollingPolyHashRaw([102, 103, 104, 105, 106, 107, 108, 109], p)).toBe(-4320047901739624164n);
    expect(rollingPolyHashRaw([103, 104, 105, 106, 107, 108, 109, 110], p)).toBe(-6299696437456623044n);
    expect(rollingPolyHashRaw(ngramWindow(HELLO, 5, 8), p)).toBe(2723196053847467075n);
    // worked check: exact value minus 5·2^64, floor-mod 500 002
    expect(1n + 101n * p + 102n * p * p).toBe(102000001529000005706n);
    expect(floorModBigInt(-8680462913257303990n, 500002n)).toBe(462190n);
  });

  for (const [name, ids, table] of [["Hello", HELLO, HELLO_IDS], ["abcdefghij", ABC, ABC_IDS]] as const) {
    it(`ids of "${name}" for n = 3..8, BigInt and fast`, () => {
      for (let n = 3; n <= 8; n++) {
        expect(Array.from(hashNgramIdsBigInt(ids, n, 0, 500002))).toEqual(table[n]);
        expect(Array.from(hashNgramIds(ids, n, 0, 500002))).toEqual(table[n]);
      }
    });
  }

  it("other hash functions, V = 30 000", () => {
    expect(Array.from(hashNgramIds(HELLO, 3, 1, 30000))).toEqual([21497, 13977, 18014, 11217, 2185, 6683]);
    expect(Array.from(hashNgramIds(HELLO, 3, 2, 30000))).toEqual([13441, 17243, 10894, 1299, 3225, 13555]);
    expect(Array.from(hashNgramIds(HELLO, 4, 1, 30000))).toEqual([6501, 15269, 29510, 10670, 3873, 14344]);
    expect(primeForFunction(11)).toBe(HASH_PRIMES[0]); // HF cycles primes[f % 11]
  });
});

describe("fast path == BigInt reference", () => {
  it("on random ids, sizes, functions and vocabularies (incl. non powers of two)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 259 }), { minLength: 0, maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 12 }),
        fc.oneof(fc.constantFrom(1, 2, 997, 1000, 30000, 500002, 1 << 26), fc.integer({ min: 1, max: 1 << 26 })),
        (ids, n, f, V) => {
          expect(Array.from(hashNgramIds(ids, n, f, V))).toEqual(Array.from(hashNgramIdsBigInt(ids, n, f, V)));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("with the largest ids allowed (65535) and n = 32 (carry stress)", () => {
    const ids = Array.from({ length: 40 }, (_, i) => 65535 - (i % 3));
    for (const f of [0, 6]) expect(Array.from(hashNgramIds(ids, 32, f, 500002))).toEqual(Array.from(hashNgramIdsBigInt(ids, 32, f, 500002)));
  });
});

describe("properties", () => {
  const idsArb = fc.array(fc.integer({ min: 0, max: 259 }), { minLength: 1, maxLength: 30 });

  it("ids in [0, V)", () => {
    fc.assert(
      fc.property(idsArb, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1000 }), (ids, n, V) => {
        for (const h of hashNgramIds(ids, n, 0, V)) {
          expect(h).toBeGreaterThanOrEqual(0);
          expect(h).toBeLessThan(V);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("depends only on the last n ids and equal windows give equal ids", () => {
    fc.assert(
      fc.property(idsArb, fc.integer({ min: 1, max: 8 }), fc.nat(), fc.integer({ min: 0, max: 259 }), (ids, n, jRaw, v) => {
        const j = jRaw % ids.length;
        const changed = ids.slice();
        changed[j] = v;
        const a = hashNgramIds(ids, n, 0, 997);
        const b = hashNgramIds(changed, n, 0, 997);
        for (let t = 0; t < ids.length; t++) if (j < t - n + 1 || j > t) expect(b[t]).toBe(a[t]);
        // translation: prefixing tokens does not change ids of full windows
        const pref = [5, 6, 7, ...ids];
        const c = hashNgramIds(pref, n, 0, 997);
        for (let t = n - 1; t < ids.length; t++) expect(c[t + 3]).toBe(a[t]);
      }),
      { numRuns: 60 },
    );
  });

  it("left padding is BOE = 0", () => {
    const ids = [1, 76, 105];
    const padded = [0, 0, 0, 0, 0, ...ids];
    const a = hashNgramIds(ids, 6, 0, 500002);
    const b = hashNgramIds(padded, 6, 0, 500002);
    for (let t = 0; t < ids.length; t++) expect(a[t]).toBe(b[t + 5]);
  });

  it("is linear mod 2^64 with the OLDEST slot × π^0", () => {
    const p = HASH_PRIMES[3]!;
    const w = [9, 8, 7, 6, 5];
    for (let j = 0; j < w.length; j++) {
      const w2 = w.slice();
      w2[j] += 3;
      const diff = BigInt.asUintN(64, rollingPolyHashRaw(w2, p) - rollingPolyHashRaw(w, p));
      expect(diff).toBe(BigInt.asUintN(64, 3n * p ** BigInt(j)));
    }
  });

  it("rejects bad arguments with clear errors", () => {
    expect(() => hashNgramIds([1, 2], 0, 0, 10)).toThrow(/n-gram size/);
    expect(() => hashNgramIds([1, -2], 3, 0, 10)).toThrow(/position 1/);
    expect(() => hashNgramIds([1, 2], 3, 0, 0)).toThrow(/vocab/);
    expect(() => encoderHashIds([1], [3], 0, 10)).toThrow(/nbFunctions/);
  });
});

describe("encoderHashIds / offsetIds layout", () => {
  it("is function-major: table f·G + gi, and offsets add r·V", () => {
    const sizes = [3, 4, 5];
    const tables = encoderHashIds(HELLO, sizes, 2, 997);
    expect(tables.length).toBe(6);
    for (let f = 0; f < 2; f++)
      sizes.forEach((n, gi) => expect(Array.from(tables[f * 3 + gi]!)).toEqual(Array.from(hashNgramIds(HELLO, n, f, 997))));
    const rows = offsetIds(tables, 997);
    rows.forEach((r, m) => r.forEach((x, t) => expect(x).toBe(tables[m]![t]! + m * 997)));
  });
});
