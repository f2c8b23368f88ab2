// The AdamW update (Loshchilov & Hutter 2019, Algorithm 2) in place, and the sum of squares used by the global
// gradient-norm clip. Large float32 updates run on the wasm kernel in float32 arithmetic (the WebGPU kernel's
// precision; a few float32 roundings from the JS loop; a BLT training step's AdamW went from ~72 to ~24 ms).

import type { AdamWHyper } from '../../backend.js';
import type { FloatArray } from '../../../tensor/dtype.js';
import { wasmKernels, wasmKernelsActive, wasmMemoryAtLeast, type KernelInstance } from './wasm/module.js';

/** Parameters per chunk through wasm memory (4 arrays of 64 KiB), and below which the JS loop is faster. */
const ADAMW_CHUNK = 1 << 14;
const ADAMW_WASM_MIN = 4096;

/**
 * One AdamW step on parameters p with gradient g and moments m, v (all updated in place except g):
 *   g' = g · gradScale;  p ← p · (1 - lr · λ);  m ← β1 m + (1 - β1) g';  v ← β2 v + (1 - β2) g'²
 *   p ← p - lr · m̂ / (√v̂ + eps),  m̂ = m / (1 - β1^t),  v̂ = v / (1 - β2^t)
 */
export function adamwStep(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: AdamWHyper): void {
  if (p.length >= ADAMW_WASM_MIN && p instanceof Float32Array && g instanceof Float32Array && m instanceof Float32Array
    && v instanceof Float32Array && wasmKernelsActive()) {
    adamwStepWasm(wasmKernels()!, p, g, m, v, h);
    return;
  }
  adamwStepReference(p, g, m, v, h);
}

/** adamwStep as plain float64 JS (rounded on each store): the readable version, and the float64 path. */
export function adamwStepReference(p: FloatArray, g: FloatArray, m: FloatArray, v: FloatArray, h: AdamWHyper): void {
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

/** adamwStep for float32 arrays on the wasm kernel (wasm/adamw-module.ts), streamed through wasm memory in chunks. */
export function adamwStepWasm(wasm: KernelInstance, p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array,
  h: AdamWHyper): void {
  const bc1 = 1 - Math.pow(h.beta1, h.step), bc2 = 1 - Math.pow(h.beta2, h.step);
  const decay = 1 - h.lr * h.weightDecay;
  const C = ADAMW_CHUNK;
  const mem = wasmMemoryAtLeast(wasm, 16 * C); // wasm memory: a chunk of p | g | m | v
  for (let i = 0; i < p.length; i += C) {
    const n = Math.min(C, p.length - i);
    mem.set(p.subarray(i, i + n), 0);
    mem.set(g.subarray(i, i + n), C);
    mem.set(m.subarray(i, i + n), 2 * C);
    mem.set(v.subarray(i, i + n), 3 * C);
    // lanes past n update stale floats, which are not copied back
    wasm.adamwRows(0, 4 * C, 8 * C, 12 * C, (n + 3) & ~3, h.gradScale, decay, h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2,
      bc1, bc2, h.lr, h.eps);
    p.set(mem.subarray(0, n), i);
    m.set(mem.subarray(2 * C, 2 * C + n), i);
    v.set(mem.subarray(3 * C, 3 * C + n), i);
  }
}

/**
 * Σ_i a[i]² in float64. Large float32 arrays are summed on the wasm kernel (sumSquaresRows: eight partial sums,
 * in float64, a chunk at a time), which differs from the loop below only in the order of the float64 additions.
 */
export function sumSquares(a: FloatArray): number {
  if (a.length < ADAMW_WASM_MIN || !(a instanceof Float32Array) || !wasmKernelsActive()) return sumSquaresReference(a);
  const wasm = wasmKernels()!, C = ADAMW_CHUNK;
  const mem = wasmMemoryAtLeast(wasm, 4 * C + 16); // a chunk, then the float64 result
  const result = new Float64Array(wasm.memory.buffer, 4 * C, 1);
  let s = 0;
  for (let i = 0; i < a.length; i += C) {
    const n = Math.min(C, a.length - i), n8 = (n + 7) & ~7;
    mem.set(a.subarray(i, i + n), 0);
    mem.fill(0, n, n8); // the lanes past n add zero
    wasm.sumSquaresRows(0, n8, 4 * C);
    s += result[0];
  }
  return s;
}

/** Σ_i a[i]² in float64, one term after another. */
export function sumSquaresReference(a: FloatArray): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}
