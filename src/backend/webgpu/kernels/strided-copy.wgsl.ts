// strided-copy.wgsl.ts — the movement ops (permute, expand, slice, pad) as one strided copy of 32-bit words.
//
// The kernel walks an iteration shape (rank <= 8) in row-major order; element o has multi-index idx and
// strided offset s(o) = base + sum_d idx_d * stride_d. GATHER (permute/expand/slice) does
// out[o] = x[s(o)]; SCATTER (pad, into a zero-filled output) does out[s(o)] = x[o]. Values are copied as
// u32 bit patterns, so the same kernel moves float32 and int32 tensors unchanged.

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

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = (wid.y * nwg.x + wid.x) * 256u + lid.x;
  if (o >= p.n) { return; }
  var rem = o;
  var s = p.base;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    s += (rem % size) * p.stride[d / 4][d % 4];
    rem = rem / size;
  }
  if (SCATTER) { Out[s] = X[o]; } else { Out[o] = X[s]; }
}
`;
