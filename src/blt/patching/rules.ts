// Boundary rules (paper §2.1-2.3, and Meta's variants). Each incremental rule is a START TEST: does position t ≥ 2
// start a patch? A test may read ent[0..t-1] and tokens[0..t-1] only, which is what makes the rule incremental
// (paper §2.4: the starts of a prefix are the prefix of the starts). The *Starts functions apply a test to every
// candidate position of a row (forced 0 and 1 included). Top-k is the one rule that is not incremental.
import { checkN, lastCandidate, type LengthConvention } from './conventions.js';

/** Whether position t ≥ 2 starts a patch. */
export type StartTest = (t: number) => boolean;

// [doc:forced-starts]
/** Starts [0, 1] (1 only if it is a candidate) followed by every t ∈ [2, last] with isStart(t). */
function collectStarts(N: number, convention: LengthConvention, isStart: StartTest): number[] {
  const last = lastCandidate(N, convention);
  const starts = [0];
  if (1 <= last) starts.push(1);
  for (let t = 2; t <= last; t++) if (isStart(t)) starts.push(t);
  return starts;
}

function checkEnt(ent: ArrayLike<number>, op: string): void {
  checkN(ent.length, op);
}

// [doc:global-threshold]
/** Global threshold rule (paper §2.3): t ≥ 2 starts iff H(x_t) = ent[t-1] > θ (strict). ent[0] is never used. */
export function globalThresholdTest(ent: ArrayLike<number>, threshold: number): StartTest {
  return (t) => ent[t - 1]! > threshold;
}

/** Starts of the global threshold rule (position 1 always starts). */
export function globalThresholdStarts(ent: ArrayLike<number>, threshold: number, convention: LengthConvention = "N+1"): number[] {
  checkEnt(ent, "globalThresholdStarts");
  return collectStarts(ent.length, convention, globalThresholdTest(ent, threshold));
}

// [doc:monotonic]
/**
 * Approximate monotonic rule (paper §2.3, Meta `monotonicity=True`): 0, 1, 2 always start;
 * t ≥ 3 starts iff H(x_t) - H(x_{t-1}) = ent[t-1] - ent[t-2] > θ_r.
 */
export function monotonicTest(ent: ArrayLike<number>, thresholdRelative: number): StartTest {
  return (t) => t === 2 || ent[t - 1]! - ent[t - 2]! > thresholdRelative;
}

export function monotonicStarts(ent: ArrayLike<number>, thresholdRelative: number, convention: LengthConvention = "N+1"): number[] {
  checkEnt(ent, "monotonicStarts");
  return collectStarts(ent.length, convention, monotonicTest(ent, thresholdRelative));
}

// [doc:combined]
/**
 * Combined global + relative rule (Meta `threshold_add` set, `monotonicity=False`; not in the paper), with
 * the quirks of Meta's vectorised code: 0, 1, 2 always start, 3 NEVER starts, and t ≥ 4 starts iff
 * ent[t-1] - ent[t-2] > θ_add AND ent[t-1] > θ.
 */
export function combinedTest(ent: ArrayLike<number>, threshold: number, thresholdAdd: number): StartTest {
  return (t) => {
    if (t === 2) return true;
    if (t === 3) return false;
    return ent[t - 1]! - ent[t - 2]! > thresholdAdd && ent[t - 1]! > threshold;
  };
}

export function combinedStarts(ent: ArrayLike<number>, threshold: number, thresholdAdd: number, convention: LengthConvention = "N+1"): number[] {
  checkEnt(ent, "combinedStarts");
  return collectStarts(ent.length, convention, combinedTest(ent, threshold, thresholdAdd));
}

// [doc:topk]
/**
 * Top-k rule (Meta's `threshold=None`; not in the paper): the k = ⌊N / patchSize⌋ - 2 largest of ent[1..N-1] make
 * positions (index + 1) starts, chosen over the WHOLE sequence ⇒ NOT incremental (a later, larger
 * entropy can remove an earlier start), so it is no start test and no config reaches it. Like Meta's code,
 * candidates run up to position N whatever the convention (only "N-offline" then drops a start at N). k is
 * clamped to [0, N-1]; ties are broken towards the earlier position (torch.topk leaves this unspecified).
 */
export function topKStarts(ent: ArrayLike<number>, patchSize: number, convention: LengthConvention = "N+1"): number[] {
  checkEnt(ent, "topKStarts");
  if (!(patchSize > 0)) throw new Error(`topKStarts: patchSize must be > 0, got ${patchSize}`);
  const N = ent.length;
  const k = Math.max(0, Math.min(N - 1, Math.floor(N / patchSize) - 2));
  const idx = Array.from({ length: N - 1 }, (_, i) => i + 1); // entropy indices 1..N-1
  idx.sort((a, b) => ent[b]! - ent[a]! || a - b);
  const chosen = idx.slice(0, k).map((i) => i + 1).sort((a, b) => a - b);
  const last = lastCandidate(N, convention);
  const starts = [0];
  if (1 <= last) starts.push(1);
  for (const t of chosen) if (t <= last) starts.push(t);
  return starts;
}

function checkStride(k: number, op: string): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${op}: stride must be a positive integer, got ${k}`);
}

/** Static patches after a one-token BOS patch (paper §2.1): starts 0, 1, 1 + k, 1 + 2k, ... */
export function strideTest(k: number): StartTest {
  checkStride(k, "strideTest");
  return (t) => (t - 1) % k === 0;
}

/**
 * Static / strided patches (paper §2.1). `firstPatch: "bos"` gives lengths [1, k, k, ..., rest] (a one-token
 * BOS patch, as the golden `stride{k}` variant and as the decoder shift requires); `"none"` gives the
 * plain MegaByte stride [k, k, ..., rest] (starts at multiples of k).
 */
export function strideStarts(N: number, k: number, convention: LengthConvention = "N+1", firstPatch: "bos" | "none" = "bos"): number[] {
  checkN(N, "strideStarts");
  checkStride(k, "strideStarts");
  if (firstPatch === "bos") return collectStarts(N, convention, strideTest(k));
  const starts = [0];
  for (let t = k; t <= lastCandidate(N, convention); t += k) starts.push(t);
  return starts;
}

/** Byte patching (paper §2.1 with k = 1): every position is a start (one token per patch). */
export const byteTest: StartTest = () => true;

export function byteStarts(N: number, convention: LengthConvention = "N+1"): number[] {
  checkN(N, "byteStarts");
  return collectStarts(N, convention, byteTest);
}

/**
 * "Space-like" byte (paper §2.2): not an ASCII letter/digit and not a UTF-8 continuation byte; special tokens
 * (id < 4) count as space-like. b = id - 4 ∈ [..47] ∪ [58, 64] ∪ [91, 96] ∪ [123, 127] ∪ [192, 255].
 */
export function isSpaceLike(id: number): boolean {
  const b = id - 4;
  return b < 48 || (b > 57 && b < 65) || (b > 90 && b < 97) || (b > 122 && b < 128) || b >= 192;
}

/**
 * Space patching (paper §2.2, Meta `find_space_patch_start_ids`): a patch ENDS at a space-like token whose
 * predecessor is not space-like (original flags, not updated sequentially), and at every special token
 * (id < 4). Positions 0, 1 start; t ≥ 2 starts iff token t-1 ended a patch. (The paper's "at least one
 * non-space-like byte per patch" is not in Meta's code and not applied.)
 */
export function spaceTest(tokens: ArrayLike<number>): StartTest {
  const endsPatch = (i: number): boolean =>
    tokens[i]! < 4 || (isSpaceLike(tokens[i]!) && (i === 0 || !isSpaceLike(tokens[i - 1]!)));
  return (t) => endsPatch(t - 1);
}

export function spaceStarts(tokens: ArrayLike<number>, convention: LengthConvention = "N+1"): number[] {
  checkN(tokens.length, "spaceStarts");
  return collectStarts(tokens.length, convention, spaceTest(tokens));
}
