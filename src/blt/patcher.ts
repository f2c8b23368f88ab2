// Patching rules of BLT (spec §2; golden README §4.4): entropy from logits, boundary rules, lengths.
//
// Conventions. N = number of tokens x[0..N-1] (x[0] = BOS). ent[i] = entropy of the prediction made
// AT position i, i.e. of x[i+1]. A rule decides which positions are patch STARTS; position N (the
// not-yet-seen next token) can be a start too. Positions 0 and 1 always start (a one-token BOS patch).
// Lengths come from the starts by one of three conventions (`LengthConvention`):
//   "N+1"       Meta, include_next_token=True: candidates 2..N, last patch closes at N ⇒ ΣL = N+1, all L ≥ 1
//   "N"         HF BltPatcher: same starts, last patch closes at N-1 ⇒ ΣL = N; a trailing 0-length
//               patch when N itself is a start (and [1, 0] for N = 1)
//   "N-offline" Meta, include_next_token=False (training preprocessing): candidates 2..N-1 ⇒ ΣL = N,
//               all L ≥ 1 (for N = 1 this gives [1]; Meta's code would give [1, 0] there)
// Encoder/decoder patch ids of the real positions 0..N-1 are the same under all three (spec §2.3).
//
// Every rule except top-k is incremental (starts on a prefix = prefix of the starts, spec §2.1).

import type { BltConfig } from "./config.js";

// ---------------------------------------------------------------------------------------------------
// Entropy (eq. 1 with the minus sign):  H_t = -Σ_v p_v log p_v,  p = softmax(logits[t])   (nats)
// ---------------------------------------------------------------------------------------------------

// [doc:entropy]
/**
 * Entropy of each row of `logits` ([T, V] row-major), natural log, over all V outputs (V = 260 for BLT,
 * so H ∈ [0, ln 260]). Stable log-softmax form, accumulated in float64:
 *   m = max_v ℓ_v,  s = Σ_v e^{ℓ_v - m},  H = log s - Σ_v e^{ℓ_v - m}(ℓ_v - m) / s
 * Terms with e^{ℓ_v - m} = 0 (ℓ_v = -∞) contribute 0 (p log p → 0). Result is clamped at ≥ 0
 * (rounding can give ≈ -1e-16 for one-hot rows). A row with NaN or no finite logit throws.
 */
export function entropyFromLogits(logits: Float32Array | Float64Array, T: number, V = 260): Float32Array {
  if (!Number.isInteger(T) || T < 0 || !Number.isInteger(V) || V < 1)
    throw new Error(`entropyFromLogits: bad shape [T=${T}, V=${V}]`);
  if (logits.length !== T * V)
    throw new Error(`entropyFromLogits: logits has ${logits.length} values, expected T·V = ${T}·${V} = ${T * V}`);
  const out = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const base = t * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) {
      const l = logits[base + v]!;
      if (Number.isNaN(l)) throw new Error(`entropyFromLogits: NaN logit at [${t}, ${v}]`);
      if (l > m) m = l;
    }
    if (!Number.isFinite(m)) throw new Error(`entropyFromLogits: row ${t} has no finite maximum logit (max = ${m})`);
    let s = 0;
    let weighted = 0; // Σ e^{ℓ-m}(ℓ-m)
    for (let v = 0; v < V; v++) {
      const d = logits[base + v]! - m;
      const e = Math.exp(d);
      if (e === 0) continue;
      s += e;
      weighted += e * d;
    }
    const h = Math.log(s) - weighted / s;
    out[t] = h > 0 ? h : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Starts → lengths
// ---------------------------------------------------------------------------------------------------

export type LengthConvention = "N+1" | "N" | "N-offline";

/** Whether position N (the next token) is a candidate start under the convention. */
function includesNext(convention: LengthConvention): boolean {
  return convention !== "N-offline";
}

/** Last candidate start position: N ("N+1", "N") or N-1 ("N-offline"). */
function lastCandidate(N: number, convention: LengthConvention): number {
  return includesNext(convention) ? N : N - 1;
}

function checkN(N: number, op: string): void {
  if (!Number.isInteger(N) || N < 1) throw new Error(`${op}: need at least one token (the BOS), got N = ${N}`);
}

function checkConvention(c: string, op: string): asserts c is LengthConvention {
  if (c !== "N+1" && c !== "N" && c !== "N-offline")
    throw new Error(`${op}: unknown length convention "${c}" (expected "N+1", "N" or "N-offline")`);
}

// [doc:patch-lengths]
/**
 * Patch lengths from sorted, distinct start positions (starts[0] must be 0, all ≤ N):
 * L_j = S_{j+1} - S_j, the last patch ending at N+1 ("N+1") or N ("N", "N-offline").
 * "N-offline" ignores a start at N; "N" keeps it as a trailing zero-length patch (HF).
 */
export function lengthsFromStarts(starts: ArrayLike<number>, N: number, convention: LengthConvention): Int32Array {
  checkN(N, "lengthsFromStarts");
  checkConvention(convention, "lengthsFromStarts");
  if (starts.length === 0 || starts[0] !== 0) throw new Error("lengthsFromStarts: the first start must be 0");
  const kept: number[] = [];
  for (let j = 0; j < starts.length; j++) {
    const s = starts[j]!;
    if (!Number.isInteger(s) || s > N || (j > 0 && s <= starts[j - 1]!))
      throw new Error(`lengthsFromStarts: starts must be strictly increasing integers in [0, ${N}], got ${s} at ${j}`);
    if (convention === "N-offline" && s >= N) continue;
    kept.push(s);
  }
  const end = convention === "N+1" ? N + 1 : N;
  const out = new Int32Array(kept.length);
  for (let j = 0; j < kept.length; j++) out[j] = (j + 1 < kept.length ? kept[j + 1]! : end) - kept[j]!;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Boundary rules. Each incremental rule is a START TEST: does position t ≥ 2 start a patch? A test may read
// ent[0..t-1] and tokens[0..t-1] only, which is what makes the rule incremental (paper §2.4). The *Starts
// functions apply a test to every candidate position of a row (forced 0 and 1 included).
// ---------------------------------------------------------------------------------------------------

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
 * Top-k rule (paper §2.2, Meta `threshold=None`): the k = ⌊N / patchSize⌋ - 2 largest of ent[1..N-1] make
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

/** Static patches after a one-token BOS patch (paper §2.2): starts 0, 1, 1 + k, 1 + 2k, ... */
export function strideTest(k: number): StartTest {
  checkStride(k, "strideTest");
  return (t) => (t - 1) % k === 0;
}

/**
 * Static / strided patches (paper §2.2). `firstPatch: "bos"` gives lengths [1, k, k, ..., rest] (a one-token
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

/** Byte patching (paper §2.2): every position is a start (one token per patch). */
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

// ---------------------------------------------------------------------------------------------------
// Choosing θ for a target average patch size (§2.8)
// ---------------------------------------------------------------------------------------------------

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
 * Global threshold whose average patch size over `docs` is closest to `target` (§2.8; the maintainers'
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


// ---------------------------------------------------------------------------------------------------
// The patching rule of a config, and the one function that turns a row into patch lengths
// ---------------------------------------------------------------------------------------------------

/** How one row is cut into patches: a config's patching fields with its behaviour applied (see patchRuleOf). */
export interface PatchRule {
  mode: "entropy" | "byte" | "static" | "space";
  /** entropy mode: θ of the global and combined rules, θ_r of the monotonic rule (nats) */
  threshold: number;
  /** entropy mode: Meta's approximate monotonic rule (only when the behaviour applies Meta's rules) */
  monotonicity: boolean;
  /** entropy mode: Meta's combined rule θ_add (only when the behaviour applies Meta's rules) */
  thresholdAdd: number | null;
  /** static mode: the stride k */
  stride: number | null;
  /** split patches longer than this, in every mode (paper §2.2; HF `process_patch_lengths`) */
  maxPatchLength: number | null;
  convention: LengthConvention;
}

/** What a caller may change in a config's rule: θ (threshold search, `blt patch --threshold`), the length convention (training data: "N-offline"), max length. */
export interface PatchRuleOverrides {
  threshold?: number;
  convention?: LengthConvention;
  maxPatchLength?: number | null;
}

// [doc:patch-rule]
/**
 * The patching rule of `cfg`:
 *   entropy  threshold rule; Meta's monotonic / combined rules only when `behaviour.metaPatchRules` (HF stores
 *            `monotonicity` and `patching_threshold_add` but ignores them)
 *   static   a one-token BOS patch, then strides of `patch_size` (must be an integer)
 *   space    space rule on the token ids
 *   byte     one token per patch; under the "N" convention this is HF's fallback of N+1 ones
 * `maxPatchLength` applies in every mode. "bpe" / "bpe_patcher" need a BPE-delimited stream or a boundary
 * model and are not implemented (Error).
 */
export function patchRuleOf(cfg: BltConfig, overrides: PatchRuleOverrides = {}): PatchRule {
  const p = cfg.patching, meta = cfg.behaviour.metaPatchRules;
  if (p.mode !== "entropy" && p.mode !== "byte" && p.mode !== "static" && p.mode !== "space")
    throw new Error(`patching: mode "${p.mode}" is not implemented (entropy, static, space and byte are)`);
  let convention = overrides.convention ?? cfg.behaviour.patchLengthsSumTo;
  checkConvention(convention, "patchRuleOf");
  if (p.mode === "byte" && convention === "N") convention = "N+1";
  let stride: number | null = null;
  if (p.mode === "static") {
    if (p.patchSize === null || !Number.isInteger(p.patchSize) || p.patchSize < 1)
      throw new Error(`patching: static patching needs an integer patch_size ≥ 1, got ${p.patchSize}`);
    stride = p.patchSize;
  }
  const maxPatchLength = overrides.maxPatchLength === undefined ? p.maxPatchLength : overrides.maxPatchLength;
  if (maxPatchLength !== null && !(Number.isInteger(maxPatchLength) && maxPatchLength >= 1))
    throw new Error(`patching: max_patch_length must be null or a positive integer, got ${maxPatchLength}`);
  return {
    mode: p.mode,
    threshold: overrides.threshold ?? p.threshold,
    monotonicity: meta && p.monotonicity,
    thresholdAdd: meta ? p.thresholdAdd : null,
    stride, maxPatchLength, convention,
  };
}

/**
 * The rule's start test on a row. Entropy mode picks the rule as Meta's `find_entropy_patch_start_ids`
 * does: monotonic if set, else combined if θ_add is set, else the global threshold.
 */
export function startTestOf(rule: PatchRule, tokens: ArrayLike<number>, entropies: ArrayLike<number> | null): StartTest {
  switch (rule.mode) {
    case "entropy":
      if (entropies === null) throw new Error("patching: entropy patching needs the entropies");
      if (rule.monotonicity) return monotonicTest(entropies, rule.threshold);
      if (rule.thresholdAdd !== null) return combinedTest(entropies, rule.threshold, rule.thresholdAdd);
      return globalThresholdTest(entropies, rule.threshold);
    case "static": return strideTest(rule.stride!);
    case "space": return spaceTest(tokens);
    case "byte": return byteTest;
  }
}

/**
 * Last candidate start of a row of N tokens. With a max patch length under "N", HF drops the trailing
 * zero-length patch a start at N would make, so N is no candidate then (it becomes one one token later).
 */
export function lastCandidateOf(rule: PatchRule, N: number): number {
  return rule.convention === "N" && rule.maxPatchLength !== null ? N - 1 : lastCandidate(N, rule.convention);
}

// [doc:scan-starts]
/**
 * Appends to `starts` (sorted, beginning [0] or [0, 1, ...]) the starts among positions from..to: t starts iff
 * t ≤ 1, or the rule says so, or the patch begun at the last start already holds `maxPatchLength` tokens
 * (paper §2.2: a long patch is cut into pieces of m, m, ..., rest; this only adds starts at S_j + q·m, so an
 * incremental rule stays incremental). Positions are decided in order, each from what precedes it, so the
 * cached generator calls this for its new positions only.
 */
export function scanStarts(rule: PatchRule, isStart: StartTest, starts: number[], from: number, to: number): void {
  const m = rule.maxPatchLength;
  for (let t = from; t <= to; t++) {
    if (t <= 1 || isStart(t) || (m !== null && t - starts[starts.length - 1]! >= m)) {
      if (t > 0) starts.push(t);
    }
  }
}

// [doc:patch-lengths-of]
/**
 * Patch lengths of one row of N tokens under `rule` (entropies [N] in entropy mode, else null): the forced
 * starts, the rule's starts, the max-length splits, then lengths by the rule's convention.
 */
export function patchLengths(rule: PatchRule, tokens: ArrayLike<number>, entropies: ArrayLike<number> | null): Int32Array {
  const N = tokens.length;
  checkN(N, "patchLengths");
  if (entropies !== null && entropies.length !== N) throw new Error(`patchLengths: ${entropies.length} entropies for ${N} tokens`);
  const starts = [0];
  scanStarts(rule, startTestOf(rule, tokens, entropies), starts, 1, lastCandidateOf(rule, N));
  return lengthsFromStarts(starts, N, rule.convention);
}
