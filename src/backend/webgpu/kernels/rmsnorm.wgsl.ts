// rmsnorm.wgsl.ts — fused RMSNorm forward and backward over rows of length D (float32).
//
// The `override` MODE (codes in RMSNORM_MODES) picks the pass:
//   forward, one workgroup of 64 threads per row (folded grid):
//     rstd = 1 / sqrt(mean_d x_d^2 + eps) ;  y_d = w_d * (x_d * rstd)
//   dx, one workgroup per row; with dot = sum_e w_e dy_e x_e:
//     dx_d = rstd * w_d * dy_d - (rstd^3 * dot / D) * x_d
//   dw, one thread per column d (64 per workgroup):  dw_d = sum_r dy_rd x_rd rstd_r
// Row sums use strided partial sums plus a tree reduction in workgroup memory.

import { wgslCodes, wgslMainPerGroup } from './templates.js';

export const RMSNORM_MODES = { forward: 0, dx: 1, dw: 2 } as const;

export const RMSNORM_WGSL = /* wgsl */ `
override MODE: u32;
${wgslCodes('MODE', RMSNORM_MODES)}
const WG = 64u;

struct Params { rows: u32, D: u32, eps: f32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> DY: array<f32>;         // unused by the forward (bind any buffer)
@group(0) @binding(4) var<storage, read_write> Out: array<f32>;  // y (forward), dx or dw
@group(0) @binding(5) var<storage, read_write> Rstd: array<f32>; // written by the forward, read by dx and dw

var<workgroup> red: array<f32, WG>;

${wgslMainPerGroup('g', 'WG')}
  if (MODE == MODE_DW) {
    let d = g * WG + lid.x;
    if (d < p.D) {
      var acc = 0.0;
      for (var r = 0u; r < p.rows; r++) { acc += DY[r * p.D + d] * X[r * p.D + d] * Rstd[r]; }
      Out[d] = acc;
    }
    return;
  }
  let r = g;
  if (r >= p.rows) { return; }
  let base = r * p.D;
  var acc = 0.0;
  for (var d = lid.x; d < p.D; d += WG) {
    let x = X[base + d];
    if (MODE == MODE_FORWARD) { acc = fma(x, x, acc); } else { acc += W[d] * DY[base + d] * x; }
  }
  red[lid.x] = acc;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid.x < half) { red[lid.x] += red[lid.x + half]; }
    workgroupBarrier();
  }
  let total = red[0];
  if (MODE == MODE_FORWARD) {
    let rs = 1.0 / sqrt(total / f32(p.D) + p.eps);
    for (var d = lid.x; d < p.D; d += WG) { Out[base + d] = W[d] * (X[base + d] * rs); }
    if (lid.x == 0u) { Rstd[r] = rs; }
  } else if (MODE == MODE_DX) {
    let rs = Rstd[r];
    let c = rs * rs * rs * total / f32(p.D);
    for (var d = lid.x; d < p.D; d += WG) { Out[base + d] = rs * W[d] * DY[base + d] - c * X[base + d]; }
  }
}
`;
