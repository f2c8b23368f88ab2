// attention-backward-dkdv.wgsl.ts — dK and dV of the fused attention (FlashAttention-2 backward,
// key-parallel part).
//
// One thread per KEY row j of kv head hk (64 keys per workgroup); it keeps k_j, v_j and the accumulators
// dk_j, dv_j in registers and walks every query head h of its group (h / (Hq / Hkv) == hk) and every query
// tile of QT queries (16..64, see attentionTileRows), staged in workgroup memory with their lse, Delta and key ranges. A query tile
// none of whose ranges meets this workgroup's keys is skipped as a whole (causal and windowed masks skip
// most tiles). For each visible pair (query t, key j):
//   P_tj = exp(scale q_t . k_j - lse_t);  dv_j += P_tj dO_t
//   dS_tj = P_tj (dO_t . v_j - Delta_t);  dk_j += scale dS_tj q_t
// Summing over the group's heads inside the thread gives the GQA reduction without atomics.

import { attentionTileRows, wgslRow4 } from './attention-forward.wgsl.js';

export function attentionDkDvWgsl(headDim: number): string {
  return /* wgsl */ `
const D = ${headDim}u;
const D4 = ${Math.ceil(headDim / 4)}u;
const WG = 64u;    // keys per workgroup (one per thread)
const QT = ${attentionTileRows(headDim)}u;   // rows per staged tile (attentionTileRows)

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
@group(0) @binding(9) var<storage, read_write> dK: array<f32>;
@group(0) @binding(10) var<storage, read_write> dV: array<f32>;

var<workgroup> Qs: array<vec4<f32>, QT * D4>;    // scale * q of the tile's queries
var<workgroup> Gs: array<vec4<f32>, QT * D4>;    // dO of the tile's queries
var<workgroup> info: array<vec2<f32>, QT>;       // (lse, Delta) per query
var<workgroup> ranges: array<vec2<u32>, QT>;     // [start, end) per query
var<workgroup> anyVisible: u32;

${wgslRow4('row4Q', 'Q')}
${wgslRow4('row4K', 'K')}
${wgslRow4('row4V', 'V')}
${wgslRow4('row4dO', 'dO')}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j0 = wid.x * WG;
  let j = j0 + lid.x;
  let hk = wid.y;
  let b = wid.z;
  let G = p.Hq / p.Hkv;
  let jHi = min(j0 + WG, p.Tk);     // this workgroup's keys are [j0, jHi)

  let kBase = ((b * p.Tk + min(j, p.Tk - 1u)) * p.Hkv + hk) * D;
  var k: array<vec4<f32>, D4>;
  var v: array<vec4<f32>, D4>;
  var dk: array<vec4<f32>, D4>;
  var dv: array<vec4<f32>, D4>;
  for (var e4 = 0u; e4 < D4; e4++) {
    k[e4] = row4K(kBase, e4);
    v[e4] = row4V(kBase, e4);
    dk[e4] = vec4<f32>(0.0);
    dv[e4] = vec4<f32>(0.0);
  }

  for (var h = hk * G; h < (hk + 1u) * G; h++) {
    for (var t0 = 0u; t0 < p.Tq; t0 += QT) {
      // Per-query info for the tile; an out-of-range query gets an empty range.
      if (lid.x < QT) {
        let t = t0 + lid.x;
        var inf = vec2<f32>(0.0);
        var rng = vec2<u32>(0u);
        if (t < p.Tq) {
          let s = u32(clamp(kvStart[b * p.Tq + t], 0, i32(p.Tk)));
          let e = u32(clamp(kvEnd[b * p.Tq + t], i32(s), i32(p.Tk)));
          let li = (b * p.Hq + h) * p.Tq + t;
          inf = vec2<f32>(LSE[li], delta[li]);
          rng = vec2<u32>(s, e);
        }
        info[lid.x] = inf;
        ranges[lid.x] = rng;
      }
      workgroupBarrier();
      if (lid.x == 0u) {
        var visible = 0u;
        for (var i = 0u; i < QT; i++) {
          let r = ranges[i];
          if (max(r.x, j0) < min(r.y, jHi)) { visible = 1u; }
        }
        anyVisible = visible;
      }
      if (workgroupUniformLoad(&anyVisible) == 0u) { continue; }

      for (var s = lid.x; s < QT * D4; s += WG) {
        let t = t0 + s / D4;
        if (t < p.Tq) {
          let qBase = ((b * p.Tq + t) * p.Hq + h) * D;
          Qs[s] = p.scale * row4Q(qBase, s % D4);
          Gs[s] = row4dO(qBase, s % D4);
        } else {
          Qs[s] = vec4<f32>(0.0);
          Gs[s] = vec4<f32>(0.0);
        }
      }
      workgroupBarrier();
      if (j < p.Tk) {
        for (var i = 0u; i < QT; i++) {
          let r = ranges[i];
          if (j < r.x || j >= r.y) { continue; }
          let inf = info[i];
          var sAcc = vec4<f32>(0.0);
          var dpAcc = vec4<f32>(0.0);
          for (var e4 = 0u; e4 < D4; e4++) {
            sAcc = fma(Qs[i * D4 + e4], k[e4], sAcc);
            dpAcc = fma(Gs[i * D4 + e4], v[e4], dpAcc);
          }
          let P = exp(sAcc.x + sAcc.y + sAcc.z + sAcc.w - inf.x);
          let dS = P * (dpAcc.x + dpAcc.y + dpAcc.z + dpAcc.w - inf.y);
          for (var e4 = 0u; e4 < D4; e4++) {
            dv[e4] = fma(vec4<f32>(P), Gs[i * D4 + e4], dv[e4]);
            dk[e4] = fma(vec4<f32>(dS), Qs[i * D4 + e4], dk[e4]);   // Qs already holds scale * q
          }
        }
      }
      workgroupBarrier();
    }
  }

  if (j >= p.Tk) { return; }
  for (var e4 = 0u; e4 < D4; e4++) {
    for (var c = 0u; c < 4u; c++) {
      if (4u * e4 + c < D) {
        dK[kBase + 4u * e4 + c] = dk[e4][c];
        dV[kBase + 4u * e4 + c] = dv[e4][c];
      }
    }
  }
}
`;
}
