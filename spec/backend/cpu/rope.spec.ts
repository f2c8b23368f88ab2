// The CPU RoPE kernel (src/backend/cpu/kernels/rope.ts) keeps the last few angle tables. A rotation must not
// depend on what was rotated before: every call equals a fresh computation of the rotation written out here,
// bit for bit, whether its positions, θ, head size or precision are new or repeated (also positions that differ
// in one place only, and the same positions array changed in place between calls).

import { describe, expect, it } from 'vitest';
import { rope, ropeReference } from '../../../src/backend/cpu/kernels/rope.js';

function fresh(x: Float32Array, B: number, T: number, H: number, Dh: number, pos: Int32Array, theta: number,
  inverse: boolean): Float32Array {
  const out = new Float32Array(x.length), half = Dh / 2, r = Math.fround;
  for (let b = 0; b < B; b++) for (let i = 0; i < T; i++) for (let h = 0; h < H; h++) for (let t = 0; t < half; t++) {
    const ang = r(pos[i] * r(1 / Math.pow(theta, (2 * t) / Dh)));
    const c = r(Math.cos(ang)), s = (inverse ? -1 : 1) * r(Math.sin(ang));
    const at = ((b * T + i) * H + h) * Dh + 2 * t, x0 = x[at], x1 = x[at + 1];
    out[at] = x0 * c - x1 * s;
    out[at + 1] = x0 * s + x1 * c;
  }
  return out;
}

describe('cpu rope angle tables', () => {
  it('every call equals a fresh rotation, however the calls are ordered', () => {
    const B = 2, T = 7, H = 3;
    const x = Float32Array.from({ length: B * T * H * 8 }, (_, i) => Math.sin(i * 0.37) * 3);
    const pos = Int32Array.from({ length: T }, (_, i) => i * 5 + 1);
    const other = pos.slice();
    other[3] += 1; // differs in one place
    const calls: [Int32Array, number, number, boolean][] = [
      [pos, 10000, 8, false], [pos, 10000, 8, true], [other, 10000, 8, false], [pos, 500000, 8, false],
      [pos, 10000, 4, false], [pos, 10000, 8, false], [other, 10000, 8, true],
    ];
    for (const [p, theta, Dh, inverse] of calls) {
      const xs = x.subarray(0, B * T * H * Dh), out = new Float32Array(xs.length);
      rope(xs, B, T, H, Dh, p, theta, inverse, true, out);
      expect(out).toEqual(fresh(xs, B, T, H, Dh, p, theta, inverse));
    }
    pos[0] = 99; // the caller's array changed in place: the table must follow
    const out = new Float32Array(B * T * H * 8);
    rope(x, B, T, H, 8, pos, 10000, false, true, out);
    expect(out).toEqual(fresh(x, B, T, H, 8, pos, 10000, false));
  });

  it('the wasm rotation (float32 x of 4096 floats or more) has the bits of the JS loop', () => {
    // Same float64 operations in the same order (rope-module.ts), so equality is exact, not a tolerance.
    const B = 3, T = 37, H = 5, Dh = 12; // 6660 floats; T and H odd, so rows wrap positions mid-batch
    const x = Float32Array.from({ length: B * T * H * Dh }, (_, i) => Math.sin(i * 0.61) * 7 + Math.cos(i) * 1e-3);
    const pos = Int32Array.from({ length: T }, (_, i) => 3 * i + 2);
    for (const inverse of [false, true]) {
      for (const float32 of [true, false]) {
        const got = new Float32Array(x.length), want = new Float32Array(x.length);
        rope(x, B, T, H, Dh, pos, 500000, inverse, float32, got);
        ropeReference(x, B, T, H, Dh, pos, 500000, inverse, float32, want);
        expect(Array.from(got)).toEqual(Array.from(want));
        if (float32) expect(Array.from(got)).toEqual(Array.from(fresh(x, B, T, H, Dh, pos, 500000, inverse)));
      }
    }
  });
});
