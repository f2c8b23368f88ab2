// Tests for src/io/safetensors.ts (reader/writer) and src/io/atomic.ts (writeFileAtomic):
// round-trip properties, F16/BF16/I64 decoding from hand-built bytes, golden files written by Python
// safetensors (byte-identical re-write), header validation messages, and a mutation fuzz test.

import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { writeFileAtomic } from "../../src/io/atomic.js";
import { readSafetensors, type RawTensor } from "../../src/io/safetensors.js";
import { writeSafetensors } from "../../src/io/safetensors-writer.js";
import { readSafetensorsFile } from "../../src/io/safetensors-file.js";
import { sharedPath } from '../../src/io/shared-dir.js';

const GOLDEN = sharedPath('golden', 'blt1b_like');

// ------------------------------------------------------------------------------------------------------------
// helpers
// ------------------------------------------------------------------------------------------------------------

/** Builds a file from raw header text and data bytes; `lengthField` overrides the 8-byte header length. */
function buildFile(headerText: string, data: Uint8Array = new Uint8Array(0), lengthField?: bigint): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

function u16Bytes(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 2);
  const v = new DataView(out.buffer);
  words.forEach((w, i) => v.setUint16(2 * i, w, true));
  return out;
}

function bytesOf(t: RawTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function expectSafetensorsError(fn: () => unknown, source: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected an error").toBeInstanceOf(Error);
  const err = caught as Error;
  expect(Object.getPrototypeOf(err)).toBe(Error.prototype);
  expect(err.message.startsWith(`safetensors: ${source}: `), err.message).toBe(true);
  expect(err.message).toMatch(pattern);
}

const f32Entry = (shape: number[], begin: number, end: number) => ({ dtype: "F32", shape, data_offsets: [begin, end] });

// ------------------------------------------------------------------------------------------------------------
// arbitraries
// ------------------------------------------------------------------------------------------------------------

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });

const tensorArb: fc.Arbitrary<RawTensor> = fc
  .tuple(fc.constantFrom("F32" as const, "I32" as const, "F64" as const), shapeArb)
  .chain(([dtype, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (dtype === "F32") {
      return fc
        .array(fc.float(), { minLength: n, maxLength: n })
        .map((v): RawTensor => ({ dtype, shape, data: Float32Array.from(v) }));
    }
    if (dtype === "F64") {
      return fc
        .array(fc.double(), { minLength: n, maxLength: n })
        .map((v): RawTensor => ({ dtype, shape, data: Float64Array.from(v) }));
    }
    return fc
      .array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: n, maxLength: n })
      .map((v): RawTensor => ({ dtype, shape, data: Int32Array.from(v) }));
  });

const nameArb = fc.string({ unit: "grapheme", maxLength: 12 }).filter((s) => s !== "__metadata__");

const stateArb = fc.uniqueArray(fc.tuple(nameArb, tensorArb), { maxLength: 6, selector: ([name]) => name });
const metadataArb = fc.option(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 3 }), {
  nil: undefined,
});

// ------------------------------------------------------------------------------------------------------------
// round trip
// ------------------------------------------------------------------------------------------------------------

describe("writeSafetensors / readSafetensors round trip", () => {
  it("preserves names, dtypes, shapes, bit patterns and metadata (random tensors incl. empty and 0-dim)", () => {
    fc.assert(
      fc.property(stateArb, metadataArb, (entries, metadata) => {
        const bytes = writeSafetensors(new Map(entries), metadata);
        const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
        expect(n % 8).toBe(0); // header padded so data starts 8-byte aligned
        const file = readSafetensors(bytes, "rt");
        expect([...file.tensors.keys()].sort()).toEqual(entries.map(([k]) => k).sort());
        for (const [name, t] of entries) {
          const got = file.tensors.get(name)!;
          expect(got.dtype).toBe(t.dtype);
          expect(got.storedDtype).toBe(t.dtype);
          expect(got.shape).toEqual(t.shape);
          expect(got.data.constructor).toBe(t.data.constructor);
          expect(bytesOf(got)).toEqual(bytesOf(t)); // bitwise: NaN payloads and -0 survive
        }
        expect(file.metadata).toEqual(metadata ?? {});
        // deterministic: independent of insertion order, and re-writing what was read gives the same bytes
        expect(writeSafetensors(new Map([...entries].reverse()), metadata)).toEqual(bytes);
        expect(writeSafetensors(file.tensors, metadata)).toEqual(bytes);
      }),
      { numRuns: 100 },
    );
  });

  it("accepts a Record as well as a Map, and writes an empty file", () => {
    const t: RawTensor = { dtype: "F32", shape: [], data: new Float32Array([3.5]) };
    const a = writeSafetensors({ x: t });
    expect(a).toEqual(writeSafetensors(new Map([["x", t]])));
    expect(readSafetensors(a).tensors.get("x")!.data[0]).toBe(3.5);
    const empty = readSafetensors(writeSafetensors({}));
    expect(empty.tensors.size).toBe(0);
    expect(empty.metadata).toEqual({});
  });

  it("handles tensor names and metadata keys like __proto__ as plain data", () => {
    const t: RawTensor = { dtype: "I32", shape: [1], data: new Int32Array([7]) };
    const bytes = writeSafetensors(new Map([["__proto__", t]]), { ["__proto__"]: "m" } as Record<string, string>);
    const file = readSafetensors(bytes);
    expect(file.tensors.get("__proto__")!.data[0]).toBe(7);
    expect(Object.getOwnPropertyDescriptor(file.metadata, "__proto__")?.value).toBe("m");
  });

  it("rejects invalid tensors with a write error", () => {
    const bad: [string, RawTensor, RegExp][] = [
      ["a", { dtype: "F32", shape: [2], data: new Int32Array(2) }, /'a'.*Float32Array/],
      ["b", { dtype: "I32", shape: [3], data: new Int32Array(2) }, /'b'.*3 elements but data has 2/],
      ["b2", { dtype: "I32", shape: [1], data: new Int32Array(2) }, /'b2'.*1 elements but data has 2/],
      ["c", { dtype: "F16" as "F32", shape: [1], data: new Float32Array(1) }, /'c'.*"F16"/],
      ["d", { dtype: "F32", shape: [-1], data: new Float32Array(1) }, /'d'.*-1/],
      ["__metadata__", { dtype: "F32", shape: [1], data: new Float32Array(1) }, /reserved/],
    ];
    for (const [name, t, re] of bad) expectSafetensorsError(() => writeSafetensors({ [name]: t }), "write", re);
    expectSafetensorsError(
      () => writeSafetensors({}, { k: 5 as unknown as string }),
      "write",
      /metadata value for 'k' is 5/,
    );
  });
});

// ------------------------------------------------------------------------------------------------------------
// decoding of F16 / BF16 / I64 / unaligned data
// ------------------------------------------------------------------------------------------------------------

describe("decoding", () => {
  it("decodes F16 (normals, subnormals, +-inf, NaN, -0, max) to F32", () => {
    const codes = [0x3c00, 0xc100, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x7bff, 0x3555];
    const expected = [1, -2.5, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity, NaN, -0, 65504, 0.333251953125];
    const file = readSafetensors(
      buildFile(JSON.stringify({ h: { dtype: "F16", shape: [codes.length], data_offsets: [0, 2 * codes.length] } }), u16Bytes(codes)),
    );
    const t = file.tensors.get("h")!;
    expect(t.dtype).toBe("F32");
    expect(t.storedDtype).toBe("F16");
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(Array.from(t.data)).toEqual(expected); // toEqual distinguishes -0 from 0 and matches NaN
  });

  it("F16 decoding is odd-symmetric and strictly increasing over all finite positive codes", () => {
    const codes = Array.from({ length: 0x7c00 }, (_, i) => i);
    const bytes = u16Bytes([...codes, ...codes.map((c) => c | 0x8000)]);
    const n = 2 * codes.length;
    const t = readSafetensors(buildFile(JSON.stringify({ h: { dtype: "F16", shape: [n], data_offsets: [0, 2 * n] } }), bytes))
      .tensors.get("h")!.data;
    const notIncreasing = codes.slice(1).filter((c) => !(t[c]! > t[c - 1]!));
    const notOdd = codes.filter((c) => !Object.is(t[codes.length + c], -t[c]!));
    expect(notIncreasing).toEqual([]);
    expect(notOdd).toEqual([]);
    expect(t[0x7bff]).toBe(65504);
  });

  it("decodes BF16 (normals, subnormals, +-inf, NaN, -0, max) to F32", () => {
    const codes = [0x3f80, 0xc020, 0x0001, 0x007f, 0x7f80, 0xff80, 0x7fc0, 0x8000, 0x7f7f, 0x3eab];
    const expected = [1, -2.5, 2 ** -133, 127 * 2 ** -133, Infinity, -Infinity, NaN, -0, 3.3895313892515355e38, 0.333984375];
    const file = readSafetensors(
      buildFile(JSON.stringify({ b: { dtype: "BF16", shape: [2, 5], data_offsets: [0, 20] } }), u16Bytes(codes)),
    );
    const t = file.tensors.get("b")!;
    expect([t.dtype, t.storedDtype]).toEqual(["F32", "BF16"]);
    expect(t.shape).toEqual([2, 5]);
    expect(Array.from(t.data)).toEqual(expected);
  });

  it("decodes I64 to I32 and names the tensor and value when one does not fit", () => {
    const i64 = (vals: bigint[]) => {
      const out = new Uint8Array(8 * vals.length);
      vals.forEach((v, i) => new DataView(out.buffer).setBigInt64(8 * i, v, true));
      return out;
    };
    const file = (vals: bigint[]) =>
      buildFile(JSON.stringify({ ids: { dtype: "I64", shape: [vals.length], data_offsets: [0, 8 * vals.length] } }), i64(vals));
    const ok = readSafetensors(file([0n, -1n, 2147483647n, -2147483648n, 42n])).tensors.get("ids")!;
    expect([ok.dtype, ok.storedDtype]).toEqual(["I32", "I64"]);
    expect(Array.from(ok.data)).toEqual([0, -1, 2147483647, -2147483648, 42]);
    expectSafetensorsError(() => readSafetensors(file([1n, 2147483648n]), "f"), "f", /'ids'.*2147483648.*index 1/);
    expectSafetensorsError(() => readSafetensors(file([-2147483649n]), "f"), "f", /'ids'.*-2147483649/);
    expectSafetensorsError(() => readSafetensors(file([2n ** 40n]), "f"), "f", /1099511627776/);
  });

  it("reads unaligned data from a sub-view and never aliases the input", () => {
    const values = new Float32Array([1.5, -2, 3.25]);
    const f64 = new Float64Array([Math.PI]);
    // header of odd length => data section starts at an odd offset; the buffer itself is a sub-view at offset 3
    let header = JSON.stringify({ a: f32Entry([3], 0, 12), d: { dtype: "F64", shape: [], data_offsets: [12, 20] } });
    if (header.length % 2 === 0) header += " ";
    const data = new Uint8Array(20);
    data.set(new Uint8Array(values.buffer), 0);
    data.set(new Uint8Array(f64.buffer), 12);
    const file = buildFile(header, data);
    expect((8 + header.length) % 2).toBe(1);
    const host = new Uint8Array(file.length + 3);
    host.set(file, 3);
    const view = host.subarray(3);
    const got = readSafetensors(view);
    const a = got.tensors.get("a")!;
    expect(Array.from(a.data)).toEqual([1.5, -2, 3.25]);
    expect(got.tensors.get("d")!.data).toEqual(new Float64Array([Math.PI]));
    expect(a.data.buffer).not.toBe(host.buffer);
    host.fill(0);
    expect(Array.from(a.data)).toEqual([1.5, -2, 3.25]);
  });
});

// ------------------------------------------------------------------------------------------------------------
// golden files (written by Python safetensors via transformers)
// ------------------------------------------------------------------------------------------------------------

describe("golden files", () => {
  const meta = JSON.parse(fs.readFileSync(`${GOLDEN}/meta.json`, "utf8")) as {
    weight_keys: Record<string, number[]>;
    weights_sha256: string;
  };

  it("model.safetensors has exactly meta.json weight_keys with their shapes, and re-writes byte-identically", () => {
    const file = readSafetensorsFile(`${GOLDEN}/model.safetensors`);
    expect(file.metadata).toEqual({ format: "pt" });
    expect(file.tensors.size).toBe(Object.keys(meta.weight_keys).length);
    for (const [key, shape] of Object.entries(meta.weight_keys)) {
      const t = file.tensors.get(key);
      expect(t, key).toBeDefined();
      expect(t!.shape, key).toEqual(shape);
      expect(t!.dtype).toBe("F32");
      expect(t!.data.length).toBe(shape.reduce((a, b) => a * b, 1));
    }
    expect(file.tensors.get("model.local_encoder.embed_tokens.weight")!.shape).toEqual([260, 32]);
    expect(file.tensors.get("model.encoder_hash_tok_embedding.weight")!.shape).toEqual([6000, 32]);
    expect(file.tensors.get("lm_head.weight")!.shape).toEqual([260, 32]);
    // norm weights were set to 1 + 0.1 N(0,1): all finite and near 1 (|0.1 z| < 1 holds with overwhelming odds)
    const norm = Array.from(file.tensors.get("model.local_decoder.norm.weight")!.data);
    expect(norm.filter((x) => !(Math.abs(x - 1) < 1))).toEqual([]);
    const rewritten = writeSafetensors(file.tensors, file.metadata);
    expect(createHash("sha256").update(rewritten).digest("hex")).toBe(meta.weights_sha256);
  });

  it("cases/ascii_short.safetensors: I32 and F32 tensors match the case JSON; buffer and file readers agree", () => {
    const bytes = new Uint8Array(fs.readFileSync(`${GOLDEN}/cases/ascii_short.safetensors`));
    const caseJson = JSON.parse(fs.readFileSync(`${GOLDEN}/cases/ascii_short.json`, "utf8")) as {
      input_ids: number[];
      text: string;
    };
    const file = readSafetensors(bytes, "ascii_short");
    expect(file.metadata).toEqual({ golden_case: "blt1b_like/ascii_short" });
    const ids = file.tensors.get("input_ids")!;
    expect([ids.dtype, ids.storedDtype]).toEqual(["I32", "I32"]);
    expect(Array.from(ids.data)).toEqual(caseJson.input_ids);
    // ids = [BOS=1] + [byte + 4] (src/blt/tokenizer.ts)
    expect(Array.from(ids.data)).toEqual([1, ...Array.from(new TextEncoder().encode(caseJson.text), (b) => b + 4)]);
    expect(file.tensors.get("hash.ids")!.shape).toEqual([6, 17]);
    const logits = file.tensors.get("byte.logits")!;
    expect([logits.dtype, logits.shape]).toEqual(["F32", [17, 260]]);
    expect(Array.from(logits.data).every(Number.isFinite)).toBe(true);
    const ent = file.tensors.get("patcher.entropies")!;
    // entropy of a 260-way distribution lies in [0, ln 260]
    expect(Array.from(ent.data).filter((x) => !(x >= 0 && x <= Math.log(260) + 1e-5))).toEqual([]);
    expect(Buffer.compare(writeSafetensors(file.tensors, file.metadata), bytes)).toBe(0); // byte-identical re-write
    const fromDisk = readSafetensorsFile(`${GOLDEN}/cases/ascii_short.safetensors`);
    expect([...fromDisk.tensors.keys()]).toEqual([...file.tensors.keys()]);
    const differ = [...file.tensors].filter(([k, t]) => Buffer.compare(bytesOf(fromDisk.tensors.get(k)!), bytesOf(t)) !== 0);
    expect(differ.map(([k]) => k)).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------------------
// header validation
// ------------------------------------------------------------------------------------------------------------

describe("validation errors name the source, tensor and value", () => {
  const four = new Uint8Array(4);
  const cases: [string, Uint8Array, RegExp][] = [
    ["too short", new Uint8Array(5), /5 bytes, too short/],
    ["length > file", buildFile("{}", new Uint8Array(0), 3n), /header length 3 exceeds the 2 bytes/],
    ["absurd length", buildFile("{}", new Uint8Array(0), 2n ** 63n), /header length 9223372036854775808 exceeds the 100000000-byte/],
    ["length just over limit", buildFile("{}", new Uint8Array(0), 100_000_001n), /100000001 exceeds/],
    ["bad utf-8", buildFile("{}", new Uint8Array(0)).map((b, i) => (i === 9 ? 0xff : b)), /not valid UTF-8/],
    ["not json", buildFile("{nope", four), /not valid JSON/],
    ["not starting with {", buildFile(" {}"), /does not start with/],
    ["empty header", buildFile(""), /does not start with/],
    ["unknown dtype", buildFile(JSON.stringify({ w: { dtype: "F8_E4M3", shape: [4], data_offsets: [0, 4] } }), four), /'w'.*"F8_E4M3"/],
    ["lowercase dtype", buildFile(JSON.stringify({ w: { dtype: "f32", shape: [1], data_offsets: [0, 4] } }), four), /'w'.*"f32"/],
    ["negative dim", buildFile(JSON.stringify({ w: f32Entry([-1], 0, 4) }), four), /'w'.*dimension -1/],
    ["float dim", buildFile(JSON.stringify({ w: f32Entry([0.5], 0, 4) }), four), /'w'.*dimension 0.5/],
    ["string dim", buildFile(JSON.stringify({ w: { dtype: "F32", shape: ["1"], data_offsets: [0, 4] } }), four), /'w'.*dimension "1"/],
    ["shape not array", buildFile(JSON.stringify({ w: { dtype: "F32", shape: 1, data_offsets: [0, 4] } }), four), /'w'.*shape 1 is not/],
    ["huge dims", buildFile(JSON.stringify({ w: f32Entry([1e6, 1e6, 1e6], 0, 4) }), four), /'w'.*span 4 bytes, too few for F32 shape \[1000000,1000000,1000000\]/],
    ["unsafe dim", buildFile(JSON.stringify({ w: f32Entry([2 ** 60], 0, 4) }), four), /'w'.*dimension 1152921504606847000/],
    ["begin > end", buildFile(JSON.stringify({ w: f32Entry([0], 4, 0) }), four), /'w'.*begin > end/],
    ["end past data", buildFile(JSON.stringify({ w: f32Entry([2], 0, 8) }), four), /'w'.*end 8 is past the 4-byte/],
    ["float offset", buildFile(JSON.stringify({ w: f32Entry([1], 0, 4.5) }), four), /'w'.*offset 4.5/],
    ["negative offset", buildFile(JSON.stringify({ w: f32Entry([1], -4, 0) }), four), /'w'.*offset -4/],
    ["offsets not pair", buildFile(JSON.stringify({ w: { dtype: "F32", shape: [1], data_offsets: [0] } }), four), /'w'.*data_offsets \[0\]/],
    ["size mismatch", buildFile(JSON.stringify({ w: f32Entry([2], 0, 4) }), four), /'w'.*span 4 bytes, too few for F32 shape \[2\]/],
    ["span too large", buildFile(JSON.stringify({ w: f32Entry([1], 0, 8) }), new Uint8Array(8)), /'w'.*span 8 bytes but F32 shape \[1\] needs 4/],
    [
      "overlap",
      buildFile(JSON.stringify({ a: f32Entry([2], 0, 8), b: f32Entry([1], 4, 8) }), new Uint8Array(8)),
      /'b'.*begin 4 overlaps tensor 'a'/,
    ],
    ["duplicate coverage", buildFile(JSON.stringify({ a: f32Entry([1], 0, 4), b: f32Entry([1], 0, 4) }), four), /'b'.*overlaps tensor 'a'/],
    ["hole", buildFile(JSON.stringify({ a: f32Entry([1], 4, 8) }), new Uint8Array(8)), /'a'.*hole/],
    ["trailing bytes", buildFile(JSON.stringify({ a: f32Entry([1], 0, 4) }), new Uint8Array(8)), /cover 4 of the 8 data bytes/],
    ["entry not object", buildFile(JSON.stringify({ a: [1, 2] })), /'a'.*not an object/],
    ["bad metadata", buildFile(JSON.stringify({ __metadata__: { k: 1 } })), /__metadata__ value for 'k' is 1/],
    ["metadata array", buildFile(JSON.stringify({ __metadata__: ["x"] })), /__metadata__ must be an object/],
    ["header array", buildFile("[1]"), /does not start with/],
  ];
  for (const [label, bytes, re] of cases) {
    it(label, () => expectSafetensorsError(() => readSafetensors(bytes, "t.safetensors"), "t.safetensors", re));
  }

  it("readSafetensorsFile decodes mixed dtypes at odd offsets like readSafetensors", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st-"));
    try {
      const header = JSON.stringify({
        h: { dtype: "F16", shape: [3], data_offsets: [0, 6] },
        b: { dtype: "BF16", shape: [1], data_offsets: [6, 8] },
        f: f32Entry([1], 8, 12),
        q: { dtype: "I64", shape: [1], data_offsets: [12, 20] },
      });
      const data = new Uint8Array(20);
      data.set(u16Bytes([0x3c00, 0xc100, 0x0001, 0x3f80]), 0);
      new DataView(data.buffer).setFloat32(8, 0.1, true);
      new DataView(data.buffer).setBigInt64(12, -5n, true);
      const bytes = buildFile(header + (header.length % 2 ? "" : " "), data);
      const p = path.join(dir, "mixed.safetensors");
      fs.writeFileSync(p, bytes);
      const fromDisk = readSafetensorsFile(p);
      const inMemory = readSafetensors(bytes);
      expect(Array.from(fromDisk.tensors.get("h")!.data)).toEqual([1, -2.5, 2 ** -24]);
      expect(fromDisk.tensors.get("b")!.data[0]).toBe(1);
      expect(fromDisk.tensors.get("f")!.data[0]).toBe(Math.fround(0.1));
      expect(fromDisk.tensors.get("q")!.data[0]).toBe(-5);
      expect(fromDisk).toEqual(inMemory);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("readSafetensorsFile names the path for a missing or truncated file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "st-"));
    try {
      const missing = path.join(dir, "missing.safetensors");
      expectSafetensorsError(() => readSafetensorsFile(missing), missing, /cannot open/);
      const good = writeSafetensors({ a: { dtype: "F32", shape: [3], data: new Float32Array(3) } });
      const cut = path.join(dir, "cut.safetensors");
      fs.writeFileSync(cut, good.subarray(0, good.length - 1));
      expectSafetensorsError(() => readSafetensorsFile(cut), cut, /'a'.*past the 11-byte/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------------------------------------------------
// fuzz: mutated valid files either parse or throw a plain Error with the safetensors prefix
// ------------------------------------------------------------------------------------------------------------

/** Header JSON of a file written by writeSafetensors, and its data section. */
function split(bytes: Uint8Array): { header: Record<string, unknown>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))), data: bytes.subarray(8 + n) };
}

type Mutation = (bytes: Uint8Array) => Uint8Array;

const weirdNumber = fc.constantFrom(-1, -4, 0.5, 3.000001, 2 ** 53, 2 ** 64, 1e300, -0, 4, 8, 12, 1e9);
const weirdValue = fc.oneof(weirdNumber, fc.constantFrom<unknown>("4", null, true, [], {}, [4], "F32"));

/** Mutations applied to the parsed header, then re-serialised with a correct length field. */
const jsonMutationArb: fc.Arbitrary<Mutation> = fc
  .tuple(
    fc.nat(),
    fc.nat(),
    fc.constantFrom("offsets", "offset1", "offsetsValue", "dim", "shape", "dtype", "dtypeValue", "dupcover", "delete", "entry", "metadata", "text", "array"),
    weirdValue,
    fc.constantFrom("F8", "f32", "I8", "BOOL", "U64", "", "F16", "BF16", "I64", "F64", "I32", "float32"),
    fc.string({ maxLength: 12 }),
    fc.integer({ min: 0, max: 9 }),
  )
  .map(([pick, pick2, kind, value, dtype, text, pad]) => (bytes: Uint8Array) => {
    const { header, data } = split(bytes);
    const names = Object.keys(header).filter((k) => k !== "__metadata__");
    const target = names.length ? (header[names[pick % names.length]!] as Record<string, unknown>) : undefined;
    const other = names.length ? (header[names[pick2 % names.length]!] as Record<string, unknown>) : undefined;
    let headerText: string | undefined;
    switch (kind) {
      case "offsets":
        if (target) target.data_offsets = [value, value];
        break;
      case "offsetsValue":
        if (target) target.data_offsets = value;
        break;
      case "dtypeValue":
        if (target) target.dtype = value;
        break;
      case "offset1":
        if (target) (target.data_offsets as unknown[])[pick2 % 2] = value;
        break;
      case "dim":
        if (target) target.shape = [...(target.shape as unknown[]), value];
        break;
      case "shape":
        if (target) target.shape = value;
        break;
      case "dtype":
        if (target) target.dtype = dtype;
        break;
      case "dupcover":
        if (target && other) target.data_offsets = other.data_offsets;
        break;
      case "delete":
        if (names.length) delete header[names[pick % names.length]!];
        break;
      case "entry":
        if (names.length) header[names[pick % names.length]!] = value;
        break;
      case "metadata":
        header.__metadata__ = value;
        break;
      case "text":
        headerText = text;
        break;
      case "array":
        headerText = JSON.stringify(Object.values(header));
        break;
    }
    return buildFile((headerText ?? JSON.stringify(header)) + " ".repeat(pad), data);
  });

const byteMutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  // truncation at a random point
  fc.nat().map((cut) => (b: Uint8Array) => b.slice(0, cut % (b.length + 1))),
  // xor random bytes inside the header
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => (b: Uint8Array) => {
    const out = b.slice();
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    for (const [p, x] of flips) out[8 + (p % Math.max(1, n))] ^= x;
    return out;
  }),
  // overwrite random bytes anywhere (including the length field)
  fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((sets) => (b: Uint8Array) => {
    const out = b.slice();
    for (const [p, v] of sets) out[p % out.length] = v;
    return out;
  }),
  // header length field: random u64, slightly off, or absurd
  fc
    .oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: -16, max: 16 }).map((d) => BigInt(d)))
    .map((v) => (b: Uint8Array) => {
      const out = b.slice();
      const dv = new DataView(out.buffer);
      const n = dv.getBigUint64(0, true);
      const delta = v >= -16n && v <= 16n ? n + v : v;
      dv.setBigUint64(0, delta < 0n ? 0n : delta % 2n ** 64n, true);
      return out;
    }),
);

describe("fuzz", () => {
  const goldenCase = new Uint8Array(fs.readFileSync(`${GOLDEN}/cases/one_byte.safetensors`));
  const baseArb = fc.oneof(
    { weight: 4, arbitrary: stateArb.map((entries) => writeSafetensors(new Map(entries), { format: "pt" })) },
    { weight: 1, arbitrary: fc.constant(goldenCase) },
  );

  const tally = { parsed: 0, rejected: 0 };

  /** Parses or throws a plain Error prefixed `safetensors: fuzz:`; on success the output is consistent and small. */
  function checkOutcome(bytes: Uint8Array): void {
    const t0 = performance.now();
    let file;
    try {
      file = readSafetensors(bytes, "fuzz");
    } catch (e) {
      expect(Object.getPrototypeOf(e)).toBe(Error.prototype);
      expect((e as Error).message.startsWith("safetensors: fuzz: "), (e as Error).message).toBe(true);
      tally.rejected++;
      return;
    } finally {
      // bounded work: files here are < 64 KiB, parsing one takes well under a millisecond
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    let decodedBytes = 0;
    for (const t of file.tensors.values()) {
      expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      decodedBytes += t.data.byteLength;
    }
    // allocation bound: decoded size <= 2x file size (F16/BF16 widen to F32; everything else at most 1x)
    expect(decodedBytes).toBeLessThanOrEqual(2 * bytes.length);
    tally.parsed++;
  }

  // Each case is a < 64 KiB buffer parsed in microseconds, so more runs than usual cost nothing noticeable.
  it("mutated headers (offsets, shapes, dtypes, coverage, metadata, non-JSON)", () => {
    fc.assert(fc.property(baseArb, jsonMutationArb, (bytes, mutate) => checkOutcome(mutate(bytes))), { numRuns: 400 });
  });

  it("mutated bytes (truncation, flipped/random bytes, length field)", () => {
    fc.assert(fc.property(baseArb, byteMutationArb, (bytes, mutate) => checkOutcome(mutate(bytes))), { numRuns: 400 });
  });

  it("arbitrary byte strings", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => checkOutcome(b)), { numRuns: 200 });
  });

  it("exercised both outcomes (the mutations are neither all harmless nor all fatal)", () => {
    // 1000 cases above; harmless mutations (padding, metadata {}, same-size dtype swaps, length-preserving byte
    // writes in the data section) parse, most others are rejected.
    expect(tally.rejected).toBeGreaterThan(300);
    expect(tally.parsed).toBeGreaterThan(20);
  });
});

// ------------------------------------------------------------------------------------------------------------
// writeFileAtomic
// ------------------------------------------------------------------------------------------------------------

describe("writeFileAtomic", () => {
  let dir = "";
  const fresh = () => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "atomic-")));
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("creates and replaces files (bytes and UTF-8 strings) without leaving temp files", () => {
    fresh();
    const target = path.join(dir, "model.safetensors");
    writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect(new Uint8Array(fs.readFileSync(target))).toEqual(new Uint8Array([1, 2, 3]));
    writeFileAtomic(target, "héllo");
    expect(fs.readFileSync(target, "utf8")).toBe("héllo");
    expect(fs.readdirSync(dir)).toEqual(["model.safetensors"]);
  });

  it("fails with the path when the directory is missing, creating nothing", () => {
    fresh();
    const target = path.join(dir, "nope", "x.bin");
    expect(() => writeFileAtomic(target, "data")).toThrow(/writeFileAtomic: .*nope\/x\.bin: .*ENOENT/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("leaves the old file intact when the data argument is invalid", () => {
    fresh();
    const target = path.join(dir, "keep.txt");
    fs.writeFileSync(target, "old");
    for (const bad of [42, [1, 2], null, new Float32Array(2)]) {
      expect(() => writeFileAtomic(target, bad as unknown as string)).toThrow(/keep\.txt: data must be a Uint8Array or a string/);
    }
    expect(fs.readFileSync(target, "utf8")).toBe("old");
    expect(fs.readdirSync(dir)).toEqual(["keep.txt"]);
  });

  it("removes the temp file and keeps the old file when fsync fails mid-write", () => {
    fresh();
    const target = path.join(dir, "keep.bin");
    fs.writeFileSync(target, "old");
    vi.spyOn(fs, "fsyncSync").mockImplementation(() => {
      throw new Error("EIO: simulated");
    });
    expect(() => writeFileAtomic(target, "new contents")).toThrow(/keep\.bin: EIO: simulated/);
    expect(fs.readFileSync(target, "utf8")).toBe("old");
    expect(fs.readdirSync(dir)).toEqual(["keep.bin"]);
  });

  it("removes the temp file when the rename fails (target is a non-empty directory)", () => {
    fresh();
    const target = path.join(dir, "sub");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "inner"), "x");
    expect(() => writeFileAtomic(target, "new")).toThrow(/writeFileAtomic: .*sub: /);
    expect(fs.readdirSync(dir)).toEqual(["sub"]);
    expect(fs.readFileSync(path.join(target, "inner"), "utf8")).toBe("x");
  });
});
