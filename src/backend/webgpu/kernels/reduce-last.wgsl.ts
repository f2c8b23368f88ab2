// reduce-last.wgsl.ts — reductions over the last axis of a [rows, cols] float32 view.
//
// One workgroup of 256 threads per row (rows folded into a 2-D grid). Thread i accumulates columns
// i, i + 256, i + 512, ... and the 256 partial results are combined by a tree reduction in workgroup
// memory (log2 256 = 8 halving steps with a barrier each).
// The `override` MODE (codes in REDUCE_MODES) picks what a row reduces to:
//   sum:         out[r] = sum_c x[r, c]
//   sumSquares:  out[r] = sum_c x[r, c]^2            (with rows = 1: the squared norm of a whole tensor)
//   max:         out[r] = max_c x[r, c], arg[r] = first c attaining it (-inf and -1 for cols = 0)
// Error: a sum of n terms in any order is within gamma_n * sum |x| of the exact sum.

import { wgslCodes, wgslMainPerGroup } from './templates.js';

export const REDUCE_MODES = { sum: 0, sumSquares: 1, max: 2 } as const;

export const REDUCE_LAST_WGSL = /* wgsl */ `
override MODE: u32;
${wgslCodes('MODE', REDUCE_MODES)}
const WG = 256u;

struct Params { rows: u32, cols: u32, negInfBits: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Out: array<f32>;
@group(0) @binding(3) var<storage, read_write> Arg: array<i32>;

var<workgroup> vals: array<f32, WG>;
var<workgroup> args: array<i32, WG>;

${wgslMainPerGroup('r', 'WG')}
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  let negInf = bitcast<f32>(p.negInfBits);
  var acc = 0.0;
  var best = negInf;
  var bestArg = -1;
  for (var c = lid.x; c < p.cols; c += WG) {
    let x = X[base + c];
    if (MODE == MODE_SUM) { acc += x; }
    else if (MODE == MODE_SUM_SQUARES) { acc = fma(x, x, acc); }
    else if (bestArg < 0 || x > best) { best = x; bestArg = i32(c); }
  }
  if (MODE == MODE_MAX) { vals[lid.x] = best; } else { vals[lid.x] = acc; }
  args[lid.x] = bestArg;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid.x < half) {
      if (MODE == MODE_MAX) {
        // Keep the larger value; on a tie keep the smaller column (the first maximum).
        let oa = args[lid.x + half];
        let ov = vals[lid.x + half];
        let a = args[lid.x];
        if (oa >= 0 && (a < 0 || ov > vals[lid.x] || (ov == vals[lid.x] && oa < a))) {
          vals[lid.x] = ov;
          args[lid.x] = oa;
        }
      } else {
        vals[lid.x] += vals[lid.x + half];
      }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    Out[r] = vals[0];
    if (MODE == MODE_MAX) { Arg[r] = args[0]; }
  }
}
`;
