// matmul-vec4.wgsl.ts — batched matmul with 8x8 register blocks and vec4 loads, no workgroup memory.
//
// Tiling (the style of the wonnx and surfgrad WebGPU matmuls: register tiles, no shared memory): thread (x, y) of batch z computes the 8x8 block
// C[8y .. 8y+7, 8x .. 8x+7] (an 8x8-thread workgroup covers a 64x64 tile). K is walked 4 at a time: the
// thread loads op(B)[k .. k+3, 8x .. 8x+7] as two mat4x4 `bl`, `br` (columns = rows of op(B)) and the 8 row
// pieces a_i = op(A)[8y + i, k .. k+3], reading each along whichever dimension is contiguous in memory
// (transposing 4x4 blocks in registers when needed), and does
//   left_i += bl * a_i ;  right_i += br * a_i      (i = 0..7)   = 256 multiply-adds per 16 vec4 loads.
// Reuse between threads comes from the caches instead of shared tiles, and there are no barriers. That
// suits CPU drivers such as SwiftShader, where a barrier switches coroutines (measured there on 512^3:
// 8x8 blocks ~1.5x faster than 8x4, ~3x faster than 4x4, and 2-4x faster than the shared-memory kernel);
// on GPUs matmul-tiled.wgsl.ts is the default. Requires every dimension read as vec4 to be a multiple of
// 4 (matmul.ts `vec4Ok`).

export const MATMUL_VEC4_WGSL = /* wgsl */ `
override TRANS_A: bool = false;   // A_b stored [K, M]
override TRANS_B: bool = false;   // B_b stored [N, K]

struct Params { M: u32, N: u32, K: u32, batch: u32, aStride: u32, bStride: u32, cStride: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4<f32>>;

// Out-of-range rows/columns are handled by CLAMPING their indices to the last valid row/column (the loads
// stay in bounds and branch-free; SwiftShader turns a data-dependent branch around a load into a slow
// masked load) and by not storing the results of clamped rows/columns.

// op(A)[r .. r+3, k .. k+3] as 4 rows: r is a multiple of 4 below M (TRANS_A), or rows[i] are the clamped
// row indices (row-major A).
fn blockA(aOff: u32, r: vec4<u32>, k: u32) -> mat4x4<f32> {
  if (TRANS_A) {
    // A stored [K, M]: row k+j holds m = r.x .. r.x+3 contiguously (M % 4 == 0); load and transpose.
    return transpose(mat4x4<f32>(
      A[(aOff + (k + 0u) * p.M + r.x) / 4u], A[(aOff + (k + 1u) * p.M + r.x) / 4u],
      A[(aOff + (k + 2u) * p.M + r.x) / 4u], A[(aOff + (k + 3u) * p.M + r.x) / 4u]));
  }
  return mat4x4<f32>(A[(aOff + r.x * p.K + k) / 4u], A[(aOff + r.y * p.K + k) / 4u],
                     A[(aOff + r.z * p.K + k) / 4u], A[(aOff + r.w * p.K + k) / 4u]);
}

// op(B)[k .. k+3, c .. c+3] as a mat4x4 whose column j is row k+j of op(B); c .. c+3 are valid columns.
fn blockB(bOff: u32, c: u32, k: u32) -> mat4x4<f32> {
  if (TRANS_B) {
    // B stored [N, K]: row c+i holds k .. k+3 contiguously; load and transpose.
    return transpose(mat4x4<f32>(
      B[(bOff + (c + 0u) * p.K + k) / 4u], B[(bOff + (c + 1u) * p.K + k) / 4u],
      B[(bOff + (c + 2u) * p.K + k) / 4u], B[(bOff + (c + 3u) * p.K + k) / 4u]));
  }
  return mat4x4<f32>(B[(bOff + (k + 0u) * p.N + c) / 4u], B[(bOff + (k + 1u) * p.N + c) / 4u],
                     B[(bOff + (k + 2u) * p.N + c) / 4u], B[(bOff + (k + 3u) * p.N + c) / 4u]);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = 8u * gid.y;
  let col0 = 8u * gid.x;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let aOff = gid.z * p.aStride;
  let bOff = gid.z * p.bStride;
  // Clamped indices: rows 0..7 of the block (row-major A) or the two 4-row groups (TRANS_A, M % 4 == 0),
  // and the right column group (N % 4 == 0, so col0 + 4 is either valid or clamped to N - 4).
  let last = p.M - 1u;
  let top = min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(last));
  var bottom = min(vec4<u32>(row0) + vec4<u32>(4u, 5u, 6u, 7u), vec4<u32>(last));
  if (TRANS_A) { bottom = vec4<u32>(min(row0 + 4u, p.M - 4u)); }
  let colR = min(col0 + 4u, p.N - 4u);
  // l_i = C[row0 + i, col0 .. col0+3], r_i = C[row0 + i, col0+4 .. col0+7]
  var l0 = vec4<f32>(0.0); var l1 = vec4<f32>(0.0); var l2 = vec4<f32>(0.0); var l3 = vec4<f32>(0.0);
  var l4 = vec4<f32>(0.0); var l5 = vec4<f32>(0.0); var l6 = vec4<f32>(0.0); var l7 = vec4<f32>(0.0);
  var r0 = vec4<f32>(0.0); var r1 = vec4<f32>(0.0); var r2 = vec4<f32>(0.0); var r3 = vec4<f32>(0.0);
  var r4 = vec4<f32>(0.0); var r5 = vec4<f32>(0.0); var r6 = vec4<f32>(0.0); var r7 = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k += 4u) {
    let bl = blockB(bOff, col0, k);
    let br = blockB(bOff, colR, k);
    let a = blockA(aOff, top, k);
    let b = blockA(aOff, bottom, k);
    l0 += bl * a[0]; r0 += br * a[0];
    l1 += bl * a[1]; r1 += br * a[1];
    l2 += bl * a[2]; r2 += br * a[2];
    l3 += bl * a[3]; r3 += br * a[3];
    l4 += bl * b[0]; r4 += br * b[0];
    l5 += bl * b[1]; r5 += br * b[1];
    l6 += bl * b[2]; r6 += br * b[2];
    l7 += bl * b[3]; r7 += br * b[3];
  }
  let cOff = gid.z * p.cStride;
  let left = array<vec4<f32>, 8>(l0, l1, l2, l3, l4, l5, l6, l7);
  let right = array<vec4<f32>, 8>(r0, r1, r2, r3, r4, r5, r6, r7);
  for (var i = 0u; i < 8u; i++) {
    if (row0 + i < p.M) {
      C[(cOff + (row0 + i) * p.N + col0) / 4u] = left[i];
      if (col0 + 4u < p.N) { C[(cOff + (row0 + i) * p.N + col0 + 4u) / 4u] = right[i]; }
    }
  }
}
`;
