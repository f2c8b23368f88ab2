// Rotary position embedding (RoPE, Su et al. 2021) on x [B, T, H, Dh], rotating each interleaved pair
// (x_{2t}, x_{2t+1}) of every head by the angle pos_i · ω_t, ω_t = θ^(-2t/Dh):
//
//   x'_{2t} = x_{2t} cos - x_{2t+1} sin,   x'_{2t+1} = x_{2t} sin + x_{2t+1} cos
//
// `inverse` rotates by the negative angle (the backward of the rotation is its inverse).

import type { FloatArray } from '../../../tensor/dtype.js';
import { wasmForFloat32, wasmMemoryAtLeast } from './wasm/module.js';

/** The cos and sin of every (position, pair) angle, [T, Dh/2] each. */
interface AngleTable { theta: number; Dh: number; float32: boolean; pos: Int32Array; cos: Float64Array; sin: Float64Array }

/**
 * The last few angle tables: every attention layer of a model rotates its queries and keys at the same positions
 * (and the backward again), so a table is computed once per forward instead of twice per layer and pass.
 */
const recentTables: AngleTable[] = [];
const RECENT_TABLES = 4;

function angleTable(T: number, Dh: number, pos: Int32Array, theta: number, float32: boolean): AngleTable {
  const hit = recentTables.find((t) => t.theta === theta && t.Dh === Dh && t.float32 === float32 && t.pos.length === T
    && t.pos.every((p, i) => p === pos[i]));
  if (hit) return hit;
  const half = Dh / 2;
  // For float32 tensors the angle table is rounded to float32 at each step, as HF computes it (inv_freq,
  // pos * inv_freq, cos and sin are float32 tensors); float64 tensors keep full precision.
  const r = float32 ? Math.fround : (v: number): number => v;
  const cos = new Float64Array(T * half), sin = new Float64Array(T * half);
  for (let t = 0; t < half; t++) {
    const omega = r(1 / Math.pow(theta, (2 * t) / Dh));
    for (let i = 0; i < T; i++) {
      const ang = r(pos[i] * omega);
      cos[i * half + t] = r(Math.cos(ang));
      sin[i * half + t] = r(Math.sin(ang));
    }
  }
  const table = { theta, Dh, float32, pos: pos.slice(0, T), cos, sin };
  recentTables.unshift(table);
  if (recentTables.length > RECENT_TABLES) recentTables.pop();
  return table;
}

/** Below this many floats of x, rope stays in JS (staging x in wasm memory costs more than it saves). */
const WASM_MIN = 4096;

/**
 * out = RoPE(x) with positions pos [T]; `float32` rounds the angle table as HF's float32 tensors do. Float32 x of at
 * least WASM_MIN floats is rotated by the wasm ropeRows (wasm/rope-module.ts: the same float64 operations as
 * ropeReference, so the same bits), else by ropeReference.
 */
export function rope(x: FloatArray, B: number, T: number, H: number, Dh: number, pos: Int32Array, theta: number,
  inverse: boolean, float32: boolean, out: FloatArray): void {
  const n = B * T * H * Dh;
  const wasm = n >= WASM_MIN ? wasmForFloat32(x, out) : null;
  if (!wasm) { ropeReference(x, B, T, H, Dh, pos, theta, inverse, float32, out); return; }
  const half = Dh / 2;
  const { cos, sin } = angleTable(T, Dh, pos, theta, float32);
  const sign = inverse ? -1 : 1;
  // wasm memory, in bytes: x [n float32] | out [n float32] | table: per (position, pair) cc = [c, c], ss = [-s, s]
  const xOff = 0, outOff = 4 * n, tabOff = 8 * n + ((8 - ((8 * n) % 16)) % 16);
  const mem = wasmMemoryAtLeast(wasm, tabOff + 32 * T * half);
  mem.set(x.subarray(0, n), 0);
  const tab = new Float64Array(wasm.memory.buffer, tabOff, 4 * T * half);
  for (let e = 0; e < T * half; e++) {
    const s = sign * sin[e];
    tab[4 * e] = cos[e]; tab[4 * e + 1] = cos[e]; tab[4 * e + 2] = -s; tab[4 * e + 3] = s;
  }
  wasm.ropeRows(xOff, tabOff, outOff, B * T, T, H, half);
  out.set(mem.subarray(n, 2 * n));
}

/** rope as the plain float64 JS loop, rounded on store. */
export function ropeReference(x: FloatArray, B: number, T: number, H: number, Dh: number, pos: Int32Array,
  theta: number, inverse: boolean, float32: boolean, out: FloatArray): void {
  const half = Dh / 2;
  const { cos, sin } = angleTable(T, Dh, pos, theta, float32);
  const sign = inverse ? -1 : 1; // the inverse rotation: the angle negated, so sin negated (exactly)
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < T; i++) {
      for (let h = 0; h < H; h++) {
        const base = ((b * T + i) * H + h) * Dh;
        for (let t = 0; t < half; t++) {
          const c = cos[i * half + t], s = sign * sin[i * half + t];
          const x0 = x[base + 2 * t], x1 = x[base + 2 * t + 1];
          out[base + 2 * t] = x0 * c - x1 * s;
          out[base + 2 * t + 1] = x0 * s + x1 * c;
        }
      }
    }
  }
}
