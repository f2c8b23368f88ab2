// The patching rule of a config, and the one function that turns a row into patch lengths: forward, loss,
// training, generation, the CLI and the golden check all reach patches through patchLengths (via
// Blt.patchLengthsOf), and the cached generator through the same start tests and scanStarts.
import type { BltConfig } from '../config/types.js';
import { checkConvention, checkN, lastCandidate, lengthsFromStarts, type LengthConvention } from './conventions.js';
import { byteTest, combinedTest, globalThresholdTest, monotonicTest, spaceTest, strideTest, type StartTest } from './rules.js';

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
  /** split patches longer than this, in every mode (Meta's `max_patch_length`; HF `process_patch_lengths`) */
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
 * (as Meta's and HF's max_patch_length: a long patch is cut into pieces of m, m, ..., rest; this only adds starts at S_j + q·m, so an
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
