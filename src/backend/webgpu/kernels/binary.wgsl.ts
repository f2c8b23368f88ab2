// binary.wgsl.ts — broadcasting binary ops out[o] = f(a[ia], b[ib]) (NumPy rules), float32.
//
// One thread per output element o (256 per workgroup, folded 2-D grid). The thread turns o into a
// multi-index over the output shape (rank <= 8) and dots it with each operand's broadcast strides (0 on
// broadcast axes) to find ia and ib. Shapes and strides travel in the uniform buffer as vec4 groups.
// Comparisons return 1.0 / 0.0; maximum/minimum return `a` when it is NaN (as the CPU backend does).
// The op is the `override` constant OP, with codes named (OP_ADD, ...) from BINARY_CODES (templates.ts).

import type { BinaryOp } from '../../backend.js';
import { wgslCodes, wgslMainPerThread, wgslStridedOffsets } from './templates.js';

/** The code of each op for the `OP` override (the host passes `{ OP: BINARY_CODES[op] }`; the WGSL says OP_ADD). */
export const BINARY_CODES: Readonly<Record<BinaryOp, number>> = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, gt: 6, ge: 7, eq: 8,
};

export const BINARY_WGSL = /* wgsl */ `
override OP: u32;
${wgslCodes('OP', BINARY_CODES)}

struct Params {
  n: u32, rank: u32, pad0: u32, pad1: u32,
  shape: array<vec4<u32>, 2>,   // output shape, dims 0..7
  sa: array<vec4<u32>, 2>,      // strides of a over the output index (0 = broadcast)
  sb: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> Out: array<f32>;

fn apply(a: f32, b: f32) -> f32 {
  switch OP {
    case OP_ADD: { return a + b; }
    case OP_SUB: { return a - b; }
    case OP_MUL: { return a * b; }
    case OP_DIV: { return a / b; }
    case OP_MAXIMUM: { return select(b, a, a >= b || a != a); }
    case OP_MINIMUM: { return select(b, a, a <= b || a != a); }
    case OP_GT: { return select(0.0, 1.0, a > b); }
    case OP_GE: { return select(0.0, 1.0, a >= b); }
    case OP_EQ, default: { return select(0.0, 1.0, a == b); }
  }
}

${wgslMainPerThread('o')}
  if (o >= p.n) { return; }
${wgslStridedOffsets('o', [['ia', 'sa'], ['ib', 'sb']])}
  Out[o] = apply(A[ia], B[ib]);
}
`;
