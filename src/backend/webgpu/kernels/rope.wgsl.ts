// rope.wgsl.ts — rotary position embedding on adjacent pairs (src/ops/rope.ts), x [B, T, H, Dh], float32.
//
// One thread per pair (b, i, h, t), t < Dh / 2, with angle = pos[i] * omega_t where omega_t =
// theta^(-2t/Dh) comes precomputed from the host (rounded to f32, as the CPU backend and HF do):
//   out_{2t}   = x_{2t} cos - x_{2t+1} sin ;  out_{2t+1} = x_{2t} sin + x_{2t+1} cos   (sin negated if INVERSE)
// WGSL's sin/cos are only accurate to 2^-11 on [-pi, pi] and unspecified beyond, while positions make
// angles in the thousands; so sincos below reduces the angle by multiples of pi/2 with a three-part
// Cody-Waite constant (each k * P_i exact for |k| < 2^15) and evaluates Cephes' single-precision minimax
// polynomials on [-pi/4, pi/4] (error a few ULP).

import { wgslMainPerThread } from './templates.js';

export const ROPE_WGSL = /* wgsl */ `
override INVERSE: bool = false;

struct Params { B: u32, T: u32, H: u32, Dh: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Pos: array<i32>;
@group(0) @binding(3) var<storage, read> Omega: array<f32>;    // [Dh / 2]
@group(0) @binding(4) var<storage, read_write> Out: array<f32>;

// (sin a, cos a) accurate to a few ULP for |a| < ~5e4.
fn sincos(a: f32) -> vec2<f32> {
  let k = round(a * 0.63661977236758134);          // a / (pi/2)
  let r = ((a - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = i32(k) & 3;
  switch q {
    case 0: { return vec2<f32>(s, c); }
    case 1: { return vec2<f32>(c, -s); }
    case 2: { return vec2<f32>(-s, -c); }
    default: { return vec2<f32>(-c, s); }
  }
}

${wgslMainPerThread('e')}   // pair index over [B, T, H, Dh/2]
  let half = p.Dh / 2u;
  if (e >= p.B * p.T * p.H * half) { return; }
  let t = e % half;
  let i = (e / (half * p.H)) % p.T;
  let ang = f32(Pos[i]) * Omega[t];
  var sc = sincos(ang);
  if (INVERSE) { sc.x = -sc.x; }
  let base = (e / half) * p.Dh + 2u * t;
  let x0 = X[base];
  let x1 = X[base + 1u];
  Out[base] = x0 * sc.y - x1 * sc.x;
  Out[base + 1u] = x0 * sc.x + x1 * sc.y;
}
`;
