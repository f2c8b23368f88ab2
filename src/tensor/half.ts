/**
 * 16-bit floats as bit patterns (Uint16Array words) and their conversion to and from float32.
 *
 *   bfloat16: the top half of a float32 (1 sign, 8 exponent, 7 mantissa bits): value = f32(bits << 16)
 *   float16:  IEEE binary16 (1 sign, 5 exponent, 10 mantissa bits)
 *
 * float32 -> 16 bits rounds to nearest, ties to even (as PyTorch's `.to(torch.bfloat16)` and `.half()` do),
 * overflows to ±Infinity, and keeps NaN a NaN (bfloat16: PyTorch's canonical 0x7FC0; float16: a quiet NaN with
 * the sign kept). 16 bits -> float32 is exact. Used by checkpoint reading and writing (src/io) and by the
 * backends, which keep 16-bit weights as stored and compute in float32.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** bfloat16 bits -> float32 value (exact). */
export function bf16ToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** float32 value -> bfloat16 bits, round to nearest even; any NaN -> 0x7FC0. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  if ((b & 0x7fffffff) > 0x7f800000) return 0x7fc0;
  // add 0x7fff plus the lowest kept bit: a remainder above half rounds up, exactly half rounds to even
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal: frac * 2^-10 * 2^-14
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let f16Table: Float32Array | null = null;

/** Lookup table: float16 bit pattern -> float32 value, built on first use (256 KiB). */
export function f16Table32(): Float32Array {
  if (f16Table === null) {
    f16Table = new Float32Array(65536);
    const bits = new Uint32Array(f16Table.buffer);
    for (let h = 0; h < 65536; h++) {
      // a NaN keeps its sign and payload (written as bits: JS would canonicalise a NaN number)
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) bits[h] = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13);
      else f16Table[h] = halfToFloat(h);
    }
  }
  return f16Table;
}

/** float16 bits -> float32 value (exact). */
export function f16ToF32(h: number): number {
  return f16Table32()[h & 0xffff];
}

/** float32 value -> float16 bits, round to nearest even; overflow -> ±Infinity; NaN stays NaN. */
export function f32ToF16(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // Infinity, or a quiet NaN
  const e = exp - 127 + 15; // float16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (e <= 0) {
    // float16 subnormal (or zero): value / 2^-24 = (1.mant) * 2^(exp-126), i.e. (mant | 2^23) >> (14 - e)
    if (e < -10) return sign; // below half of the smallest subnormal: ±0
    const m = mant | 0x800000, shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (half & 1) !== 0)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) !== 0)) half++; // a carry into the exponent is correct (up to Infinity)
  return sign | half;
}

/** The two 16-bit float formats. */
export type HalfFormat = 'bfloat16' | 'float16';

/** out[i] = value of the 16-bit word bits[i] (out may be longer; only bits.length values are written). */
export function halfToFloat32(format: HalfFormat, bits: Uint16Array, out: Float32Array, outOffset = 0): Float32Array {
  const n = bits.length;
  if (format === 'bfloat16') {
    const o = new Uint32Array(out.buffer, out.byteOffset + 4 * outOffset, n);
    for (let i = 0; i < n; i++) o[i] = bits[i] << 16;
  } else {
    const t = f16Table32();
    for (let i = 0; i < n; i++) out[outOffset + i] = t[bits[i]];
  }
  return out;
}

/** out[i] = 16-bit word of values[i], rounded to nearest even. */
export function float32ToHalf(format: HalfFormat, values: ArrayLike<number>, out = new Uint16Array(values.length)): Uint16Array {
  const n = values.length;
  if (format === 'bfloat16' && values instanceof Float32Array) {
    // the same rounding as f32ToBf16, on the float's bits directly (no scratch round trip per value)
    const b = new Uint32Array(values.buffer, values.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const w = b[i];
      out[i] = (w & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : (w + 0x7fff + ((w >>> 16) & 1)) >>> 16;
    }
  } else if (format === 'bfloat16') for (let i = 0; i < n; i++) out[i] = f32ToBf16(values[i]);
  else for (let i = 0; i < n; i++) out[i] = f32ToF16(values[i]);
  return out;
}
