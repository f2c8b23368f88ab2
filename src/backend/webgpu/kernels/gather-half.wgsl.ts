// gather-half.wgsl.ts — embedding lookup from a 16-bit table (bfloat16 or float16, two values per u32:
// half-decode.wgsl.ts), as float32:
//   out[i, d] = value(table[ids[i], d])        (0 for an id outside [0, V))
// One thread per (i, d), folded 2-D grid.

import { HALF_DECODE_WGSL } from './half-decode.wgsl.js';
import { wgslMainPerThread } from './templates.js';

export const GATHER_HALF_WGSL = /* wgsl */ `
${HALF_DECODE_WGSL}
struct Params { n: u32, D: u32, V: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Table: array<u32>;     // [V, D] 16-bit values, two per word
@group(0) @binding(2) var<storage, read> Ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> Out: array<f32>;  // [n, D]

${wgslMainPerThread('e')}
  if (e >= p.n * p.D) { return; }
  let id = Ids[e / p.D];
  var v = 0.0;
  if (id >= 0 && u32(id) < p.V) {
    let j = u32(id) * p.D + e % p.D;
    v = halfValue(halfBits(Table[j >> 1u], j));
  }
  Out[e] = v;
}
`;
