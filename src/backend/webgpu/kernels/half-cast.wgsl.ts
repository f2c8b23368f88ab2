// half-cast.wgsl.ts — convert between float32 and a 16-bit format (two values per u32: half-decode.wgsl.ts).
//   MODE_UNPACK: out[i] = value(X[i])                      one thread per element i < n
//   MODE_PACK:   out word j = bits(X[2j]) | bits(X[2j+1]) << 16, the second 0 when 2j+1 = n
//                    one thread per output word j < ceil(n / 2)
// Packing rounds to nearest, ties to even, overflows to ±Infinity and keeps NaN a NaN (bfloat16: 0x7FC0), as
// src/tensor/half.ts does on the host (the same bit arithmetic), so both devices give the same words.

import { HALF_DECODE_WGSL } from './half-decode.wgsl.js';
import { wgslCodes, wgslMainPerThread } from './templates.js';

export const HALF_CAST_MODES = { unpack: 0, pack: 1 } as const;

export const HALF_CAST_WGSL = /* wgsl */ `
${wgslCodes('MODE', HALF_CAST_MODES)}
override MODE: u32 = MODE_UNPACK;
${HALF_DECODE_WGSL}
struct Params { n: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Out: array<u32>;

fn bf16Bits(b: u32) -> u32 {
  if ((b & 0x7fffffffu) > 0x7f800000u) { return 0x7fc0u; }
  return (b + 0x7fffu + ((b >> 16u) & 1u)) >> 16u;    // a remainder above half rounds up, exactly half to even
}

fn f16Bits(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let exp = i32((b >> 23u) & 0xffu);
  let mant = b & 0x7fffffu;
  if (exp == 255) { return sign | 0x7c00u | select(0u, 0x200u, mant != 0u); }   // Infinity, or a quiet NaN
  let e = exp - 112;                                                           // float16 biased exponent
  if (e >= 31) { return sign | 0x7c00u; }                                      // too large: Infinity
  if (e <= 0) {                                                                // subnormal or zero
    if (e < -10) { return sign; }
    let m = mant | 0x800000u;
    let shift = u32(14 - e);
    var h = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (h & 1u) == 1u)) { h += 1u; }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) { h += 1u; }     // a carry into the exponent is right
  return sign | h;
}

fn packBits(b: u32) -> u32 {
  if (HALF_FORMAT == HALF_BFLOAT16) { return bf16Bits(b); }
  return f16Bits(b);
}

${wgslMainPerThread('i')}
  if (MODE == MODE_UNPACK) {
    if (i >= p.n) { return; }
    Out[i] = bitcast<u32>(halfValue(halfBits(X[i >> 1u], i)));
    return;
  }
  // MODE_PACK
  if (2u * i >= p.n) { return; }
  var word = packBits(X[2u * i]);
  if (2u * i + 1u < p.n) { word = word | (packBits(X[2u * i + 1u]) << 16u); }
  Out[i] = word;
}
`;
