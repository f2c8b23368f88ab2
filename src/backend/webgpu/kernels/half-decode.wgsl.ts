// half-decode.wgsl.ts — the WGSL functions every 16-bit kernel shares (a template pasted into each kernel).
//
// A 16-bit storage (bfloat16 or float16, src/tensor/dtype.ts) is an array<u32> holding two values per word:
// element i is the low half of word i/2 when i is even, the high half when odd (the little-endian byte order
// of a Uint16Array, so the host uploads its words as they are). HALF_FORMAT picks the format, by the names of
// HALF_FORMATS (kernels/templates.ts conventions): HALF_BFLOAT16 (the top half of a float32: bits << 16) or
// HALF_FLOAT16 (unpack2x16float, exact). Decoding is exact either way.

import { wgslCodes } from './templates.js';

export const HALF_FORMATS = { bfloat16: 0, float16: 1 } as const;

export const HALF_DECODE_WGSL = /* wgsl */ `
${wgslCodes('HALF', HALF_FORMATS)}
override HALF_FORMAT: u32 = HALF_BFLOAT16;

// the 16-bit pattern of element i, given the word W[i / 2] that holds it
fn halfBits(word: u32, i: u32) -> u32 {
  return select(word & 0xffffu, word >> 16u, (i & 1u) == 1u);
}

// the float32 value of a 16-bit pattern
fn halfValue(bits: u32) -> f32 {
  if (HALF_FORMAT == HALF_BFLOAT16) { return bitcast<f32>(bits << 16u); }
  return unpack2x16float(bits).x;   // HALF_FLOAT16
}
`;
