// attention-backward-dq.wgsl.ts — dQ of the fused attention (FlashAttention-2 backward, query-parallel part).
//
// Same tiling as the forward (attention-forward.wgsl.ts): one thread per query row, 64 queries per
// workgroup, K and V staged in tiles of KT keys. Probabilities are recomputed from the saved log-sum-exp:
//   P_tj  = exp(scale q_t . k_j - lse_t)
//   dP_tj = dO_t . v_j
//   dS_tj = P_tj (dP_tj - Delta_t)                         (Delta from attention-backward-delta)
//   dq_t  = scale * sum_j dS_tj k_j
// Empty ranges give dq = 0.

import { attentionTileRows, wgslQueryRanges, wgslRow4, wgslStageKeyTile } from './attention-forward.wgsl.js';

export function attentionDqWgsl(headDim: number): string {
  return /* wgsl */ `
const D = ${headDim}u;
const D4 = ${Math.ceil(headDim / 4)}u;
const WG = 64u;
const KT = ${attentionTileRows(headDim)}u;   // rows per staged tile (attentionTileRows)

struct Params { B: u32, Tq: u32, Tk: u32, Hq: u32, Hkv: u32, scale: f32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> dO: array<f32>;
@group(0) @binding(5) var<storage, read> LSE: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
@group(0) @binding(7) var<storage, read> kvStart: array<i32>;
@group(0) @binding(8) var<storage, read> kvEnd: array<i32>;
@group(0) @binding(9) var<storage, read_write> dQ: array<f32>;

var<workgroup> Ks: array<vec4<f32>, KT * D4>;
var<workgroup> Vs: array<vec4<f32>, KT * D4>;
var<workgroup> ranges: array<vec2<u32>, WG>;
var<workgroup> tileRange: vec2<u32>;

${wgslRow4('row4Q', 'Q')}
${wgslRow4('row4dO', 'dO')}
${wgslRow4('row4K', 'K')}
${wgslRow4('row4V', 'V')}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = wid.x * WG + lid.x;
  let h = wid.y;
  let b = wid.z;
  let hk = h / (p.Hq / p.Hkv);
${wgslQueryRanges()}

  let tc = min(t, p.Tq - 1u);
  let qBase = ((b * p.Tq + tc) * p.Hq + h) * D;
  let li = (b * p.Hq + h) * p.Tq + tc;
  let lse = LSE[li];
  let dlt = delta[li];
  var q: array<vec4<f32>, D4>;
  var g: array<vec4<f32>, D4>;    // dO row
  var dq: array<vec4<f32>, D4>;
  for (var e4 = 0u; e4 < D4; e4++) {
    q[e4] = p.scale * row4Q(qBase, e4);
    g[e4] = row4dO(qBase, e4);
    dq[e4] = vec4<f32>(0.0);
  }

  for (var j0 = range.x; j0 < range.y; j0 += KT) {
${wgslStageKeyTile('row4K', 'row4V')}
    let jhi = min(end, j0 + KT);
    for (var j = max(start, j0); j < jhi; j++) {
      let jj = j - j0;
      var sAcc = vec4<f32>(0.0);
      var dpAcc = vec4<f32>(0.0);
      for (var e4 = 0u; e4 < D4; e4++) {
        sAcc = fma(q[e4], Ks[jj * D4 + e4], sAcc);
        dpAcc = fma(g[e4], Vs[jj * D4 + e4], dpAcc);
      }
      let P = exp(sAcc.x + sAcc.y + sAcc.z + sAcc.w - lse);
      let dS = P * (dpAcc.x + dpAcc.y + dpAcc.z + dpAcc.w - dlt);
      for (var e4 = 0u; e4 < D4; e4++) { dq[e4] = fma(vec4<f32>(dS), Ks[jj * D4 + e4], dq[e4]); }
    }
    workgroupBarrier();
  }

  if (t >= p.Tq) { return; }
  for (var e4 = 0u; e4 < D4; e4++) {
    let r = p.scale * dq[e4];
    for (var c = 0u; c < 4u; c++) { if (4u * e4 + c < D) { dQ[qBase + 4u * e4 + c] = r[c]; } }
  }
}
`;
}
