// where.wgsl.ts — out[o] = cond[ic] != 0 ? a[ia] : b[ib] with broadcasting, float32.
//
// One thread per output element o (256 per workgroup, folded 2-D grid), indexed as in binary.wgsl.ts: o as
// a multi-index over the output shape (rank <= 8), dotted with each operand's broadcast strides.

import { wgslMainPerThread, wgslStridedOffsets } from './templates.js';

export const WHERE_WGSL = /* wgsl */ `
struct Params {
  n: u32, rank: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>,
  sc: array<vec4<u32>, 2>,
  sa: array<vec4<u32>, 2>,
  sb: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> C: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> Out: array<f32>;

${wgslMainPerThread('o')}
  if (o >= p.n) { return; }
${wgslStridedOffsets('o', [['ic', 'sc'], ['ia', 'sa'], ['ib', 'sb']])}
  Out[o] = select(B[ib], A[ia], C[ic] != 0.0);
}
`;
