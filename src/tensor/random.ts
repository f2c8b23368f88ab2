/**
 * A seeded pseudo-random generator, so every run (initialisation, data order, sampling) is reproducible.
 *
 * Core: xoshiro128** (32-bit state words, period 2^128 - 1), seeded through splitmix32.
 * Normal variates: Box-Muller. Truncated normal: rejection of draws outside [a, b] standard deviations.
 */
export class Rng {
  private s0: number; private s1: number; private s2: number; private s3: number;

  constructor(seed = 0) {
    // splitmix32 expands one integer seed into four well-mixed state words.
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Normal(0, 1) truncated to [a, b] (in standard deviations), by rejection. */
  truncatedNormal(a = -2, b = 2): number {
    if (!(a < b)) throw new Error(`truncatedNormal: empty interval [${a}, ${b}]`);
    for (;;) {
      const z = this.normal();
      if (z >= a && z <= b) return z;
    }
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  }

  /** The generator's state, for checkpoints (resume exactly). */
  getState(): number[] { return [this.s0, this.s1, this.s2, this.s3]; }
  setState(s: number[]): void {
    if (s.length !== 4) throw new Error(`Rng.setState: expected 4 state words, got ${s.length}`);
    [this.s0, this.s1, this.s2, this.s3] = s.map((v) => v >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Fills `out` with std · z, z ~ Normal(0, 1) truncated to [-cut, cut], in bulk: Marsaglia's polar method (two
 * normals per accepted pair of 32-bit uniforms, no trigonometry), about twice as fast as drawing one
 * `truncatedNormal` at a time. Deterministic for a given generator state, but a different stream from
 * `truncatedNormal`; used where billions of values are drawn (`blt init`).
 */
export function fillTruncatedNormal(rng: Rng, out: Float32Array, std: number, cut = 3): Float32Array {
  const n = out.length;
  let i = 0;
  while (i < n) {
    const u = rng.nextU32() * 2 ** -31 - 1, v = rng.nextU32() * 2 ** -31 - 1; // uniform in [-1, 1)
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue; // keep points inside the unit disc
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    const a = u * f, b = v * f; // two independent standard normals
    if (a >= -cut && a <= cut) out[i++] = std * a;
    if (i < n && b >= -cut && b <= cut) out[i++] = std * b;
  }
  return out;
}
