// unary.wgsl.ts — elementwise float32 maps y[i] = f(x[i]): the Backend's unary ops, affine and powScalar.
//
// One thread per element, 256 per workgroup, launched on a folded 2-D grid (dispatch.ts); thread i computes
// y[i]. The op is the `override` constant OP, so each op compiles to its own specialised pipeline with no
// runtime branching; its codes are named (OP_EXP, ...) from UNARY_CODES below (templates.ts).
// Numerically careful forms: sigmoid never takes exp of a large positive number; tanh saturates to ±1
// for |x| >= 10 (where it equals ±1 in f32) instead of risking inf/inf; pow follows Math.pow for negative
// bases with integer exponents (WGSL's pow is undefined for x < 0).

import type { UnaryOp } from '../../backend.js';
import { WGSL_SIGMOID, wgslCodes, wgslMainPerThread } from './templates.js';

/** The code of each op for the `OP` override (the host passes `{ OP: UNARY_CODES[op] }`; the WGSL says OP_EXP). */
export const UNARY_CODES: Readonly<Record<UnaryOp | 'affine' | 'powScalar', number>> = {
  exp: 0, log: 1, sqrt: 2, rsqrt: 3, tanh: 4, sigmoid: 5, relu: 6, silu: 7, abs: 8, sign: 9,
  affine: 10, powScalar: 11,
};

export const UNARY_WGSL = /* wgsl */ `
override OP: u32;
${wgslCodes('OP', UNARY_CODES)}

// a, b: the scalars of affine (y = x a + b) and powScalar (y = x ** a); infBits = bits of +inf.
struct Params { n: u32, a: f32, b: f32, infBits: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

${WGSL_SIGMOID}

// Math.pow semantics for the cases a model meets (integer and real exponents, zero and negative bases).
fn powReal(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  let inf = bitcast<f32>(p.infBits);
  if (x == 0.0) { return select(inf, 0.0, y > 0.0); }
  let mag = exp2(y * log2(abs(x)));
  if (x > 0.0) { return mag; }
  if (floor(y) != y) { return bitcast<f32>(p.infBits | 0x400000u); }   // NaN: negative base, fractional power
  let odd = abs(y) < 16777216.0 && fract(y * 0.5) != 0.0;
  return select(mag, -mag, odd);
}

fn apply(x: f32) -> f32 {
  switch OP {
    case OP_EXP: { return exp(x); }
    case OP_LOG: { return log(x); }
    case OP_SQRT: { return sqrt(x); }
    case OP_RSQRT: { return 1.0 / sqrt(x); }
    case OP_TANH: { if (abs(x) < 10.0) { return tanh(x); } return sign(x); }
    case OP_SIGMOID: { return sigmoid(x); }
    case OP_RELU: { return select(0.0, x, x > 0.0); }
    case OP_SILU: { return x * sigmoid(x); }
    case OP_ABS: { return abs(x); }
    case OP_SIGN: { return sign(x); }
    case OP_AFFINE: { return x * p.a + p.b; }
    case OP_POW_SCALAR, default: { return powReal(x, p.a); }
  }
}

${wgslMainPerThread('i')}
  if (i >= p.n) { return; }
  Y[i] = apply(X[i]);
}
`;
