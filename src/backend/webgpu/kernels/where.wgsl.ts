// where.wgsl.ts — out[o] = cond[ic] != 0 ? a[ia] : b[ib] with broadcasting (same indexing as binary.wgsl.ts).

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

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let o = (wid.y * nwg.x + wid.x) * 256u + lid.x;
  if (o >= p.n) { return; }
  var rem = o;
  var ic = 0u;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let size = p.shape[d / 4][d % 4];
    let idx = rem % size;
    rem = rem / size;
    ic += idx * p.sc[d / 4][d % 4];
    ia += idx * p.sa[d / 4][d % 4];
    ib += idx * p.sb[d / 4][d % 4];
  }
  Out[o] = select(B[ib], A[ia], C[ic] != 0.0);
}
`;
