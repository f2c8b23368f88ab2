// rows.wgsl.ts — embedding lookup gatherRows and its backward scatterAddRows.
//   SCATTER = false: out[i, d] = table[ids[i], d]        (0 for an id outside [0, V))
//   SCATTER = true:  out[ids[i], d] += g[i, d]           (out zero-filled first)
// One thread per (i, d). Several rows i may share an id, so the scatter adds with a compare-and-swap loop
// on the float's bit pattern (WGSL has no float atomics). The summation order is therefore not fixed;
// any order stays within gamma_n * sum |g| of the exact sum (n = rows sharing the id).

import { wgslMainPerThread } from './templates.js';

export const ROWS_WGSL = /* wgsl */ `
override SCATTER: bool = false;

struct Params { n: u32, D: u32, V: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;          // table [V, D] or g [n, D]
@group(0) @binding(2) var<storage, read> Ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> Out: array<atomic<u32>>;

${wgslMainPerThread('e')}
  if (e >= p.n * p.D) { return; }
  let i = e / p.D;
  let d = e % p.D;
  let id = Ids[i];
  let valid = id >= 0 && u32(id) < p.V;
  if (!SCATTER) {
    var v = 0.0;
    if (valid) { v = X[u32(id) * p.D + d]; }
    atomicStore(&Out[e], bitcast<u32>(v));
    return;
  }
  if (!valid) { return; }
  let g = X[e];
  let dst = u32(id) * p.D + d;
  var old = atomicLoad(&Out[dst]);
  loop {
    let res = atomicCompareExchangeWeak(&Out[dst], old, bitcast<u32>(bitcast<f32>(old) + g));
    if (res.exchanged) { break; }
    old = res.old_value;
  }
}
`;
