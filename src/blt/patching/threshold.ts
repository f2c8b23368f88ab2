// Choosing the global threshold θ for a target average patch size (paper §4.3: the patch size is tuned with the
// threshold; the maintainers' recipe is to adjust θ until the average matches).
import { checkN, lastCandidate, type LengthConvention } from './conventions.js';
import { globalThresholdStarts } from './rules.js';

/** Number of patches of one document under the global rule (count of starts, including position N if it is a candidate). */
export function countGlobalPatches(ent: ArrayLike<number>, threshold: number, convention: LengthConvention = "N-offline"): number {
  return globalThresholdStarts(ent, threshold, convention).length;
}

/**
 * Average patch size = Σ bytes / Σ patches over the documents, where a document of N tokens counts
 * N bytes (its BOS stands in for the next-token position) and its patches are counted under
 * `convention` (default "N-offline", as for training data).
 */
export function averagePatchSize(
  docs: readonly ArrayLike<number>[],
  threshold: number,
  convention: LengthConvention = "N-offline",
): number {
  let bytes = 0;
  let patches = 0;
  for (const ent of docs) {
    bytes += ent.length;
    patches += countGlobalPatches(ent, threshold, convention);
  }
  return bytes / patches;
}

export interface ThresholdChoice {
  threshold: number;
  averagePatchSize: number;
  numPatches: number;
}

// [doc:threshold-search]
/**
 * Global threshold whose average patch size over `docs` is closest to `target` (paper §4.3; the maintainers'
 * recipe is to iterate θ until the average matches). Exact search: the patch count only changes at
 * the candidate entropies (ent[1..last-1] per document), so sort them descending and pick the count m
 * of above-threshold candidates that gives the closest average; θ is placed halfway between the m-th
 * and (m+1)-th largest candidate (rounded to float32 when that keeps the count), or at the largest
 * candidate for m = 0 / one below the smallest for m = all. Ties make some counts unreachable.
 */
export function thresholdForPatchSize(
  docs: readonly ArrayLike<number>[],
  target: number,
  convention: LengthConvention = "N-offline",
): ThresholdChoice {
  if (!(target >= 1)) throw new Error(`thresholdForPatchSize: target patch size must be ≥ 1, got ${target}`);
  if (docs.length === 0) throw new Error("thresholdForPatchSize: no documents");
  let bytes = 0;
  let forced = 0;
  const cand: number[] = [];
  for (const ent of docs) {
    checkN(ent.length, "thresholdForPatchSize");
    bytes += ent.length;
    const last = lastCandidate(ent.length, convention);
    forced += 1 <= last ? 2 : 1;
    for (let t = 2; t <= last; t++) cand.push(ent[t - 1]!);
  }
  cand.sort((a, b) => b - a);
  const C = cand.length;
  let bestM = 0;
  let bestErr = Infinity;
  for (let m = 0; m <= C; m++) {
    const reachable = m === 0 || m === C || cand[m - 1]! > cand[m]!;
    if (!reachable) continue;
    const err = Math.abs(bytes / (forced + m) - target);
    if (err < bestErr) {
      bestErr = err;
      bestM = m;
    }
  }
  let threshold: number;
  if (C === 0) threshold = 0;
  else if (bestM === 0) threshold = cand[0]!;
  else if (bestM === C) threshold = cand[C - 1]! - 1;
  else {
    const hi = cand[bestM - 1]!; // must exceed θ
    const lo = cand[bestM]!; // must not exceed θ
    const mid = (hi + lo) / 2;
    const mid32 = Math.fround(mid);
    threshold = mid32 >= lo && mid32 < hi ? mid32 : mid >= lo && mid < hi ? mid : lo;
  }
  return { threshold, averagePatchSize: bytes / (forced + bestM), numPatches: forced + bestM };
}
