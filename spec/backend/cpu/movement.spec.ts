// stridedGather (src/backend/cpu/kernels/movement.ts), the one kernel behind permute, expand and slice, against a
// plain index-by-index reference, over random shapes, permutations, broadcasts and offsets: its fast paths (a
// short last axis walked two axes at a time, contiguous runs copied with set) must give the same elements.

import fc from 'fast-check';
import { describe, it } from 'vitest';
import { stridedGather } from '../../../src/backend/cpu/kernels/movement.js';
import { sizeOf } from '../../../src/tensor/shape.js';

function reference(a: Float32Array, outShape: number[], strides: number[], base: number): Float32Array {
  const out = new Float32Array(sizeOf(outShape));
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let at = base;
    for (let d = 0; d < outShape.length; d++) at += idx[d] * strides[d];
    out[o] = a[at];
    for (let d = outShape.length - 1; d >= 0; d--) { if (++idx[d] < outShape[d]) break; idx[d] = 0; }
  }
  return out;
}

describe('stridedGather', () => {
  it('equals the index-by-index reference for permutes, broadcasts and slices', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 1000 }),
      fc.constantFrom('permute', 'expand', 'slice'),
      (shape, seed, kind) => {
        const n = sizeOf(shape);
        const a = Float32Array.from({ length: n + 3 }, (_, i) => i * 1.5 - seed);
        const st: number[] = [];
        for (let d = shape.length - 1, s = 1; d >= 0; d--) { st[d] = s; s *= shape[d]; }
        let outShape = shape, strides = st, base = 0;
        if (kind === 'permute') {
          const perm = shape.map((_, i) => i).sort((x, y) => ((x * 7 + seed) % 5) - ((y * 7 + seed) % 5) || x - y);
          outShape = perm.map((p) => shape[p]);
          strides = perm.map((p) => st[p]);
        } else if (kind === 'expand') {
          // broadcast one size-1 view of axis 0 to 3 copies in front
          outShape = [3, ...shape];
          strides = [0, ...st];
        } else {
          outShape = shape.map((s) => Math.max(1, s - 1)); // drop the first index along every axis that can
          base = shape.reduce((b, s, d) => b + (s > 1 ? st[d] : 0), 0);
          strides = st;
        }
        const out = new Float32Array(sizeOf(outShape)).fill(NaN);
        stridedGather(a, outShape, strides, base, out);
        const want = reference(a, outShape, strides, base);
        for (let i = 0; i < want.length; i++) if (out[i] !== want[i]) throw new Error(`${kind} [${outShape}] at ${i}: ${out[i]}, want ${want[i]}`);
      }), { numRuns: 200 });
  });
});
