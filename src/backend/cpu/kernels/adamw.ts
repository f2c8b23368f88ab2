// The AdamW update (Loshchilov & Hutter 2019, Algorithm 2) in place, and the sum of squares used by the global
// gradient-norm clip.

import type { AdamWHyper } from '../../backend.js';
import type { FloatArray } from '../../../tensor/dtype.js';

/**
 * One AdamW step on parameters p with gradient g and moments m, v (all updated in place except g):
 *   g' = g · gradScale;  p ← p · (1 - lr · λ);  m ← β1 m + (1 - β1) g';  v ← β2 v + (1 - β2) g'²
 *   p ← p - lr · m̂ / (√v̂ + eps),  m̂ = m / (1 - β1^t),  v̂ = v / (1 - β2^t)
 */
export function adamwStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: AdamWHyper): void {
  const bc1 = 1 - Math.pow(h.beta1, h.step), bc2 = 1 - Math.pow(h.beta2, h.step);
  const decay = 1 - h.lr * h.weightDecay;
  // hyper-parameters in locals: property loads of `h` inside the loop are not hoisted by V8
  const { beta1, beta2, lr, eps, gradScale } = h;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] * gradScale;
    const pi = p[i] * decay;                              // decoupled weight decay first
    m[i] = beta1 * m[i] + (1 - beta1) * gi;               // first moment
    v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;          // second moment
    const mhat = m[i] / bc1, vhat = v[i] / bc2;           // bias correction (moments as stored, rounded)
    p[i] = pi - (lr * mhat) / (Math.sqrt(vhat) + eps);    // eps outside the square root
  }
}

/** Σ_i a[i]² in float64. */
export function sumSquares(a: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}
