// Where a row's patches start and how long they are.
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
// Encoder/decoder patch ids of the real positions 0..N-1 are the same under all three (patch-ids.ts).

export type LengthConvention = "N+1" | "N" | "N-offline";

/** Whether position N (the next token) is a candidate start under the convention. */
function includesNext(convention: LengthConvention): boolean {
  return convention !== "N-offline";
}

/** Last candidate start position: N ("N+1", "N") or N-1 ("N-offline"). */
export function lastCandidate(N: number, convention: LengthConvention): number {
  return includesNext(convention) ? N : N - 1;
}

export function checkN(N: number, op: string): void {
  if (!Number.isInteger(N) || N < 1) throw new Error(`${op}: need at least one token (the BOS), got N = ${N}`);
}

export function checkConvention(c: string, op: string): asserts c is LengthConvention {
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
