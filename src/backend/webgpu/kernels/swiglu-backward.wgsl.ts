// swiglu-backward.wgsl.ts — the gradients of out = silu(gate) ⊙ up (src/ops/swiglu.ts), float32.
//
// One thread per element, 256 per workgroup, on a folded 2-D grid (dispatch.ts); thread i computes, with
// x = gate[i] and s = sigmoid(x):
//   dUp[i]   = g[i] · x · s
//   dGate[i] = g[i] · up[i] · s · (1 + x (1 - s))      (silu'(x) = s (1 + x (1 - s)))

import { WGSL_SIGMOID, wgslMainPerThread } from './templates.js';

export const SWIGLU_BACKWARD_WGSL = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> Gate: array<f32>;
@group(0) @binding(3) var<storage, read> Up: array<f32>;
@group(0) @binding(4) var<storage, read_write> DGate: array<f32>;
@group(0) @binding(5) var<storage, read_write> DUp: array<f32>;

${WGSL_SIGMOID}

${wgslMainPerThread('i')}
  if (i >= p.n) { return; }
  let x = Gate[i];
  let s = sigmoid(x);
  let g = G[i];
  DUp[i] = g * x * s;
  DGate[i] = g * Up[i] * s * (1.0 + x * (1.0 - s));
}
`;
