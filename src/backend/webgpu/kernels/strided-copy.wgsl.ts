// strided-copy.wgsl.ts — the movement ops (permute, expand, slice, pad) as one strided copy of 32-bit words.
//
// One thread per element o of an iteration shape (rank <= 8), 256 per workgroup on a folded 2-D grid.
// Element o (row-major) has multi-index idx and strided offset s(o) = base + sum_d idx_d * stride_d.
// GATHER (permute/expand/slice) does out[o] = x[s(o)]; SCATTER (pad, into a zero-filled output) does
// out[s(o)] = x[o]. Values are copied as u32 bit patterns, so the same kernel moves float32 and int32
// tensors unchanged.

import { wgslMainPerThread, wgslStridedOffsets } from './templates.js';

export const STRIDED_COPY_WGSL = /* wgsl */ `
override SCATTER: bool = false;

struct Params {
  n: u32, rank: u32, base: u32, pad: u32,
  shape: array<vec4<u32>, 2>,
  stride: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Out: array<u32>;

${wgslMainPerThread('o')}
  if (o >= p.n) { return; }
${wgslStridedOffsets('o', [['s', 'stride', 'p.base']])}
  if (SCATTER) { Out[s] = X[o]; } else { Out[o] = X[s]; }
}
`;
