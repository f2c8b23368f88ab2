// attention-backward-delta.wgsl.ts — first step of the fused attention backward (FlashAttention-2, Alg. 2):
//   Delta[b, h, t] = sum_d dOut[b, t, h, d] * out[b, t, h, d]      (= rowsum(dO ∘ O) = sum_j P_tj dP_tj)
// One thread per (b, t, h) row; the 1-D launch is folded into 2-D (dispatch.ts).
// Delta has the layout of lse: [B, Hq, Tq].

export const ATTENTION_DELTA_WGSL = /* wgsl */ `
struct Params { B: u32, Tq: u32, Hq: u32, D: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> O: array<f32>;
@group(0) @binding(2) var<storage, read> dO: array<f32>;
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = (wid.y * nwg.x + wid.x) * 64u + lid.x;   // row = (b * Tq + t) * Hq + h
  if (row >= p.B * p.Tq * p.Hq) { return; }
  var acc = 0.0;
  for (var e = 0u; e < p.D; e++) { acc = fma(dO[row * p.D + e], O[row * p.D + e], acc); }
  let h = row % p.Hq;
  let bt = row / p.Hq;
  let b = bt / p.Tq;
  let t = bt % p.Tq;
  delta[(b * p.Hq + h) * p.Tq + t] = acc;
}
`;
