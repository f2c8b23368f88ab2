// attention-forward.wgsl.ts — fused flash-style attention forward with a per-query key range.
//
// Layouts (shared with the CPU kernel): q [B, Tq, Hq, D], k/v [B, Tk, Hkv, D], out [B, Tq, Hq, D],
// lse [B, Hq, Tq], kvStart/kvEnd int32 [B, Tq]: query t of row b attends keys kvStart <= j < kvEnd
// (clamped to [0, Tk]); query head h reads kv head h / (Hq / Hkv).
//
// Tiling (FlashAttention-2's forward, Dao 2023, Alg. 1, with one query row per thread): one workgroup per (64 queries, head h, row b); each thread owns ONE query row and
// keeps q (pre-multiplied by scale), the output accumulator o, the running max m and the running
// denominator l in registers. The workgroup walks the union of its queries' key ranges in tiles of
// KT keys (KT = attentionTileRows(D), 32 for D = 64), staging K and V (KT x D) in workgroup memory
// (2 x KT x D x 4 B <= 16 KiB).
// Per tile, each thread (online softmax, Milakov & Gimelshein 2018; FlashAttention, Dao et al. 2022):
//   s_j   = (scale q) . k_j                  for keys j of the tile inside its own range
//   m'    = max(m, max_j s_j)
//   l     = l * exp(m - m') + sum_j exp(s_j - m')
//   o     = o * exp(m - m') + sum_j exp(s_j - m') v_j ,  m = m'
// and at the end out = o / l, lse = m + log(l). A query with an empty range writes out = 0, lse = -inf
// (no exp of a sentinel is ever taken, so nothing can turn into NaN).
// D is a compile-time constant (private arrays need a constant size); D4 = ceil(D / 4) vec4 per row.

export const ATTENTION_MAX_HEAD_DIM = 128;

/**
 * Rows of K/V (or Q/dO) staged per tile: the largest power of two in [16, 64] with two tiles within 16 KiB
 * (2 * rows * D * 4 B), e.g. 32 for D = 64. Fewer, larger tiles mean fewer barriers.
 */
export function attentionTileRows(headDim: number): number {
  const rowBytes = 4 * 4 * Math.ceil(headDim / 4);
  let rows = 64;
  while (rows > 16 && 2 * rows * rowBytes > 16384) rows /= 2;
  return rows;
}

/**
 * WGSL template: `fn NAME(base, e4) -> vec4<f32>` reads elements 4 e4 .. 4 e4 + 3 of the D-long row of
 * `buffer` that starts at `base`, with zeros past D (D need not be a multiple of 4). Shared by the forward,
 * dQ and dK/dV kernels, which stage rows of Q, K, V and dO the same way.
 */
export function wgslRow4(name: string, buffer: string): string {
  return `fn ${name}(base: u32, e4: u32) -> vec4<f32> {
  var r = vec4<f32>(0.0);
  for (var c = 0u; c < 4u; c++) { if (4u * e4 + c < D) { r[c] = ${buffer}[base + 4u * e4 + c]; } }
  return r;
}`;
}

/**
 * WGSL template (statements inside main): this thread's key range [start, end) for query t of row b, clamped
 * to [0, Tk] and empty for padding threads beyond Tq, and `range`, the union of the workgroup's non-empty
 * ranges (the keys the workgroup must stage). Needs workgroup vars `ranges: array<vec2<u32>, WG>` and
 * `tileRange: vec2<u32>`. Shared by the query-parallel kernels (forward and dQ).
 */
export function wgslQueryRanges(): string {
  return `  // This query's clamped key range (empty for padding threads beyond Tq).
  var start = 0u;
  var end = 0u;
  if (t < p.Tq) {
    start = u32(clamp(kvStart[b * p.Tq + t], 0, i32(p.Tk)));
    end = u32(clamp(kvEnd[b * p.Tq + t], i32(start), i32(p.Tk)));
  }
  ranges[lid.x] = vec2<u32>(start, end);
  workgroupBarrier();
  if (lid.x == 0u) {
    var lo = p.Tk;
    var hi = 0u;
    for (var i = 0u; i < WG; i++) {
      let r = ranges[i];
      if (r.x < r.y) { lo = min(lo, r.x); hi = max(hi, r.y); }
    }
    tileRange = vec2<u32>(lo, hi);
  }
  let range = workgroupUniformLoad(&tileRange);`;
}

/**
 * WGSL template (statements inside the key-tile loop `for (var j0 = ...; j0 += KT)`): stages K and V rows
 * j0 .. j0 + KT - 1 of kv head hk into the workgroup arrays Ks, Vs (zeros past Tk), each thread copying every
 * WG-th vec4 through the row readers `k` and `v` (wgslRow4), then waits at a barrier. Shared by the
 * query-parallel kernels (forward and dQ).
 */
export function wgslStageKeyTile(k: string, v: string): string {
  return `    // Stage K and V rows j0 .. j0 + KT - 1 (zeros past Tk).
    for (var s = lid.x; s < KT * D4; s += WG) {
      let j = j0 + s / D4;
      if (j < p.Tk) {
        let kBase = ((b * p.Tk + j) * p.Hkv + hk) * D;
        Ks[s] = ${k}(kBase, s % D4);
        Vs[s] = ${v}(kBase, s % D4);
      } else {
        Ks[s] = vec4<f32>(0.0);
        Vs[s] = vec4<f32>(0.0);
      }
    }
    workgroupBarrier();`;
}

export function attentionForwardWgsl(headDim: number): string {
  return /* wgsl */ `
const D = ${headDim}u;
const D4 = ${Math.ceil(headDim / 4)}u;
const WG = 64u;    // queries per workgroup (one per thread)
const KT = ${attentionTileRows(headDim)}u;   // rows per staged tile (attentionTileRows)

struct Params { B: u32, Tq: u32, Tk: u32, Hq: u32, Hkv: u32, scale: f32, negInfBits: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read> kvStart: array<i32>;
@group(0) @binding(5) var<storage, read> kvEnd: array<i32>;
@group(0) @binding(6) var<storage, read_write> O: array<f32>;
@group(0) @binding(7) var<storage, read_write> LSE: array<f32>;

var<workgroup> Ks: array<vec4<f32>, KT * D4>;   // Ks[jj * D4 + e4] = k[j0 + jj, 4 e4 .. 4 e4 + 3]
var<workgroup> Vs: array<vec4<f32>, KT * D4>;
var<workgroup> ranges: array<vec2<u32>, WG>;    // each thread's [start, end)
var<workgroup> tileRange: vec2<u32>;            // union of the workgroup's ranges

${wgslRow4('q4', 'Q')}
${wgslRow4('k4', 'K')}
${wgslRow4('v4', 'V')}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let t = wid.x * WG + lid.x;
  let h = wid.y;
  let b = wid.z;
  let hk = h / (p.Hq / p.Hkv);

${wgslQueryRanges()}

  let qBase = ((b * p.Tq + min(t, p.Tq - 1u)) * p.Hq + h) * D;
  var q: array<vec4<f32>, D4>;
  var o: array<vec4<f32>, D4>;
  for (var e4 = 0u; e4 < D4; e4++) {
    q[e4] = p.scale * q4(qBase, e4);
    o[e4] = vec4<f32>(0.0);
  }
  var m = 0.0;   // running max (meaningful once l > 0)
  var l = 0.0;   // running denominator

  for (var j0 = range.x; j0 < range.y; j0 += KT) {
${wgslStageKeyTile('k4', 'v4')}

    let jlo = max(start, j0);
    let jhi = min(end, j0 + KT);
    if (jlo < jhi) {
      // Scores of this tile, and their max.
      var sc: array<f32, KT>;
      var tileMax = -3.0e38;
      for (var j = jlo; j < jhi; j++) {
        let jj = j - j0;
        var acc = vec4<f32>(0.0);
        for (var e4 = 0u; e4 < D4; e4++) { acc = fma(q[e4], Ks[jj * D4 + e4], acc); }
        sc[jj] = acc.x + acc.y + acc.z + acc.w;
        tileMax = max(tileMax, sc[jj]);
      }
      // Online softmax update.
      var mNew = tileMax;
      if (l > 0.0) {
        mNew = max(m, tileMax);
        let alpha = exp(m - mNew);
        l = l * alpha;
        for (var e4 = 0u; e4 < D4; e4++) { o[e4] = o[e4] * alpha; }
      }
      for (var j = jlo; j < jhi; j++) {
        let jj = j - j0;
        let pj = exp(sc[jj] - mNew);
        l += pj;
        for (var e4 = 0u; e4 < D4; e4++) { o[e4] = fma(vec4<f32>(pj), Vs[jj * D4 + e4], o[e4]); }
      }
      m = mNew;
    }
    workgroupBarrier();
  }

  if (t >= p.Tq) { return; }
  let oBase = ((b * p.Tq + t) * p.Hq + h) * D;
  var inv = 0.0;
  if (l > 0.0) { inv = 1.0 / l; }
  for (var e4 = 0u; e4 < D4; e4++) {
    let r = o[e4] * inv;
    for (var c = 0u; c < 4u; c++) { if (4u * e4 + c < D) { O[oBase + 4u * e4 + c] = r[c]; } }
  }
  var lse = bitcast<f32>(p.negInfBits);
  if (l > 0.0) { lse = m + log(l); }
  LSE[(b * p.Hq + h) * p.Tq + t] = lse;
}
`;
}
