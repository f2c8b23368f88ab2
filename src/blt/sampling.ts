/**
 * Choosing the next byte from the last position's logits ℓ [260]: greedy (argmax, Meta's default), or a draw from
 * softmax(ℓ / T) restricted to the k most likely bytes (top-k) and to the smallest set whose probability reaches
 * p (top-p, nucleus), seeded by this project's Rng. The generator (generate.ts) calls `sampleNext` once per byte.
 */
import { Rng } from '../tensor/random.js';

/**
 * How the next byte is chosen from the last position's logits.
 *   greedy: argmax (lowest id on ties); the other fields are ignored and no random number is drawn.
 *   otherwise: p ∝ exp(ℓ / T), restricted to the k most likely ids (topK), then to the smallest set of most
 *   likely ids whose probability reaches topP (nucleus), renormalised; exactly one uniform draw per byte.
 */
export interface SamplingOptions {
  greedy?: boolean;
  /** T > 0 (default 1) */
  temperature?: number;
  /** integer k ≥ 1 (default: all 260) */
  topK?: number;
  /** p in (0, 1] (default 1) */
  topP?: number;
}

/** Checks sampling options; throws an Error naming the bad field and value. */
export function checkSamplingOptions(s: SamplingOptions): void {
  const { greedy = false, temperature, topK, topP } = s;
  if (typeof greedy !== 'boolean') throw new Error(`sampling: greedy must be true or false, got ${String(greedy)}`);
  if (temperature !== undefined && (typeof temperature !== 'number' || Number.isNaN(temperature) || (!greedy && !(temperature > 0 && Number.isFinite(temperature))))) {
    throw new Error(`sampling: temperature must be a finite number > 0 (or set greedy: true), got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new Error(`sampling: topK must be an integer >= 1, got ${topK}`);
  }
  if (topP !== undefined && !(typeof topP === 'number' && topP > 0 && topP <= 1)) {
    throw new Error(`sampling: topP must lie in (0, 1], got ${topP}`);
  }
}

/** Checks one row of logits: no NaN, no +∞, at least one finite value (-∞ = "never"). */
function checkLogits(logits: ArrayLike<number>, where: string): void {
  if (logits.length === 0) throw new Error(`sampling: empty logits ${where}`);
  let finite = 0;
  for (let v = 0; v < logits.length; v++) {
    const x = logits[v];
    if (Number.isNaN(x)) throw new Error(`sampling: logit of id ${v} is NaN ${where}`);
    if (x === Infinity) throw new Error(`sampling: logit of id ${v} is +Infinity ${where}`);
    if (x !== -Infinity) finite++;
  }
  if (finite === 0) throw new Error(`sampling: every logit is -Infinity ${where}`);
}

/** argmax_v ℓ_v, the lowest id on ties. */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
  return best;
}

/**
 * The distribution sampling draws from, as (id, probability) pairs in decreasing probability (ties: lower id
 * first). Greedy gives the single argmax with probability 1. Computed in float64.
 *   q_v = exp((ℓ_v - max ℓ) / T) / Σ_u exp((ℓ_u - max ℓ) / T)          softmax(ℓ / T)
 *   top-k: keep the k largest q, renormalise; top-p: keep the shortest prefix (largest first) with Σ q ≥ p,
 *   renormalise (top-p acts on the top-k distribution, as HF's logits processors chain them).
 */
export function samplingDistribution(logits: ArrayLike<number>, s: SamplingOptions = {}, where = ''): { ids: number[]; probs: number[] } {
  checkSamplingOptions(s);
  checkLogits(logits, where);
  if (s.greedy) return { ids: [argmax(logits)], probs: [1] };
  const T = s.temperature ?? 1;
  const order = Array.from({ length: logits.length }, (_, v) => v)
    .sort((a, b) => (logits[b] - logits[a]) || (a - b)); // decreasing logit, lower id first on ties
  const k = Math.min(s.topK ?? order.length, order.length);
  const kept = order.slice(0, k);
  const top = logits[kept[0]];
  let probs = kept.map((v) => Math.exp((logits[v] - top) / T)); // -∞ logits give 0
  let total = probs.reduce((a, b) => a + b, 0);
  probs = probs.map((p) => p / total);
  // nucleus: the shortest prefix of the (sorted) kept ids whose mass reaches topP (at least one id)
  const p = s.topP ?? 1;
  if (p < 1) {
    let mass = 0, n = 0;
    while (n < probs.length && (n === 0 || mass < p)) mass += probs[n++];
    probs = probs.slice(0, n);
    kept.length = n;
    total = probs.reduce((a, b) => a + b, 0);
    probs = probs.map((q) => q / total);
  }
  // drop ids with probability 0 (-∞ logits) so they can never be drawn
  const ids: number[] = [], out: number[] = [];
  kept.forEach((v, i) => { if (probs[i] > 0) { ids.push(v); out.push(probs[i]); } });
  return { ids, probs: out };
}

/**
 * One next-byte id from logits [V] (greedy by default, as in Meta's generation code; temperature, top-k, top-p).
 * Sampled modes draw exactly one `rng.uniform()` u and return the first id whose cumulative probability
 * exceeds u; greedy draws nothing.
 */
export function sampleNext(logits: ArrayLike<number>, s: SamplingOptions, rng: Rng, where = ''): number {
  const { ids, probs } = samplingDistribution(logits, s, where);
  if (s.greedy) return ids[0];
  const u = rng.uniform();
  let cdf = 0;
  for (let i = 0; i < ids.length; i++) {
    cdf += probs[i];
    if (u < cdf) return ids[i];
  }
  return ids[ids.length - 1]; // u within rounding of 1
}
