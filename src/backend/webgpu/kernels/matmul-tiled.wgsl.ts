// matmul-tiled.wgsl.ts — batched matmul with shared-memory tiles and 4x4 register blocking.
//
// Tiling (shared-memory tiles, then register blocks and vec4 tiles: the rungs after matmul-naive.wgsl.ts
// of the usual GPU matmul ladder): a workgroup of 16x16 threads computes a 64x64 tile of C for one batch
// entry (workgroup_id.z). Thread (tx, ty) owns the 4x4 block C[row0 + 4ty + i, col0 + 4tx + j], i, j < 4,
// held in four vec4 accumulators (one per row). K is walked in steps of TK = 16:
//   1. the 256 threads stage A[64 rows x 16 k] and B[16 k x 64 cols] in workgroup memory, each thread
//      loading one vec4 slot (4 values) of each; out-of-range elements are loaded as 0, which makes the
//      kernel correct for any M, N, K (no divisibility needed);
//   2. barrier; for each of the 16 k, a thread reads one vec4 of A (its 4 rows) and one vec4 of B (its 4
//      columns) and does 16 multiply-adds (4 vec4 FMAs) — 2 shared loads per 16 FMAs;
//   3. barrier, next K step.
// Workgroup memory: 2 x 256 vec4 = 8 KiB (well under the 16 KiB default limit).
// Transposes are compile-time overrides: loads pick the index order so that consecutive threads read
// consecutive addresses in either layout.

export const MATMUL_TILED_WGSL = /* wgsl */ `
override TRANS_A: bool = false;   // A_b stored [K, M] instead of [M, K]
override TRANS_B: bool = false;   // B_b stored [N, K] instead of [K, N]

const TILE = 64u;   // output tile is TILE x TILE
const TK = 16u;     // K step

struct Params { M: u32, N: u32, K: u32, batch: u32, aStride: u32, bStride: u32, cStride: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

// As[k * 16 + r4] = op(A)[row0 + 4 r4 + (0..3), k0 + k];  Bs[k * 16 + c4] = op(B)[k0 + k, col0 + 4 c4 + (0..3)]
var<workgroup> As: array<vec4<f32>, 256>;
var<workgroup> Bs: array<vec4<f32>, 256>;

fn readA(off: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return A[off + k * p.M + m]; }
  return A[off + m * p.K + k];
}

fn readB(off: u32, k: u32, n: u32) -> f32 {
  if (k >= p.K || n >= p.N) { return 0.0; }
  if (TRANS_B) { return B[off + n * p.K + k]; }
  return B[off + k * p.N + n];
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let aOff = wid.z * p.aStride;
  let bOff = wid.z * p.bStride;
  let tid = lid.y * 16u + lid.x;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    // Stage A: slot (k, r4). Row-major A is contiguous along k, [K, M] storage along m.
    var ak = tid % 16u; var ar = tid / 16u;
    if (TRANS_A) { ak = tid / 16u; ar = tid % 16u; }
    let m = row0 + 4u * ar;
    As[ak * 16u + ar] = vec4<f32>(readA(aOff, m, k0 + ak), readA(aOff, m + 1u, k0 + ak),
                                  readA(aOff, m + 2u, k0 + ak), readA(aOff, m + 3u, k0 + ak));
    // Stage B: slot (k, c4). Row-major B is contiguous along n, [N, K] storage along k.
    var bk = tid / 16u; var bc = tid % 16u;
    if (TRANS_B) { bk = tid % 16u; bc = tid / 16u; }
    let n = col0 + 4u * bc;
    Bs[bk * 16u + bc] = vec4<f32>(readB(bOff, k0 + bk, n), readB(bOff, k0 + bk, n + 1u),
                                  readB(bOff, k0 + bk, n + 2u), readB(bOff, k0 + bk, n + 3u));
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let a = As[k * 16u + lid.y];   // rows 4ty..4ty+3 at this k
      let b = Bs[k * 16u + lid.x];   // cols 4tx..4tx+3 at this k
      acc0 = fma(vec4<f32>(a.x), b, acc0);
      acc1 = fma(vec4<f32>(a.y), b, acc1);
      acc2 = fma(vec4<f32>(a.z), b, acc2);
      acc3 = fma(vec4<f32>(a.w), b, acc3);
    }
    workgroupBarrier();
  }

  let cOff = wid.z * p.cStride;
  let col = col0 + 4u * lid.x;
  let rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + 4u * lid.y + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (col + j < p.N) { C[cOff + row * p.N + col + j] = rows[i][j]; }
    }
  }
}
`;
