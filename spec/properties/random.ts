// random.ts — seeded test data shared by the WebGPU specs and the shared property checks (spec/properties),
// which also run in the demo page: no vitest, no Node.

/** A deterministic PRNG (mulberry32) so fast-check only has to draw a seed, not thousands of floats. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * f32 values in [-range, range] with varied magnitudes; values below 2^-60 become 0 so that no product of two
 * inputs is subnormal (SwiftShader flushes subnormals to zero, which the error models below do not cover).
 */
export function randomF32(n: number, seed: number, range = 2): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = (2 * r() - 1) * range * (r() < 0.1 ? 2 ** -(1 + Math.floor(r() * 20)) : 1);
    out[i] = Math.abs(x) < 2 ** -60 ? 0 : x;
  }
  return out;
}

/** Unit roundoff of float32. */
export const U32 = 2 ** -24;
