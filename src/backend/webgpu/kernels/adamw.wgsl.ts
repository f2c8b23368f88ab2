// adamw.wgsl.ts — one AdamW step in place (Loshchilov & Hutter 2019, PyTorch's order), float32.
// One thread per parameter:
//   g = g * gradScale ;  p = p * (1 - lr wd)                                (decoupled weight decay)
//   m = b1 m + (1 - b1) g ;  v = b2 v + (1 - b2) g^2
//   p = p - lr * (m / bc1) / (sqrt(v / bc2) + eps),  bc1 = 1 - b1^t, bc2 = 1 - b2^t (computed on the host in f64)

import { wgslMainPerThread } from './templates.js';

export const ADAMW_WGSL = /* wgsl */ `
struct Params {
  n: u32, lr: f32, beta1: f32, beta2: f32,
  eps: f32, decay: f32, bc1: f32, bc2: f32,
  gradScale: f32, pad0: u32, pad1: u32, pad2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> P: array<f32>;
@group(0) @binding(3) var<storage, read_write> M: array<f32>;
@group(0) @binding(4) var<storage, read_write> V: array<f32>;

${wgslMainPerThread('i')}
  if (i >= p.n) { return; }
  let g = G[i] * p.gradScale;
  let pi = P[i] * p.decay;
  let m = p.beta1 * M[i] + (1.0 - p.beta1) * g;
  let v = p.beta2 * V[i] + (1.0 - p.beta2) * g * g;
  M[i] = m;
  V[i] = v;
  P[i] = pi - (p.lr * (m / p.bc1)) / (sqrt(v / p.bc2) + p.eps);
}
`;
