// Per-query key ranges of the kinds BLT's attention masks produce, for the attention kernel specs.

export type RangeKind = 'random' | 'causal' | 'window' | 'patches' | 'empty';

/** Key ranges [B, Tq] of the kinds BLT uses (plus random and all-empty ones). */
export function makeRanges(kind: RangeKind, B: number, Tq: number, Tk: number, seed: number): [Int32Array, Int32Array] {
  const start = new Int32Array(B * Tq), end = new Int32Array(B * Tq);
  let s = seed >>> 0 || 1;
  const rand = (n: number) => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return Math.floor((s / 2 ** 32) * n); };
  const window = 1 + rand(4);
  for (let b = 0; b < B; b++) {
    // cross-attention style: queries belong to monotone patches; patch p owns a contiguous block of keys
    let patchStart = 0, patchEnd = 0;
    for (let t = 0; t < Tq; t++) {
      const r = b * Tq + t;
      if (kind === 'random') {
        const x = rand(Tk + 1), y = rand(Tk + 1);
        start[r] = Math.min(x, y); end[r] = rand(4) === 0 ? start[r] : Math.max(x, y); // ~1/4 empty
      } else if (kind === 'causal') { // key j ≤ t (shifted when Tk > Tq, as with a cache)
        end[r] = Math.min(Tk, t + 1 + Math.max(0, Tk - Tq)); start[r] = 0;
      } else if (kind === 'window') { // t - w < j ≤ t
        end[r] = Math.min(Tk, t + 1); start[r] = Math.max(0, end[r] - window);
      } else if (kind === 'patches') { // monotone patches: a new patch starts where the previous one ended
        if (t === 0 || rand(2) === 0) { patchStart = patchEnd; patchEnd = Math.min(Tk, patchEnd + rand(4)); }
        start[r] = patchStart; end[r] = patchEnd;
      } // 'empty': leave [0, 0)
    }
  }
  return [start, end];
}

