// fill-cast.wgsl.ts — fill a buffer with one 32-bit pattern, or convert between float32 and int32.
//
// One thread per element i, folded 2-D grid; the `override` MODE (codes in FILL_CAST_MODES) picks:
//   fill:        out[i] = bits (the u32 pattern of the float32 or int32 value)
//   floatToInt:  out[i] = int32(x[i]), truncating toward zero (WGSL i32(f32) truncates; out-of-range clamps)
//   intToFloat:  out[i] = float32(x[i]) (round to nearest)
// X is unused by fill but always bound (pass any buffer).

import { wgslCodes, wgslMainPerThread } from './templates.js';

export const FILL_CAST_MODES = { fill: 0, floatToInt: 1, intToFloat: 2 } as const;

export const FILL_CAST_WGSL = /* wgsl */ `
override MODE: u32;
${wgslCodes('MODE', FILL_CAST_MODES)}

struct Params { n: u32, bits: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Out: array<u32>;

${wgslMainPerThread('i')}
  if (i >= p.n) { return; }
  switch MODE {
    case MODE_FILL: { Out[i] = p.bits; }
    case MODE_FLOAT_TO_INT: { Out[i] = bitcast<u32>(i32(bitcast<f32>(X[i]))); }
    case MODE_INT_TO_FLOAT, default: { Out[i] = bitcast<u32>(f32(bitcast<i32>(X[i]))); }
  }
}
`;
