// Row kernels: gather rows of a table by id (embedding lookup), the scatter-add that is its backward, and the
// per-segment maximum (BLT's patch pooling) with its backward.

import type { FloatArray } from '../../../tensor/dtype.js';

/** out[i, :] = table[ids[i], :] for i < n (rows of D). */
export function gatherRows(table: FloatArray, D: number, ids: Int32Array, n: number, out: FloatArray): void {
  for (let i = 0; i < n; i++) out.set(table.subarray(ids[i] * D, ids[i] * D + D), i * D);
}

/**
 * out[v, :] = Σ_{i: ids[i] = v} g[i, :] (out zero-filled by the caller, [V, D]).
 * Rows used many times are summed in float64 (accurately) and rounded once. Instead of a float64 copy of the
 * whole [V, D] table (25 MB for BLT's hash tables, of which a batch touches a few thousand rows), the gradient
 * rows are visited grouped by id (a counting sort, stable, so each row's sum runs in the order i = 0, 1, ... as a
 * direct loop would) with one float64 row accumulator.
 */
export function scatterAddRows(g: FloatArray, ids: Int32Array, n: number, D: number, V: number, out: FloatArray): void {
  const count = new Int32Array(V + 1);
  for (let i = 0; i < n; i++) count[ids[i] + 1]++;
  for (let v = 0; v < V; v++) count[v + 1] += count[v]; // count[v] = first slot of id v in `order`
  const order = new Int32Array(n);
  const next = count.slice(0, V);
  for (let i = 0; i < n; i++) order[next[ids[i]]++] = i;
  const acc = new Float64Array(D);
  for (let v = 0; v < V; v++) {
    const first = count[v], last = count[v + 1];
    if (first === last) continue;
    acc.fill(0);
    for (let k = first; k < last; k++) {
      const gi = order[k] * D;
      for (let d = 0; d < D; d++) acc[d] += g[gi + d];
    }
    out.set(acc, v * D);
  }
}

/**
 * values[s, d] = max over rows i with seg[i] = s of x[i, d], argmax[s, d] = that row (first maximum); rows with
 * seg[i] < 0 belong to no segment. values and argmax have S·D elements; argmax must be filled with -1 by the caller.
 */
export function segmentMax(x: FloatArray, seg: Int32Array, N: number, D: number, values: FloatArray,
  argmax: Int32Array): void {
  for (let i = 0; i < N; i++) {
    const s = seg[i];
    if (s < 0) continue;
    for (let d = 0; d < D; d++) {
      const v = x[i * D + d], o = s * D + d;
      if (argmax[o] < 0 || v > values[o]) { values[o] = v; argmax[o] = i; }
    }
  }
}

/** out[argmax[s, d], d] += g[s, d] (out [N, D], zero-filled by the caller). */
export function segmentMaxBackward(g: FloatArray, argmax: Int32Array, S: number, D: number, out: FloatArray): void {
  for (let s = 0; s < S; s++) {
    for (let d = 0; d < D; d++) {
      const i = argmax[s * D + d];
      if (i >= 0) out[i * D + d] += g[s * D + d];
    }
  }
}
