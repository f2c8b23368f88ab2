// A tiny WebAssembly binary encoder: just enough to emit one module with an exported memory and a few functions.
//
// Format reference: the WebAssembly Core Specification 2.0, chapter 5 "Binary Format" (the "Wasm §" numbers
// below are its sections): module = magic, version, sections; each section = id byte, byte length as unsigned
// LEB128, contents. SIMD instructions (the fixed-width SIMD proposal) are the prefix byte 0xfd followed by the
// opcode as an unsigned LEB128 number.
// Only the opcodes used by our kernels are listed, each under its spec name. A function body is built with
// CodeBuilder, one method call per instruction, so the emitting code reads like the wasm text format.

/** Unsigned LEB128 (Wasm §5.2.2): 7 bits per byte, low bits first, high bit set on all but the last byte. */
export function uleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`uleb128: expected an integer in [0, 2^32), got ${value}`);
  }
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (Wasm §5.2.2), for i32.const immediates: stops once the remaining bits are all sign bits. */
export function sleb128(value: number): number[] {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new Error(`sleb128: expected a 32-bit signed integer, got ${value}`);
  }
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7; // arithmetic shift keeps the sign
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Value types (Wasm §5.3.1). */
export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** Single-byte opcodes (Wasm §5.4). */
export const Op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  br_if: 0x0d,
  end: 0x0b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  i32_const: 0x41,
  i32_eqz: 0x45,
  i32_gt_u: 0x4b,
  i32_ge_u: 0x4f,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_and: 0x71,
  i32_shl: 0x74,
  i32_shr_u: 0x76,
  i32_load: 0x28,
  f32_load: 0x2a,
  f32_store: 0x38,
  f64_store: 0x39,
  i32_lt_s: 0x48,
  i32_ne: 0x47,
  f32_eq: 0x5b,
  f32_gt: 0x5e,
  f32_add: 0x92,
  f32_div: 0x95,
  f32_max: 0x97,
  f64_convert_i32_u: 0xb8,
  f64_promote_f32: 0xbb,
  if: 0x04,
  else: 0x05,
  select: 0x1b,
} as const;

/** SIMD opcodes, emitted as 0xfd + uleb128(opcode) (fixed-width SIMD proposal, "Binary encoding"). */
export const SimdOp = {
  v128_load: 0x00,
  v128_load32_splat: 0x09,
  v128_store: 0x0b,
  v128_const: 0x0c,
  i8x16_shuffle: 0x0d,
  i32x4_splat: 0x11,
  f32x4_splat: 0x13,
  f64x2_splat: 0x14,
  f32x4_extract_lane: 0x1f,
  f64x2_extract_lane: 0x21,
  v128_load16_lane: 0x55,
  v128_load32_lane: 0x56,
  v128_store32_lane: 0x5a,
  i32x4_lt_s: 0x39,
  i32x4_ge_s: 0x3f,
  f32x4_eq: 0x41,
  f32x4_lt: 0x43,
  v128_and: 0x4e,
  v128_bitselect: 0x52,
  f32x4_nearest: 0x6a,
  i32x4_shl: 0xab,
  i32x4_add: 0xae,
  f32x4_add: 0xe4,
  f32x4_sub: 0xe5,
  f32x4_mul: 0xe6,
  f32x4_div: 0xe7,
  f32x4_min: 0xe8,
  f32x4_max: 0xe9,
  /** pseudo-minimum b < a ? b : a (one instruction on x64, unlike f32x4.min's NaN and ±0 rules); pmax likewise. */
  f32x4_pmin: 0xea,
  f32x4_pmax: 0xeb,
  f32x4_sqrt: 0xe3,
  i32x4_trunc_sat_f32x4_s: 0xf8,
  v128_load64_zero: 0x5d,
  v128_store64_lane: 0x5b,
  f32x4_demote_f64x2_zero: 0x5e,
  f64x2_promote_low_f32x4: 0x5f,
  f64x2_nearest: 0x94,
  i64x2_extend_low_i32x4_s: 0xc7,
  i64x2_shl: 0xcb,
  i64x2_add: 0xce,
  f64x2_sqrt: 0xef,
  f64x2_add: 0xf0,
  f64x2_sub: 0xf1,
  f64x2_mul: 0xf2,
  f64x2_div: 0xf3,
  f64x2_min: 0xf4,
  f64x2_max: 0xf5,
  f64x2_pmin: 0xf6,
  f64x2_pmax: 0xf7,
  i32x4_trunc_sat_f64x2_s_zero: 0xfc,
  /** relaxed SIMD proposal: a·b + c, fused or not at the engine's choice (one rounding where fused). */
  f32x4_relaxed_madd: 0x105,
} as const;
const SIMD_PREFIX = 0xfd;
/** Block type "no result" (Wasm §5.4.1). */
const BLOCK_EMPTY = 0x40;

/** The byte lanes of i8x16.shuffle that pick float32 lanes `l` (a's lanes 0-3, b's 4-7). */
export const f32Lanes = (...l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);
/**
 * The four shuffles of a 4×4 float32 transpose: [a0 b0 a1 b1], [a2 b2 a3 b3] interleave two rows; [a0 a1 b0 b1],
 * [a2 a3 b2 b3] then join the halves of two interleaved pairs into columns.
 */
export const LO_PAIRS = f32Lanes(0, 4, 1, 5), HI_PAIRS = f32Lanes(2, 6, 3, 7);
export const LO_HALVES = f32Lanes(0, 1, 4, 5), HI_HALVES = f32Lanes(2, 3, 6, 7);

/**
 * Emits the 4×4 transpose of the v128 locals rows[0..3] (t: four scratch v128 locals): for each column e it calls
 * use(e, push), where push() leaves column e, [rows[0][e], rows[1][e], rows[2][e], rows[3][e]], on the stack.
 */
export function emitTranspose4(f: CodeBuilder, rows: number[], t: number[],
  use: (e: number, push: () => void) => void): void {
  f.localGet(rows[0]).localGet(rows[1]).i8x16Shuffle(LO_PAIRS).localSet(t[0]); // [r0.0 r1.0 r0.1 r1.1]
  f.localGet(rows[0]).localGet(rows[1]).i8x16Shuffle(HI_PAIRS).localSet(t[1]); // [r0.2 r1.2 r0.3 r1.3]
  f.localGet(rows[2]).localGet(rows[3]).i8x16Shuffle(LO_PAIRS).localSet(t[2]);
  f.localGet(rows[2]).localGet(rows[3]).i8x16Shuffle(HI_PAIRS).localSet(t[3]);
  // column e joins the low (even e) or high (odd e) halves of t[e >> 1] and t[2 + (e >> 1)]
  for (let e = 0; e < 4; e++) {
    use(e, () => f.localGet(t[e >> 1]).localGet(t[2 + (e >> 1)]).i8x16Shuffle(e & 1 ? HI_HALVES : LO_HALVES));
  }
}

/** Builds one function body, one instruction per call. Locals are numbered params first, then declared locals. */
export class CodeBuilder {
  readonly bytes: number[] = [];
  private readonly localDecls: ValType[] = [];

  constructor(private readonly paramCount: number) {}

  /** Declares a new local of the given type and returns its index. */
  local(type: ValType): number {
    this.localDecls.push(type);
    return this.paramCount + this.localDecls.length - 1;
  }

  block(): this { this.bytes.push(Op.block, BLOCK_EMPTY); return this; }
  loop(): this { this.bytes.push(Op.loop, BLOCK_EMPTY); return this; }
  /** Branch to the label `depth` levels out (0 = innermost block/loop). For a loop that means "continue". */
  br(depth: number): this { this.bytes.push(Op.br, ...uleb128(depth)); return this; }
  brIf(depth: number): this { this.bytes.push(Op.br_if, ...uleb128(depth)); return this; }
  end(): this { this.bytes.push(Op.end); return this; }

  localGet(i: number): this { this.bytes.push(Op.local_get, ...uleb128(i)); return this; }
  localSet(i: number): this { this.bytes.push(Op.local_set, ...uleb128(i)); return this; }
  localTee(i: number): this { this.bytes.push(Op.local_tee, ...uleb128(i)); return this; }

  i32Const(v: number): this { this.bytes.push(Op.i32_const, ...sleb128(v)); return this; }
  i32Eqz(): this { this.bytes.push(Op.i32_eqz); return this; }
  i32GtU(): this { this.bytes.push(Op.i32_gt_u); return this; }
  i32GeU(): this { this.bytes.push(Op.i32_ge_u); return this; }
  i32Add(): this { this.bytes.push(Op.i32_add); return this; }
  i32Sub(): this { this.bytes.push(Op.i32_sub); return this; }
  i32Mul(): this { this.bytes.push(Op.i32_mul); return this; }
  i32And(): this { this.bytes.push(Op.i32_and); return this; }
  i32Shl(): this { this.bytes.push(Op.i32_shl); return this; }
  i32ShrU(): this { this.bytes.push(Op.i32_shr_u); return this; }
  i32LtS(): this { this.bytes.push(Op.i32_lt_s); return this; }
  i32Ne(): this { this.bytes.push(Op.i32_ne); return this; }
  /** Scalar loads/stores: memarg = alignment (log2 bytes), constant byte offset. */
  i32Load(offset = 0): this { this.bytes.push(Op.i32_load, 2, ...uleb128(offset)); return this; }
  f32Load(offset = 0): this { this.bytes.push(Op.f32_load, 2, ...uleb128(offset)); return this; }
  f32Store(offset = 0): this { this.bytes.push(Op.f32_store, 2, ...uleb128(offset)); return this; }
  f64Store(offset = 0): this { this.bytes.push(Op.f64_store, 3, ...uleb128(offset)); return this; }
  f32Eq(): this { this.bytes.push(Op.f32_eq); return this; }
  f32Gt(): this { this.bytes.push(Op.f32_gt); return this; }
  f32Add(): this { this.bytes.push(Op.f32_add); return this; }
  f32Div(): this { this.bytes.push(Op.f32_div); return this; }
  f32Max(): this { this.bytes.push(Op.f32_max); return this; }
  f64ConvertI32U(): this { this.bytes.push(Op.f64_convert_i32_u); return this; }
  f64PromoteF32(): this { this.bytes.push(Op.f64_promote_f32); return this; }
  /** if (no result) ... [else ...] end: pops an i32 condition. */
  if(): this { this.bytes.push(Op.if, BLOCK_EMPTY); return this; }
  else(): this { this.bytes.push(Op.else); return this; }
  /** select: [a, b, cond] -> cond ? a : b. */
  select(): this { this.bytes.push(Op.select); return this; }

  /** Memory instructions take a memarg: alignment as log2 bytes, then a constant byte offset (Wasm §5.4.6). */
  v128Load(offset: number): this { return this.simd(SimdOp.v128_load, [4, offset]); }
  v128Load32Splat(offset: number): this { return this.simd(SimdOp.v128_load32_splat, [2, offset]); }
  v128Store(offset: number): this { return this.simd(SimdOp.v128_store, [4, offset]); }
  /** [address, v128] -> the v128 with 16-bit lane `lane` (of 8) replaced by the 16 bits at address + offset. */
  v128Load16Lane(offset: number, lane: number): this {
    this.simd(SimdOp.v128_load16_lane, [1, offset]);
    this.bytes.push(lane);
    return this;
  }
  /** [address, v128] -> the v128 with lane `lane` replaced by the 32 bits at address + offset. */
  v128Load32Lane(offset: number, lane: number): this {
    this.simd(SimdOp.v128_load32_lane, [2, offset]);
    this.bytes.push(lane);
    return this;
  }
  /** Stores lane `lane` (f32) of a v128 at address + offset. */
  v128Store32Lane(offset: number, lane: number): this {
    this.simd(SimdOp.v128_store32_lane, [2, offset]);
    this.bytes.push(lane);
    return this;
  }
  /** v128.const with four float32 lanes. */
  v128ConstF32(v0: number, v1 = v0, v2 = v0, v3 = v0): this {
    this.simd(SimdOp.v128_const);
    this.bytes.push(...new Uint8Array(new Float32Array([v0, v1, v2, v3]).buffer));
    return this;
  }
  /** v128.const with four int32 lanes. */
  v128ConstI32(v0: number, v1 = v0, v2 = v0, v3 = v0): this {
    this.simd(SimdOp.v128_const);
    this.bytes.push(...new Uint8Array(new Int32Array([v0, v1, v2, v3]).buffer));
    return this;
  }
  /** [a, b] -> the 16 bytes picked by `lanes` from a's bytes (0-15) and b's (16-31). */
  i8x16Shuffle(lanes: number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) {
      throw new Error(`i8x16.shuffle: 16 lane indices in 0..31 expected, got [${lanes.join(', ')}]`);
    }
    this.simd(SimdOp.i8x16_shuffle);
    this.bytes.push(...lanes);
    return this;
  }
  i32x4Splat(): this { return this.simd(SimdOp.i32x4_splat); }
  f32x4Splat(): this { return this.simd(SimdOp.f32x4_splat); }
  f64x2Splat(): this { return this.simd(SimdOp.f64x2_splat); }
  f32x4ExtractLane(lane: number): this { this.simd(SimdOp.f32x4_extract_lane); this.bytes.push(lane); return this; }
  f64x2ExtractLane(lane: number): this { this.simd(SimdOp.f64x2_extract_lane); this.bytes.push(lane); return this; }
  i32x4LtS(): this { return this.simd(SimdOp.i32x4_lt_s); }
  i32x4GeS(): this { return this.simd(SimdOp.i32x4_ge_s); }
  f32x4Eq(): this { return this.simd(SimdOp.f32x4_eq); }
  f32x4Lt(): this { return this.simd(SimdOp.f32x4_lt); }
  v128And(): this { return this.simd(SimdOp.v128_and); }
  /** bitselect: [a, b, mask] -> (a & mask) | (b & ~mask). */
  v128Bitselect(): this { return this.simd(SimdOp.v128_bitselect); }
  f32x4Nearest(): this { return this.simd(SimdOp.f32x4_nearest); }
  i32x4Shl(): this { return this.simd(SimdOp.i32x4_shl); }
  i32x4Add(): this { return this.simd(SimdOp.i32x4_add); }
  i32x4TruncSatF32x4S(): this { return this.simd(SimdOp.i32x4_trunc_sat_f32x4_s); }
  f32x4Add(): this { return this.simd(SimdOp.f32x4_add); }
  f32x4Sub(): this { return this.simd(SimdOp.f32x4_sub); }
  f32x4Mul(): this { return this.simd(SimdOp.f32x4_mul); }
  f32x4Div(): this { return this.simd(SimdOp.f32x4_div); }
  f32x4Min(): this { return this.simd(SimdOp.f32x4_min); }
  f32x4Max(): this { return this.simd(SimdOp.f32x4_max); }
  f32x4Pmin(): this { return this.simd(SimdOp.f32x4_pmin); }
  f32x4Pmax(): this { return this.simd(SimdOp.f32x4_pmax); }
  f32x4Sqrt(): this { return this.simd(SimdOp.f32x4_sqrt); }
  /** Loads 8 bytes into the low half of a v128 (high half zero). */
  v128Load64Zero(offset: number): this { return this.simd(SimdOp.v128_load64_zero, [3, offset]); }
  /** Stores the 8-byte lane `lane` of a v128. */
  v128Store64Lane(offset: number, lane: number): this {
    this.simd(SimdOp.v128_store64_lane, [3, offset]);
    this.bytes.push(lane);
    return this;
  }
  /** v128.const with two float64 lanes. */
  v128ConstF64(v0: number, v1 = v0): this {
    this.simd(SimdOp.v128_const);
    this.bytes.push(...new Uint8Array(new Float64Array([v0, v1]).buffer));
    return this;
  }
  /** v128.const with two int64 lanes (each given as a safe integer). */
  v128ConstI64(v: number): this {
    this.simd(SimdOp.v128_const);
    this.bytes.push(...new Uint8Array(new BigInt64Array([BigInt(v), BigInt(v)]).buffer));
    return this;
  }
  f32x4DemoteF64x2Zero(): this { return this.simd(SimdOp.f32x4_demote_f64x2_zero); }
  f64x2PromoteLowF32x4(): this { return this.simd(SimdOp.f64x2_promote_low_f32x4); }
  f64x2Nearest(): this { return this.simd(SimdOp.f64x2_nearest); }
  i64x2ExtendLowI32x4S(): this { return this.simd(SimdOp.i64x2_extend_low_i32x4_s); }
  i64x2Shl(): this { return this.simd(SimdOp.i64x2_shl); }
  i64x2Add(): this { return this.simd(SimdOp.i64x2_add); }
  f64x2Sqrt(): this { return this.simd(SimdOp.f64x2_sqrt); }
  f64x2Add(): this { return this.simd(SimdOp.f64x2_add); }
  f64x2Sub(): this { return this.simd(SimdOp.f64x2_sub); }
  f64x2Mul(): this { return this.simd(SimdOp.f64x2_mul); }
  f64x2Div(): this { return this.simd(SimdOp.f64x2_div); }
  f64x2Min(): this { return this.simd(SimdOp.f64x2_min); }
  f64x2Max(): this { return this.simd(SimdOp.f64x2_max); }
  f64x2Pmin(): this { return this.simd(SimdOp.f64x2_pmin); }
  f64x2Pmax(): this { return this.simd(SimdOp.f64x2_pmax); }
  i32x4TruncSatF64x2SZero(): this { return this.simd(SimdOp.i32x4_trunc_sat_f64x2_s_zero); }
  /** relaxed SIMD: [a, b, c] -> a·b + c (see SimdOp). Only valid where the engine has relaxed SIMD. */
  f32x4RelaxedMadd(): this { return this.simd(SimdOp.f32x4_relaxed_madd); }
  /** f32.const with a float32 immediate (4 bytes little-endian). Only needed for zero here. */
  f32Const(v: number): this {
    const buf = new Uint8Array(new Float32Array([v]).buffer);
    this.bytes.push(0x43, ...buf);
    return this;
  }

  private simd(op: number, memarg?: [number, number]): this {
    this.bytes.push(SIMD_PREFIX, ...uleb128(op));
    if (memarg) this.bytes.push(...uleb128(memarg[0]), ...uleb128(memarg[1]));
    return this;
  }

  /** The function's code entry: size, local declarations (run-length groups), body, end. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const t of this.localDecls) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...uleb128(groups.length), ...groups.flatMap(([n, t]) => [...uleb128(n), t]), ...this.bytes, Op.end];
    return [...uleb128(body.length), ...body];
  }
}

/** A vector (Wasm §5.1.3): element count then the elements. */
function vec(items: number[][]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

/** A section: id, byte size, contents. */
function section(id: number, contents: number[]): number[] {
  return [id, ...uleb128(contents.length), ...contents];
}

/** Section ids (Wasm §5.5.2). */
const Section = { type: 1, function: 3, memory: 5, export: 7, code: 10 } as const;
/** Export kinds (Wasm §5.5.10). */
const ExportKind = { func: 0x00, memory: 0x02 } as const;

export interface FunctionDef {
  name: string;
  params: ValType[];
  code: CodeBuilder;
}

/** A module with one exported memory ("memory", `initialPages` × 64 KiB, growable) and the given exported functions (no results). */
export function encodeModule(functions: FunctionDef[], initialPages: number): Uint8Array<ArrayBuffer> {
  const name = (s: string) => { const b = [...new TextEncoder().encode(s)]; return [...uleb128(b.length), ...b]; };
  // One function type per function: 0x60 params results (Wasm §5.3.6); no results.
  const types = functions.map((f) => [0x60, ...uleb128(f.params.length), ...f.params, ...uleb128(0)]);
  const funcs = functions.map((_, i) => uleb128(i));
  // Memory limits with no maximum: flag 0x00, min (Wasm §5.3.8).
  const memories = [[0x00, ...uleb128(initialPages)]];
  const exports = [
    [...name('memory'), ExportKind.memory, ...uleb128(0)],
    ...functions.map((f, i) => [...name(f.name), ExportKind.func, ...uleb128(i)]),
  ];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, // magic "\0asm"
    0x01, 0x00, 0x00, 0x00, // version 1
    ...section(Section.type, vec(types)),
    ...section(Section.function, vec(funcs)),
    ...section(Section.memory, vec(memories)),
    ...section(Section.export, vec(exports)),
    ...section(Section.code, vec(functions.map((f) => f.code.encode()))),
  ];
  return new Uint8Array(bytes);
}
