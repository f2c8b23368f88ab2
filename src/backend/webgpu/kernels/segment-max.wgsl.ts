// segment-max.wgsl.ts — segmentMax (max-pool rows into segments, e.g. bytes into patches) and its backward.
//
// x [N, D], seg int32 [N] (segment of each row, -1 = ignore) -> values [S, D], argmax int32 [S, D].
// Deterministic without float atomics, in three passes; the `override` MODE (codes in SEGMENT_MAX_MODES):
//   keys:      one thread per element (i, d): keys[s, d] = atomicMax over rows of segment s of key(x[i, d]),
//              where key() maps a float to a u32 whose unsigned order is the float order (flip all bits of
//              negatives, set the sign bit of the others); keys start at 0 = "empty", below every key.
//   firstArg:  one thread per element (i, d): arg[s, d] = atomicMin over rows i with key(x[i, d]) ==
//              keys[s, d] of i (the FIRST maximum); arg starts at i32 max.
//   values:    one thread per (s, d): values = decoded key (0 for an empty segment), arg -> -1 if empty.
//   backward:  one thread per (s, d): out[arg[s, d], d] = g[s, d] (out zero-filled). Each row belongs to
//              one segment, so no two threads write the same element.

import { wgslCodes, wgslMainPerThread } from './templates.js';

export const SEGMENT_MAX_MODES = { keys: 0, firstArg: 1, values: 2, backward: 3 } as const;

export const SEGMENT_MAX_WGSL = /* wgsl */ `
override MODE: u32;
${wgslCodes('MODE', SEGMENT_MAX_MODES)}

struct Params { N: u32, D: u32, S: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;          // x [N, D], or g [S, D] (backward)
@group(0) @binding(2) var<storage, read> Seg: array<i32>;
@group(0) @binding(3) var<storage, read_write> Keys: array<atomic<u32>>;
@group(0) @binding(4) var<storage, read_write> Arg: array<atomic<i32>>;
@group(0) @binding(5) var<storage, read_write> Out: array<f32>;   // values [S, D] or dx [N, D]

fn key(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
fn unkey(k: u32) -> f32 {
  return bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
}

${wgslMainPerThread('e')}
  let d = e % p.D;
  if (MODE == MODE_KEYS || MODE == MODE_FIRST_ARG) {
    if (e >= p.N * p.D) { return; }
    let s = Seg[e / p.D];
    if (s < 0 || u32(s) >= p.S) { return; }
    let o = u32(s) * p.D + d;
    if (MODE == MODE_KEYS) { atomicMax(&Keys[o], key(X[e])); }
    else if (key(X[e]) == atomicLoad(&Keys[o])) { atomicMin(&Arg[o], i32(e / p.D)); }
    return;
  }
  if (e >= p.S * p.D) { return; }
  if (MODE == MODE_VALUES) {
    let k = atomicLoad(&Keys[e]);
    Out[e] = select(unkey(k), 0.0, k == 0u);
    if (k == 0u) { atomicStore(&Arg[e], -1); }
  } else if (MODE == MODE_BACKWARD) {
    let i = atomicLoad(&Arg[e]);
    if (i >= 0) { Out[u32(i) * p.D + d] = X[e]; }
  }
}
`;
