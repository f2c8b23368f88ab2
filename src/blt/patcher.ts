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
// Boundary rules (each returns the sorted start positions, forced 0 and 1 included)
// ---------------------------------------------------------------------------------------------------

// [doc:forced-starts]
/** Starts [0, 1] (1 only if it is a candidate) followed by every t ∈ [2, last] with isStart(t). */
function collectStarts(N: number, convention: LengthConvention, isStart: (t: number) => boolean): number[] {
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
/**
 * Global threshold rule (§2.3, eq. [P §2.3]): t ≥ 2 starts iff H(x_t) = ent[t-1] > θ (strict).
 * ent[0] is never used (position 1 always starts).
 */
export function globalThresholdStarts(
  ent: ArrayLike<number>,
  threshold: number,
  convention: LengthConvention = "N+1",
): number[] {
  checkEnt(ent, "globalThresholdStarts");
  return collectStarts(ent.length, convention, (t) => ent[t - 1]! > threshold);
}

// [doc:monotonic]
/**
 * Approximate monotonic rule (§2.4, Meta `monotonicity=True`): 0, 1, 2 always start;
 * t ≥ 3 starts iff H(x_t) - H(x_{t-1}) = ent[t-1] - ent[t-2] > θ_r.
 */
export function monotonicStarts(
  ent: ArrayLike<number>,
  thresholdRelative: number,
  convention: LengthConvention = "N+1",
): number[] {
  checkEnt(ent, "monotonicStarts");
  return collectStarts(ent.length, convention, (t) => t === 2 || ent[t - 1]! - ent[t - 2]! > thresholdRelative);
}

// [doc:combined]
/**
 * Combined global + relative rule (§2.5, Meta `threshold_add` set, `monotonicity=False`), with the
 * quirks of the vectorised reference: 0, 1, 2 always start, 3 NEVER starts, and t ≥ 4 starts iff
 * ent[t-1] - ent[t-2] > θ_add AND ent[t-1] > θ.
 */
export function combinedStarts(
  ent: ArrayLike<number>,
  threshold: number,
  thresholdAdd: number,
  convention: LengthConvention = "N+1",
): number[] {
  checkEnt(ent, "combinedStarts");
  return collectStarts(ent.length, convention, (t) => {
    if (t === 2) return true;
    if (t === 3) return false;
    return ent[t - 1]! - ent[t - 2]! > thresholdAdd && ent[t - 1]! > threshold;
  });
}

// [doc:topk]
/**
 * Top-k rule (§2.6, Meta `threshold=None`): the k = ⌊N / patchSize⌋ - 2 largest of ent[1..N-1] make
 * positions (index + 1) starts, chosen over the WHOLE sequence ⇒ NOT incremental (a later, larger
 * entropy can remove an earlier start). Like Meta's code, candidates run up to position N whatever
 * the convention (only "N-offline" then drops a start at N). k is clamped to [0, N-1]; ties are
 * broken towards the earlier position (torch.topk leaves this unspecified).
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

/**
 * Static / strided patches (§2.6). `firstPatch: "bos"` gives lengths [1, k, k, ..., rest] (a one-token
 * BOS patch, as the golden `stride{k}` variant and as the decoder shift requires); `"none"` gives the
 * plain MegaByte stride [k, k, ..., rest] (starts at multiples of k).
 */
export function strideStarts(N: number, k: number, convention: LengthConvention = "N+1", firstPatch: "bos" | "none" = "bos"): number[] {
  checkN(N, "strideStarts");
  if (!Number.isInteger(k) || k < 1) throw new Error(`strideStarts: stride must be a positive integer, got ${k}`);
  const last = lastCandidate(N, convention);
  const starts = [0];
  for (let t = firstPatch === "bos" ? 1 : k; t <= last; t += k) starts.push(t);
  return starts;
}

/** Byte patching (§2.6): every position is a start (one token per patch). */
export function byteStarts(N: number, convention: LengthConvention = "N+1"): number[] {
  checkN(N, "byteStarts");
  const last = lastCandidate(N, convention);
  return Array.from({ length: last + 1 }, (_, t) => t);
}

/**
 * "Space-like" byte (§2.6): not an ASCII letter/digit and not a UTF-8 continuation byte; special tokens
 * (id < 4) count as space-like. b = id - 4 ∈ [..47] ∪ [58, 64] ∪ [91, 96] ∪ [123, 127] ∪ [192, 255].
 */
export function isSpaceLike(id: number): boolean {
  const b = id - 4;
  return b < 48 || (b > 57 && b < 65) || (b > 90 && b < 97) || (b > 122 && b < 128) || b >= 192;
}

/**
 * Space patching (§2.6, Meta `find_space_patch_start_ids`): a patch ENDS at a space-like token whose
 * predecessor is not space-like (original flags, not updated sequentially), and at every special token
 * (id < 4). Positions 0, 1 start; t ≥ 2 starts iff token t-1 ended a patch. (The paper's "at least one
 * non-space-like byte per patch" is not in the reference code and not applied.)
 */
export function spaceStarts(tokens: ArrayLike<number>, convention: LengthConvention = "N+1"): number[] {
  checkN(tokens.length, "spaceStarts");
  const endsPatch = (i: number): boolean =>
    tokens[i]! < 4 || (isSpaceLike(tokens[i]!) && (i === 0 || !isSpaceLike(tokens[i - 1]!)));
  return collectStarts(tokens.length, convention, (t) => endsPatch(t - 1));
}

// ---------------------------------------------------------------------------------------------------
// Max patch length (§2.7; HF `process_patch_lengths`, Meta `split_large_numbers`)
// ---------------------------------------------------------------------------------------------------

// [doc:max-patch-length]
/**
 * Drop zero-length patches (HF), then replace each L > m by ⌊L/m⌋ copies of m plus the remainder if
 * non-zero. Only adds starts at S_j + q·m, so incremental rules stay incremental.
 */
export function splitLongPatches(lengths: ArrayLike<number>, maxPatchLength: number): Int32Array {
  if (!Number.isInteger(maxPatchLength) || maxPatchLength < 1)
    throw new Error(`splitLongPatches: maxPatchLength must be a positive integer, got ${maxPatchLength}`);
  const out: number[] = [];
  for (let j = 0; j < lengths.length; j++) {
    const L = lengths[j]!;
    if (!Number.isInteger(L) || L < 0) throw new Error(`splitLongPatches: bad patch length ${L} at index ${j}`);
    for (let q = 0; q < Math.floor(L / maxPatchLength); q++) out.push(maxPatchLength);
    if (L % maxPatchLength !== 0) out.push(L % maxPatchLength);
  }
  return Int32Array.from(out);
}

// ---------------------------------------------------------------------------------------------------
// One-call entropy patching, as BltPatcher / Meta's Patcher.patch
// ---------------------------------------------------------------------------------------------------

export interface EntropyPatchOptions {
  threshold: number;
  /** default "N" (HF). Use "N+1" for Meta's realtime/generation patcher. */
  convention?: LengthConvention;
  /** Meta `monotonicity=True`: use the relative rule with `threshold` as θ_r. */
  monotonicity?: boolean;
  /** Meta `threshold_add`: combined rule (ignored when monotonicity is set, as in Meta's code). */
  thresholdAdd?: number | null;
  /** split patches longer than this (after dropping zero-length patches). */
  maxPatchLength?: number | null;
}

// [doc:entropy-patch-lengths]
/** Entropies → patch lengths, with the rule selection of Meta's `find_entropy_patch_start_ids`. */
export function entropyPatchLengths(ent: ArrayLike<number>, options: EntropyPatchOptions): Int32Array {
  const convention = options.convention ?? "N";
  let starts: number[];
  if (options.monotonicity) starts = monotonicStarts(ent, options.threshold, convention);
  else if (options.thresholdAdd != null) starts = combinedStarts(ent, options.threshold, options.thresholdAdd, convention);
  else starts = globalThresholdStarts(ent, options.threshold, convention);
  const lengths = lengthsFromStarts(starts, ent.length, convention);
  return options.maxPatchLength != null ? splitLongPatches(lengths, options.maxPatchLength) : lengths;
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
// Patch lengths as a configured model would compute them
// ---------------------------------------------------------------------------------------------------

/** Entropy-patching options of a config: θ, length convention, Meta rules only if behaviour asks for them. */
export function entropyPatchOptions(cfg: BltConfig): EntropyPatchOptions {
  const meta = cfg.behaviour.metaPatchRules;
  return {
    threshold: cfg.patching.threshold,
    convention: cfg.behaviour.patchLengthsSumTo,
    monotonicity: meta && cfg.patching.monotonicity,
    thresholdAdd: meta ? cfg.patching.thresholdAdd : null,
    maxPatchLength: cfg.patching.maxPatchLength,
  };
}

/**
 * Patch lengths of one row for `cfg.patching.mode`:
 *   entropy  entropyPatchLengths(entropies, entropyPatchOptions(cfg))  (entropies required)
 *   byte     one token per patch; HF's fallback is N+1 ones whatever the convention, so "N+1" is used
 *   static   stride cfg.patching.patchSize with a one-token BOS patch first
 *   space    space rule on the token ids
 * `maxPatchLength` splitting is applied in every mode. "bpe" / "bpe_patcher" need a BPE-delimited
 * stream or a boundary model and are not implemented (Error).
 */
export function patchLengthsForConfig(cfg: BltConfig, tokens: ArrayLike<number>, entropies: ArrayLike<number> | null): Int32Array {
  const N = tokens.length;
  const convention: LengthConvention = cfg.behaviour.patchLengthsSumTo;
  const split = (L: Int32Array): Int32Array =>
    cfg.patching.maxPatchLength != null ? splitLongPatches(L, cfg.patching.maxPatchLength) : L;
  switch (cfg.patching.mode) {
    case "entropy":
      if (entropies === null) throw new Error("patchLengthsForConfig: entropy patching needs the entropies");
      if (entropies.length !== N) throw new Error(`patchLengthsForConfig: ${entropies.length} entropies for ${N} tokens`);
      return entropyPatchLengths(entropies, entropyPatchOptions(cfg));
    case "byte":
      return split(lengthsFromStarts(byteStarts(N, "N+1"), N, "N+1"));
    case "static": {
      const k = cfg.patching.patchSize;
      if (k === null || !Number.isInteger(k)) throw new Error(`patchLengthsForConfig: static patching needs an integer patch_size, got ${k}`);
      return split(lengthsFromStarts(strideStarts(N, k, convention, "bos"), N, convention));
    }
    case "space":
      return split(lengthsFromStarts(spaceStarts(tokens, convention), N, convention));
    default:
      throw new Error(`patchLengthsForConfig: patching mode "${cfg.patching.mode}" is not implemented`);
  }
}
