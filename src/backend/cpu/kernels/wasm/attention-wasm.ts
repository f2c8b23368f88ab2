// Fused attention on WebAssembly SIMD for float32 (forward and backward), the fast version of
// ../attention-reference.ts (the readable oracle) beside the float64 JS kernel ../attention.ts. Same contract:
//
//   s_tj = scale · q_t · k_j  for kvStart[t] ≤ j < kvEnd[t];  out_t = Σ_j softmax_j(s_t)_j · v_j;  lse_t = log Σ_j exp(s_tj)
//   backward: p_tj = exp(s_tj - lse_t), D_t = dO_t·out_t, dS_tj = p_tj (dO_t·v_j - D_t),
//             dq_t = scale Σ_j dS_tj k_j,  dk_j = scale Σ_t dS_tj q_t,  dv_j = Σ_t p_tj dO_t
//
// Tiling: queries are taken in blocks of up to QB = 32 rows (a multiple of 4). For a block, the keys it may see
// are the union [lo, hi) of its rows' ranges, widened to multiples of 8; the block's scores S [rows][n] (n =
// hi8 - lo8 ≤ Tk, at most 32·Tk floats: no [Tq, Tk] matrix) are computed by the 4×8 matmul micro-kernel
// (matmul-module.ts), and masked per row inside the wasm row functions (attention-module.ts). A block is exact,
// not online: its full score rows fit in memory, so the softmax is taken once, without rescaling.
//   forward, per block:  S = Q·Kᵀ → softmaxRows (P = softmax of scale·S, masked) → O = P·V
//   backward, per block: S = Q·Kᵀ, dP = dO·Vᵀ → gradRows (P, dS) → dQ = scale·dS·K, dK += dSᵀ·Q, dV += Pᵀ·dO
// Each thread first stages a batch item's rows of Q, K, V (and dO) into its wasm memory as they lie, one memcpy
// each, zero rows padding them to whole blocks and panels (stageRows). Q and dO, the A operands of Q·Kᵀ and dO·Vᵀ,
// are then read where they lie (kernelRowsA); the other operands are packed in wasm as the micro-kernel expects
// (packPanelsT8 and packPanels8 of matmul-pack-module.ts): A operands as [rows/4][K][4], B operands as panels of
// 8 columns [⌈N/8⌉][K][8]. K and V are packed once per (batch, kv head): as key panels (8 keys side by side, the B
// of Q·Kᵀ and dO·Vᵀ) and as dim panels (8 feature dims of every key, the B of P·V and dS·K). The forward stages
// only the keys some query of the batch item reads (the union of its ranges, widened to multiples of 8), so a
// step of cached generation, one query over a cache with spare rows, costs its range, not the cache.
// A forward of at most QUERY_ROWS_MAX = 8 query rows skips the packing (for one query it costs more than the products): its rows
// go one at a time through rowScores and rowValues (attention-query-module.ts), which read K and V in rows as
// they lie, and add in the micro-kernel's order, so a row has the same bits on either path.
// Everything is float32 (sums too), like the wasm matmul: see spec/backend/cpu/wasm-attention.spec.ts for the
// error model the tests check.
//
// Work units are those of ../attention.ts: forward u = (batch b, query head h), backward u = (batch b, kv head g),
// each computed entirely by one thread, so any split over threads gives the same bits. The *Units functions
// and the pack helpers are self-contained (they call only each other and the wasm exports): thread-pool.ts ships
// their source text to the workers.

import type { AttentionDims } from '../attention-reference.js';
import type { KernelInstance } from './module.js';

/**
 * Copies rows [first, first + count) of x (rows of rowFloats floats) into wasm memory at float index off, then zeros
 * up to padTo rows: the packers and kernelRowsA below read whole panels and blocks, so rows past the real ones must
 * be zero (a zero row contributes exact zeros to every sum).
 */
export function stageRows(x: Float32Array, first: number, count: number, padTo: number, rowFloats: number,
  mem: Float32Array, off: number): void {
  mem.set(x.subarray(first * rowFloats, (first + count) * rowFloats), off);
  mem.fill(0, off + count * rowFloats, off + padTo * rowFloats);
}

/**
 * Key panels of `rows` rows (a multiple of 8) staged at float index src with row stride `stride` floats:
 * mem[dst + (jp·D + d)·8 + c] = row 8·jp + c, dim d (the B operand of Q·Kᵀ and dO·Vᵀ), by the wasm packPanelsT8.
 */
export function packKeyPanelsWasm(wasm: KernelInstance, src: number, stride: number, rows: number, D: number,
  dst: number): void {
  wasm.packPanelsT8(4 * src, 4 * stride, 4 * dst, D, rows >> 3);
}

/**
 * Dim panels of `rows` staged rows: mem[dst + ((d>>3)·rows + j)·8 + (d&7)] = row j, dim d (0 past D), the B
 * operand of P·V, dS·K, dSᵀ·Q and Pᵀ·dO. The wasm packPanels8 when D is a multiple of 8 (every BLT head size),
 * else the same floats one at a time.
 */
export function packDimPanelsWasm(wasm: KernelInstance, mem: Float32Array, src: number, stride: number, rows: number,
  D: number, dst: number): void {
  if ((D & 7) === 0) {
    wasm.packPanels8(4 * src, 4 * stride, 4 * dst, rows, D >> 3);
    return;
  }
  const panels = (D + 7) >> 3;
  mem.fill(0, dst, dst + panels * rows * 8);
  for (let j = 0; j < rows; j++) {
    for (let d = 0; d < D; d++) mem[dst + ((d >> 3) * rows + j) * 8 + (d & 7)] = mem[src + j * stride + d];
  }
}

/**
 * The most query rows a forward call may have to take the one-query path (thread-pool.ts re-declares it for the
 * workers, which run the text of the functions below).
 */
export const QUERY_ROWS_MAX = 8;

/**
 * The forward for units [unitStart, unitEnd), u = (b = ⌊u / Hq⌋, h = u mod Hq). Writes out and lse rows of (b, h).
 * Calls of up to QUERY_ROWS_MAX query rows (a step of cached generation has one) take the one-query path, which
 * reads K and V unpacked; longer ones the block path, whose packing pays off over many rows (at Tk = 1026, 8 heads,
 * D = 32 the two cost the same near 16 rows). Both give the same bits, so the choice never changes a result.
 */
export function wasmAttentionForwardUnits(
  wasm: KernelInstance, q: Float32Array, k: Float32Array, v: Float32Array, kvStart: Int32Array, kvEnd: Int32Array,
  dims: AttentionDims, out: Float32Array, lse: Float32Array, unitStart: number, unitEnd: number,
): void {
  if (dims.Tq <= QUERY_ROWS_MAX) wasmAttentionQueryRowsUnits(wasm, q, k, v, kvStart, kvEnd, dims, out, lse, unitStart, unitEnd);
  else wasmAttentionBlockUnits(wasm, q, k, v, kvStart, kvEnd, dims, out, lse, unitStart, unitEnd);
}

/** The forward's block path for units [unitStart, unitEnd): blocks of QB query rows on the micro-kernel. */
export function wasmAttentionBlockUnits(
  wasm: KernelInstance, q: Float32Array, k: Float32Array, v: Float32Array, kvStart: Int32Array, kvEnd: Int32Array,
  dims: AttentionDims, out: Float32Array, lse: Float32Array, unitStart: number, unitEnd: number,
): void {
  const { Tq, Tk, Hq, Hkv, D, scale } = dims;
  const QB = 32; // query rows per block (a multiple of 4)
  const group = Hq / Hkv, qRow = Hq * D, kRow = Hkv * D; // floats per query row and per key row (all heads)
  const Tq4 = (Tq + 3) & ~3, Tk8 = (Tk + 7) & ~7, D8 = (D + 7) & ~7;
  // wasm memory layout, in float32 units
  const qsOff = 0;                          // item b's query rows [Tq4][Hq·D] (Q is read in place, kernelRowsA)
  const ksOff = qsOff + Tq4 * qRow;         // its key rows [kLo8, kLo8 + nK8) [Tk8][Hkv·D]
  const vsOff = ksOff + Tk8 * kRow;         // its value rows, the same
  const kpOff = vsOff + Tk8 * kRow;         // K of head g as key panels [Tk8/8][D][8]
  const vpOff = kpOff + Tk8 * D;            // V of head g as dim panels [D8/8][Tk8][8]
  const sOff = vpOff + D8 * Tk8;            // scores, then probabilities [rows][n]
  const ppOff = sOff + QB * Tk8;            // P as A [rows/4][n][4]
  const oOff = ppOff + QB * Tk8;            // O = P·V [rows][D8]
  const rangesOff = oOff + QB * D8;         // int32 (start, end) per row
  const mlOff = rangesOff + 2 * QB;         // float32 (m, l) per row
  const bytes = 4 * (mlOff + 2 * QB);
  if (wasm.memory.buffer.byteLength < bytes) wasm.memory.grow(Math.ceil((bytes - wasm.memory.buffer.byteLength) / 65536));
  const mem = new Float32Array(wasm.memory.buffer), memI = new Int32Array(wasm.memory.buffer);
  let stagedItem = -1, packedHead = -1;
  let kLo8 = 0, nK8 = 0; // keys staged: [kLo8, kLo8 + nK8), kLo8 a multiple of 8; key j at staged row j - kLo8
  for (let u = unitStart; u < unitEnd; u++) {
    const b = Math.floor(u / Hq), h = u - b * Hq, g = Math.floor(h / group);
    if (b !== stagedItem) { // only the keys some query of item b reads are staged (one new query reads few of them)
      let lo = Tk, hi = 0;
      for (let t = b * Tq; t < (b + 1) * Tq; t++) {
        if (kvEnd[t] > kvStart[t]) { if (kvStart[t] < lo) lo = kvStart[t]; if (kvEnd[t] > hi) hi = kvEnd[t]; }
      }
      kLo8 = hi > lo ? lo & ~7 : 0;
      nK8 = hi > lo ? ((hi + 7) & ~7) - kLo8 : 0;
      const rowsK = Math.min(Tk, kLo8 + nK8) - kLo8;
      stageRows(q, b * Tq, Tq, Tq4, qRow, mem, qsOff);
      stageRows(k, b * Tk + kLo8, rowsK, nK8, kRow, mem, ksOff);
      stageRows(v, b * Tk + kLo8, rowsK, nK8, kRow, mem, vsOff);
      stagedItem = b;
      packedHead = -1;
    }
    if (g !== packedHead) {
      packKeyPanelsWasm(wasm, ksOff + g * D, kRow, nK8, D, kpOff);
      packDimPanelsWasm(wasm, mem, vsOff + g * D, kRow, nK8, D, vpOff);
      packedHead = g;
    }
    for (let t0 = 0; t0 < Tq; t0 += QB) {
      const rows = Math.min(QB, Tq - t0), rows4 = (rows + 3) & ~3;
      let lo = Tk, hi = 0;
      for (let r = 0; r < rows4; r++) {
        const st = r < rows ? kvStart[b * Tq + t0 + r] : 0, en = r < rows ? kvEnd[b * Tq + t0 + r] : 0;
        memI[rangesOff + 2 * r] = st;
        memI[rangesOff + 2 * r + 1] = en;
        if (en > st) { if (st < lo) lo = st; if (en > hi) hi = en; }
      }
      const qo = ((b * Tq + t0) * Hq + h) * D; // row r of the block at qo + r·Hq·D
      if (hi <= lo) { // every row of the block sees no key: out = 0, lse = -∞
        for (let r = 0; r < rows; r++) {
          out.fill(0, qo + r * Hq * D, qo + r * Hq * D + D);
          lse[(b * Hq + h) * Tq + t0 + r] = -Infinity;
        }
        continue;
      }
      const lo8 = lo & ~7, n = Math.min(Tk8, (hi + 7) & ~7) - lo8, p8 = lo8 - kLo8; // p8: lo8's staged row
      // S [rows4][n] = Q·Kᵀ over key panels p8/8 .. (Q's rows where they lie); then P; then O [rows4][D8] = P·V
      wasm.kernelRowsA(4 * (qsOff + t0 * qRow + h * D), 4 * (kpOff + (p8 >> 3) * D * 8), 4 * sOff, D, rows4 >> 2,
        n >> 3, 4 * n, 32 * D, 0, 4 * qRow);
      wasm.softmaxRows(4 * sOff, n, rows4, lo8, 4 * rangesOff, scale, 4 * ppOff, 4 * mlOff);
      wasm.kernel(4 * ppOff, 4 * (vpOff + p8 * 8), 4 * oOff, n, rows4 >> 2, D8 >> 3, 4 * D8, 32 * nK8, 0);
      for (let r = 0; r < rows; r++) {
        out.set(mem.subarray(oOff + r * D8, oOff + r * D8 + D), qo + r * Hq * D);
        const m = mem[mlOff + 2 * r], l = mem[mlOff + 2 * r + 1];
        lse[(b * Hq + h) * Tq + t0 + r] = l > 0 ? m + Math.log(l) : -Infinity;
      }
    }
  }
}

/**
 * The forward for units [unitStart, unitEnd) one query row at a time, on rowScores and rowValues
 * (attention-query-module.ts), which read K and V where they lie: the keys some query of item b reads (the union
 * of its ranges, widened to multiples of 4) are copied, all kv heads at once, into wasm memory with one memcpy per
 * batch item, instead of being packed into panels. Every sum is taken in the order of the block path, so
 * both give the same bits for the same row (score and softmax lanes hold the keys j ≡ lane mod 4, and the keys
 * a block adds outside a row's range contribute exact zeros).
 */
export function wasmAttentionQueryRowsUnits(
  wasm: KernelInstance, q: Float32Array, k: Float32Array, v: Float32Array, kvStart: Int32Array, kvEnd: Int32Array,
  dims: AttentionDims, out: Float32Array, lse: Float32Array, unitStart: number, unitEnd: number,
): void {
  const { Tq, Tk, Hq, Hkv, D, scale } = dims;
  const group = Hq / Hkv, row = Hkv * D; // floats per key row (all kv heads)
  const Tk4 = (Tk + 3) & ~3, D8 = (D + 7) & ~7;
  // wasm memory layout, in float32 units
  const kOff = 0;                           // K rows [Tk4][Hkv·D], of the keys item b reads; 8 spare floats
  const vOff = kOff + Tk4 * row + 8;        // V rows, the same
  const qOff = vOff + Tk4 * row + 8;        // the query row [D]
  const sOff = qOff + D8;                   // its scores, then exp(x - m) [n]
  const ppOff = sOff + Tk4;                 // probabilities, p_j at ppOff + 4j (softmaxRows' layout for one row)
  const oOff = ppOff + 4 * Tk4;             // out [D8]
  const rangesOff = oOff + D8;              // int32 (start, end)
  const mlOff = rangesOff + 2;              // float32 (m, l)
  const bytes = 4 * (mlOff + 2);
  if (wasm.memory.buffer.byteLength < bytes) wasm.memory.grow(Math.ceil((bytes - wasm.memory.buffer.byteLength) / 65536));
  const mem = new Float32Array(wasm.memory.buffer), memI = new Int32Array(wasm.memory.buffer);
  let copiedItem = -1, kLo4 = 0; // rows of item copiedItem from key kLo4 on are in memory
  for (let u = unitStart; u < unitEnd; u++) {
    const b = Math.floor(u / Hq), h = u - b * Hq, g = Math.floor(h / group);
    if (b !== copiedItem) { // copy the keys item b's queries read, [kLo4, kHi4), with zero rows past Tk
      let lo = Tk, hi = 0;
      for (let t = b * Tq; t < (b + 1) * Tq; t++) {
        if (kvEnd[t] > kvStart[t]) { if (kvStart[t] < lo) lo = kvStart[t]; if (kvEnd[t] > hi) hi = kvEnd[t]; }
      }
      kLo4 = hi > lo ? lo & ~3 : 0;
      const kHi4 = hi > lo ? (hi + 3) & ~3 : 0, real = Math.min(Tk, kHi4) - kLo4;
      const first = (b * Tk + kLo4) * row;
      mem.set(k.subarray(first, first + real * row), kOff);
      mem.fill(0, kOff + real * row, kOff + (kHi4 - kLo4) * row + 8);
      mem.set(v.subarray(first, first + real * row), vOff);
      mem.fill(0, vOff + real * row, vOff + (kHi4 - kLo4) * row + 8);
      copiedItem = b;
    }
    for (let t = 0; t < Tq; t++) {
      const st = kvStart[b * Tq + t], en = kvEnd[b * Tq + t];
      const qo = ((b * Tq + t) * Hq + h) * D, li = (b * Hq + h) * Tq + t; // li: the lse index
      if (en <= st) { // the row sees no key
        out.fill(0, qo, qo + D);
        lse[li] = -Infinity;
        continue;
      }
      const lo4 = st & ~3, n = ((en + 3) & ~3) - lo4;
      const firstKey = 4 * (kOff + (lo4 - kLo4) * row + g * D), firstValue = 4 * (vOff + (lo4 - kLo4) * row + g * D);
      memI[rangesOff] = st;
      memI[rangesOff + 1] = en;
      mem.set(q.subarray(qo, qo + D), qOff);
      // s = q·Kᵀ over keys lo4 .. lo4 + n; then p (masked to [st, en)); then out = p·V
      wasm.rowScores(4 * qOff, firstKey, 4 * row, n, D, 4 * sOff);
      wasm.softmaxRows(4 * sOff, n, 1, lo4, 4 * rangesOff, scale, 4 * ppOff, 4 * mlOff);
      wasm.rowValues(4 * ppOff, 16, firstValue, 4 * row, n, D8, 4 * oOff);
      out.set(mem.subarray(oOff, oOff + D), qo);
      const m = mem[mlOff], l = mem[mlOff + 1];
      lse[li] = l > 0 ? m + Math.log(l) : -Infinity;
    }
  }
}

/**
 * The backward for units [unitStart, unitEnd), u = (b = ⌊u / Hkv⌋, kv head g = u mod Hkv): the dq rows of g's
 * query heads and the dk, dv rows of head g (summed over the group in float32 accumulators, written once).
 */
export function wasmAttentionBackwardUnits(
  wasm: KernelInstance, q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, lse: Float32Array,
  dOut: Float32Array, kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims,
  dq: Float32Array, dk: Float32Array, dv: Float32Array, unitStart: number, unitEnd: number,
): void {
  const { Tq, Tk, Hq, Hkv, D, scale } = dims;
  const QB = 32;
  const group = Hq / Hkv, qRow = Hq * D, kRow = Hkv * D;
  const Tq4 = (Tq + 3) & ~3, Tk8 = (Tk + 7) & ~7, D8 = (D + 7) & ~7;
  const qsOff = 0;                          // item b's query rows [Tq4][Hq·D]  (A of S = Q·Kᵀ, read in place)
  const dsOff = qsOff + Tq4 * qRow;         // its dO rows                     (A of dP = dO·Vᵀ, read in place)
  const ksOff = dsOff + Tq4 * qRow;         // its key rows [Tk8][Hkv·D]
  const vsOff = ksOff + Tk8 * kRow;         // its value rows
  const kpOff = vsOff + Tk8 * kRow;         // K as key panels [Tk8/8][D][8]  (B of S = Q·Kᵀ)
  const vkOff = kpOff + Tk8 * D;            // V as key panels                 (B of dP = dO·Vᵀ)
  const kdOff = vkOff + Tk8 * D;            // K as dim panels [D8/8][Tk8][8]  (B of dQ = dS·K)
  const dkOff = kdOff + D8 * Tk8;           // Σ dSᵀ·Q  [Tk8][D8]
  const dvOff = dkOff + Tk8 * D8;           // Σ Pᵀ·dO  [Tk8][D8]
  const qbOff = dvOff + Tk8 * D8;           // Q block as B panels [D8/8][rows4][8]  (B of dK)
  const dbOff = qbOff + QB * D8;            // dO block as B panels                  (B of dV)
  const sOff = dbOff + QB * D8;             // S [rows][n]
  const dpOff = sOff + QB * Tk8;            // dP [rows][n]
  const dsaOff = dpOff + QB * Tk8;          // dS as A [rows/4][n][4]
  const dstOff = dsaOff + QB * Tk8;         // dSᵀ as A [n/4][rows][4]
  const ptOff = dstOff + QB * Tk8;          // Pᵀ as A [n/4][rows][4]
  const dqOff = ptOff + QB * Tk8;           // dS·K [rows][D8]
  const rangesOff = dqOff + QB * D8;        // int32 (start, end) per row
  const lsedOff = rangesOff + 2 * QB;       // float32 (lse, D) per row
  const bytes = 4 * (lsedOff + 2 * QB);
  if (wasm.memory.buffer.byteLength < bytes) wasm.memory.grow(Math.ceil((bytes - wasm.memory.buffer.byteLength) / 65536));
  const mem = new Float32Array(wasm.memory.buffer), memI = new Int32Array(wasm.memory.buffer);
  let stagedItem = -1;
  for (let u = unitStart; u < unitEnd; u++) {
    const b = Math.floor(u / Hkv), g = u - b * Hkv;
    const kvBase = (b * Tk * Hkv + g) * D;
    if (b !== stagedItem) {
      stageRows(q, b * Tq, Tq, Tq4, qRow, mem, qsOff);
      stageRows(dOut, b * Tq, Tq, Tq4, qRow, mem, dsOff);
      stageRows(k, b * Tk, Tk, Tk8, kRow, mem, ksOff);
      stageRows(v, b * Tk, Tk, Tk8, kRow, mem, vsOff);
      stagedItem = b;
    }
    packKeyPanelsWasm(wasm, ksOff + g * D, kRow, Tk8, D, kpOff);
    packKeyPanelsWasm(wasm, vsOff + g * D, kRow, Tk8, D, vkOff);
    packDimPanelsWasm(wasm, mem, ksOff + g * D, kRow, Tk8, D, kdOff);
    mem.fill(0, dkOff, dvOff + Tk8 * D8);
    for (let h = g * group; h < (g + 1) * group; h++) {
      for (let t0 = 0; t0 < Tq; t0 += QB) {
        const rows = Math.min(QB, Tq - t0), rows4 = (rows + 3) & ~3;
        const qo = ((b * Tq + t0) * Hq + h) * D;
        let lo = Tk, hi = 0;
        for (let r = 0; r < rows4; r++) {
          const valid = r < rows;
          const st = valid ? kvStart[b * Tq + t0 + r] : 0, en = valid ? kvEnd[b * Tq + t0 + r] : 0;
          memI[rangesOff + 2 * r] = st;
          memI[rangesOff + 2 * r + 1] = en;
          if (en > st) { if (st < lo) lo = st; if (en > hi) hi = en; }
          let Dt = 0; // D_r = dO_r · out_r
          if (valid) for (let d = 0, o = qo + r * Hq * D; d < D; d++) Dt += dOut[o + d] * out[o + d];
          mem[lsedOff + 2 * r] = valid ? lse[(b * Hq + h) * Tq + t0 + r] : -Infinity;
          mem[lsedOff + 2 * r + 1] = Dt;
        }
        if (hi <= lo) {
          for (let r = 0; r < rows; r++) dq.fill(0, qo + r * Hq * D, qo + r * Hq * D + D);
          continue;
        }
        const lo8 = lo & ~7, n = Math.min(Tk8, (hi + 7) & ~7) - lo8;
        const qs = qsOff + t0 * qRow + h * D, ds = dsOff + t0 * qRow + h * D; // the block's first staged row
        packDimPanelsWasm(wasm, mem, qs, qRow, rows4, D, qbOff);
        packDimPanelsWasm(wasm, mem, ds, qRow, rows4, D, dbOff);
        const kOff = (lo8 >> 3) * D * 8, rb = rows4 >> 2;
        wasm.kernelRowsA(4 * qs, 4 * (kpOff + kOff), 4 * sOff, D, rb, n >> 3, 4 * n, 32 * D, 0, 4 * qRow); // S = Q·Kᵀ
        wasm.kernelRowsA(4 * ds, 4 * (vkOff + kOff), 4 * dpOff, D, rb, n >> 3, 4 * n, 32 * D, 0, 4 * qRow); // dP = dO·Vᵀ
        wasm.gradRows(4 * sOff, 4 * dpOff, n, rows4, lo8, 4 * rangesOff, scale, 4 * lsedOff, 4 * dsaOff, 4 * dstOff,
          4 * ptOff);
        wasm.kernel(4 * dsaOff, 4 * (kdOff + lo8 * 8), 4 * dqOff, n, rb, D8 >> 3, 4 * D8, 32 * Tk8, 0); // dS·K
        wasm.kernel(4 * dstOff, 4 * qbOff, 4 * (dkOff + lo8 * D8), rows4, n >> 2, D8 >> 3, 4 * D8, 32 * rows4, 1);
        wasm.kernel(4 * ptOff, 4 * dbOff, 4 * (dvOff + lo8 * D8), rows4, n >> 2, D8 >> 3, 4 * D8, 32 * rows4, 1);
        for (let r = 0; r < rows; r++) {
          const o = qo + r * Hq * D, src = dqOff + r * D8;
          for (let d = 0; d < D; d++) dq[o + d] = scale * mem[src + d];
        }
      }
    }
    for (let j = 0; j < Tk; j++) {
      const o = kvBase + j * Hkv * D;
      for (let d = 0; d < D; d++) {
        dk[o + d] = scale * mem[dkOff + j * D8 + d];
        dv[o + d] = mem[dvOff + j * D8 + d];
      }
    }
  }
}
