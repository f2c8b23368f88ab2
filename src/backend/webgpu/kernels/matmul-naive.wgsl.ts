// matmul-naive.wgsl.ts — the simplest correct batched matmul: one thread per output element.
//
// The backend never dispatches it (chooseMatmulVariant in matmul.ts picks tiled or vec4): it is kept as the
// readable reference the other two are read against, as the first rung of the benchmark ladder in
// bench/webgpu.ts (naive -> shared-memory tiles -> register blocks), and it is tested explicitly in
// spec/webgpu/matmul.spec.ts ("naive kernel ..."), which selects it with variant 'naive'.
// Thread (x, y) of batch z computes C[z, y, x] = sum_k op(A)[y, k] * op(B)[k, x], reading A and B straight
// from global memory (no reuse between threads, so it is memory-bound).

export const MATMUL_NAIVE_WGSL = /* wgsl */ `
override TRANS_A: bool = false;   // A_b stored [K, M] instead of [M, K]
override TRANS_B: bool = false;   // B_b stored [N, K] instead of [K, N]

struct Params { M: u32, N: u32, K: u32, batch: u32, aStride: u32, bStride: u32, cStride: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col = gid.x;
  let row = gid.y;
  let b = gid.z;
  if (row >= p.M || col >= p.N) { return; }
  let aOff = b * p.aStride;
  let bOff = b * p.bStride;
  var sum = 0.0;
  for (var k = 0u; k < p.K; k++) {
    var a: f32;
    if (TRANS_A) { a = A[aOff + k * p.M + row]; } else { a = A[aOff + row * p.K + k]; }
    var bv: f32;
    if (TRANS_B) { bv = B[bOff + col * p.K + k]; } else { bv = B[bOff + k * p.N + col]; }
    sum = fma(a, bv, sum);
  }
  C[b * p.cStride + row * p.N + col] = sum;
}
`;
