// swiglu.wgsl.ts — SwiGLU's gate out = silu(gate) ⊙ up (src/ops/swiglu.ts), float32, same-length operands.
//
// One thread per element, 256 per workgroup, on a folded 2-D grid (dispatch.ts); thread i computes out[i] =
// silu(gate[i]) · up[i], with the overflow-free sigmoid of templates.ts.

import { WGSL_SIGMOID, wgslMainPerThread } from './templates.js';

export const SWIGLU_WGSL = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Gate: array<f32>;
@group(0) @binding(2) var<storage, read> Up: array<f32>;
@group(0) @binding(3) var<storage, read_write> Out: array<f32>;

${WGSL_SIGMOID}

${wgslMainPerThread('i')}
  if (i >= p.n) { return; }
  let x = Gate[i];
  Out[i] = (x * sigmoid(x)) * Up[i];
}
`;
