// attention-backward-delta.wgsl.ts — first step of the fused attention backward (FlashAttention-2, Alg. 2):
//   Delta[b, h, t] = sum_d dOut[b, t, h, d] * out[b, t, h, d]      (= rowsum(dO ∘ O) = sum_j P_tj dP_tj)
// One thread per (b, t, h) row; the 1-D launch is folded into 2-D (dispatch.ts).
// Delta has the layout of lse: [B, Hq, Tq].
//
// The dot product is rounded exactly like dP_tj = dO_t . v_j in the dq and dkdv kernels: four fma lanes
// over vec4 chunks (zero past D), then x + y + z + w. So when a query sees a single key (out = v_j
// exactly), dP_tj - Delta_t is exactly 0 and so are dS and the q/k gradients, as in exact arithmetic
// (BLT meets this in every length-1 patch of the encoder cross-attention and at t = 0 of causal masks;
// a rounding residue there would be amplified to a full learning-rate step by AdamW).

import { wgslMainPerThread } from './templates.js';

/** Rows (threads) per workgroup; the host launches ceil(rows / 64) groups. */
export const DELTA_ROWS_PER_GROUP = 64;

export const ATTENTION_DELTA_WGSL = /* wgsl */ `
struct Params { B: u32, Tq: u32, Hq: u32, D: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> O: array<f32>;
@group(0) @binding(2) var<storage, read> dO: array<f32>;
@group(0) @binding(3) var<storage, read_write> delta: array<f32>;

// 4 consecutive elements of a row of dO (isDo) or O starting at base (zero beyond D).
fn row4(isDo: bool, base: u32, e4: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (4u * e4 + c < p.D) { r[c] = select(O[base + 4u * e4 + c], dO[base + 4u * e4 + c], isDo); }
  }
  return r;
}

${wgslMainPerThread('row', DELTA_ROWS_PER_GROUP)}   // row = (b * Tq + t) * Hq + h
  if (row >= p.B * p.Tq * p.Hq) { return; }
  var acc = vec4<f32>(0.0);
  for (var e4 = 0u; 4u * e4 < p.D; e4++) { acc = fma(row4(true, row * p.D, e4), row4(false, row * p.D, e4), acc); }
  let h = row % p.Hq;
  let bt = row / p.Hq;
  let b = bt / p.Tq;
  let t = bt % p.Tq;
  delta[(b * p.Hq + h) * p.Tq + t] = acc.x + acc.y + acc.z + acc.w;
}
`;
