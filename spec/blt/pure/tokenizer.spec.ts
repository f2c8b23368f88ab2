// Tokenizer: byte offset 4, specials, round trip, invalid UTF-8 handling.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  BOE_ID, BOS_ID, EOS_ID, PAD_ID, OFFSET, VOCAB_SIZE,
  decode, encode, idsToBytes, utf8Decode, utf8Encode,
} from "../../../src/blt/tokenizer.js";

describe("tokenizer constants", () => {
  it("match the BLT vocabulary", () => {
    expect([BOE_ID, BOS_ID, EOS_ID, PAD_ID, OFFSET, VOCAB_SIZE]).toEqual([0, 1, 2, 3, 4, 260]);
  });
});

describe("encode", () => {
  it("maps bytes to b+4 with BOS and optional EOS", () => {
    expect(Array.from(encode("Hello"))).toEqual([1, 76, 105, 112, 112, 115]);
    expect(Array.from(encode("Hi", { addEos: true }))).toEqual([1, 76, 109, 2]);
    expect(Array.from(encode("Hi", { addBos: false }))).toEqual([76, 109]);
    expect(Array.from(encode(new Uint8Array([0, 255])))).toEqual([1, 4, 259]);
    expect(Array.from(encode(""))).toEqual([1]);
  });

  it("encodes multi-byte UTF-8 like TextEncoder (golden utf8 case bytes)", () => {
    const s = "héllo 世界 🙂";
    expect(Array.from(utf8Encode(s))).toEqual(Array.from(new TextEncoder().encode(s)));
  });

  it("drops lone surrogates by default (errors=ignore), U+FFFD with replace", () => {
    const s = "a\ud800b\udc00c";
    expect(Array.from(encode(s, { addBos: false }))).toEqual([97 + 4, 98 + 4, 99 + 4]);
    expect(Array.from(utf8Encode(s, "replace"))).toEqual(Array.from(new TextEncoder().encode(s)));
  });

  it("length = utf8 bytes + BOS (+ EOS), ids in [0, 260)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.boolean(), (s, eos) => {
        const ids = encode(s, { addEos: eos });
        expect(ids.length).toBe(new TextEncoder().encode(s).length + 1 + (eos ? 1 : 0));
        for (let i = 1; i < ids.length - (eos ? 1 : 0); i++) {
          expect(ids[i]).toBeGreaterThanOrEqual(4);
          expect(ids[i]).toBeLessThan(260);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe("decode", () => {
  it("round-trips valid text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), fc.boolean(), (s, eos) => {
        expect(decode(encode(s, { addEos: eos }))).toBe(s);
      }),
      { numRuns: 100 },
    );
  });

  it("drops ids < 4 (specials and Meta PAD = -1), optionally cuts at EOS", () => {
    expect(decode([1, 76, 0, 109, 3, -1, 2, 76])).toBe("HiH");
    expect(decode([1, 76, 109, 2, 76], { cutAtEos: true })).toBe("Hi");
    expect(Array.from(idsToBytes([1, 4, 259, 2]))).toEqual([0, 255]);
  });

  it("throws a clear error for ids outside the vocabulary", () => {
    expect(() => decode([1, 260])).toThrow(/260.*index 1/);
    expect(() => decode([1, 4.5])).toThrow(/4.5/);
  });

  it("drops invalid UTF-8 by default (Python errors='ignore')", () => {
    // stray continuation, truncated 3-byte sequence followed by ASCII, overlong, surrogate, > U+10FFFF
    const cases: [number[], string][] = [
      [[0x61, 0x80, 0x62], "ab"],
      [[0xe2, 0x82, 0x41], "A"],
      [[0xc0, 0xaf, 0x41], "A"],
      [[0xed, 0xa0, 0x80, 0x41], "A"],
      [[0xf4, 0x90, 0x80, 0x80], ""],
      [[0xe2, 0x82, 0xac], "€"],
      [[0xe2, 0x82], ""],
    ];
    for (const [bytes, want] of cases) {
      expect(utf8Decode(bytes)).toBe(want);
      expect(decode(encode(new Uint8Array(bytes)))).toBe(want);
    }
  });

  it("replace mode equals TextDecoder on arbitrary bytes, ignore mode = replace minus U+FFFD", () => {
    const td = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const replaced = utf8Decode(bytes, "replace");
        expect(replaced).toBe(td.decode(bytes));
        // a genuine U+FFFD in the input (bytes EF BF BD) must survive "ignore"; compare only without one
        const hasGenuine = bytes.some((b, i) => b === 0xef && bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd);
        if (!hasGenuine) expect(utf8Decode(bytes, "ignore")).toBe(replaced.replaceAll("\ufffd", ""));
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on any id sequence in [-1, 260)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1, max: 259 }), { maxLength: 50 }), (ids) => {
        expect(typeof decode(ids)).toBe("string");
      }),
      { numRuns: 100 },
    );
  });
});
