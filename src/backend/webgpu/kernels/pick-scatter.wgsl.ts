// pick-scatter.wgsl.ts — pickLast and its backward scatterLast on a [rows, cols] float32 view.
//   SCATTER = false (pick):    out[r] = idx[r] < 0 ? 0 : x[r, idx[r]]            (one thread per row)
//   SCATTER = true  (scatter): out[r, c] = (c == idx[r]) ? x[r] : 0              (one thread per element)

import { wgslMainPerThread } from './templates.js';

export const PICK_SCATTER_WGSL = /* wgsl */ `
override SCATTER: bool = false;

struct Params { rows: u32, cols: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> Out: array<f32>;

${wgslMainPerThread('i')}
  if (SCATTER) {
    if (i >= p.rows * p.cols) { return; }
    let r = i / p.cols;
    Out[i] = select(0.0, X[r], i32(i % p.cols) == Idx[r]);
  } else {
    if (i >= p.rows) { return; }
    let c = Idx[i];
    var v = 0.0;
    if (c >= 0 && u32(c) < p.cols) { v = X[i * p.cols + u32(c)]; }
    Out[i] = v;
  }
}
`;
