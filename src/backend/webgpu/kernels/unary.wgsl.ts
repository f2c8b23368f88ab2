// unary.wgsl.ts — elementwise float32 maps y[i] = f(x[i]): the Backend's unary ops, affine and powScalar.
//
// One thread per element, 256 per workgroup, launched on a folded 2-D grid (dispatch.ts). The op is an
// `override` constant, so each op compiles to its own specialised pipeline with no runtime branching.
// Numerically careful forms: sigmoid never takes exp of a large positive number; tanh saturates to ±1
// for |x| >= 10 (where it equals ±1 in f32) instead of risking inf/inf; pow follows Math.pow for negative
// bases with integer exponents (WGSL's pow is undefined for x < 0).

/** Op codes of the `OP` override, in this order. */
export const UNARY_OPS = [
  'neg', 'exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'sigmoid', 'relu', 'silu', 'abs', 'sign', 'square', 'reciprocal',
  'affine', 'powScalar',
] as const;

export const UNARY_WGSL = /* wgsl */ `
override OP: u32 = 0u;

// a, b: the scalars of affine (y = x a + b) and powScalar (y = x ** a); infBits = bits of +inf.
struct Params { n: u32, a: f32, b: f32, infBits: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;

fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

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
    case 0u: { return -x; }
    case 1u: { return exp(x); }
    case 2u: { return log(x); }
    case 3u: { return sqrt(x); }
    case 4u: { return 1.0 / sqrt(x); }
    case 5u: { if (abs(x) < 10.0) { return tanh(x); } return sign(x); }
    case 6u: { return sigmoid(x); }
    case 7u: { return select(0.0, x, x > 0.0); }
    case 8u: { return x * sigmoid(x); }
    case 9u: { return abs(x); }
    case 10u: { return sign(x); }
    case 11u: { return x * x; }
    case 12u: { return 1.0 / x; }
    case 13u: { return x * p.a + p.b; }
    default: { return powReal(x, p.a); }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid.x;
  if (i >= p.n) { return; }
  Y[i] = apply(X[i]);
}
`;
