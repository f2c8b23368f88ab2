/**
 * The CPU backend: every kernel of src/backend/backend.ts as plain loops over typed arrays.
 *
 * Values are read from Float32Array/Float64Array storage, computed in JS numbers (float64) and rounded
 * once when stored. Matmul and attention live in ./kernels (a readable reference version beside a fast one);
 * this backend calls their worker-thread versions, which fall back to one thread for small problems.
 *
 * Speed notes (measured on the BLT training-step benchmark, bench/blt-train.ts):
 *  - Storage stays in ordinary ArrayBuffers, although the threaded kernels then copy their operands into
 *    shared staging buffers (a few % of a matmul). SharedArrayBuffer storage was tried: V8 does not count its
 *    memory as GC pressure, so the buffers of finished training steps were not collected and the process
 *    grew by ~0.5 GB per step.
 *  - Elementwise kernels switch on the op once and run a loop with the operation written inline: calling
 *    the op through a table of closures per element is a megamorphic call V8 cannot inline (~5x slower).
 *  - BLT_CPU_PROFILE=1 times every kernel call by name (see cpuProfile at the end of this file).
 *
 * Nothing is installed by importing this file: the package entry calls `createCpuBackend` with its runtime's
 * worker host and installs the result (src/index.ts, src/index.browser.ts).
 */
import type { AdamWHyper, AttentionDims, Backend, BinaryOp, Storage, UnaryOp } from '../backend.js';
import { allocArray, isHalf, type DType, type FloatArray, type HalfDType, type TypedArray } from '../../tensor/dtype.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../tensor/shape.js';
import { matmulBatchedAuto } from './kernels/wasm/matmul-dispatch.js';
import { attentionBackwardThreaded, attentionForwardThreaded } from './kernels/attention-threads.js';
import { setWorkerHost } from './kernels/thread-pool.js';
import type { WorkerHost } from './kernels/worker-host.js';
import { castHalf, gatherRowsHalf, matmulHalfWeight } from './half-weights.js';
import { halfToFloat32 } from '../../tensor/half.js';

export class CpuStorage implements Storage {
  readonly device = 'cpu' as const;
  /** `half` names the format of 16-bit words (a Uint16Array holds bfloat16 or float16, see half-weights.ts). */
  constructor(public data: TypedArray | Uint16Array, readonly half?: HalfDType) {
    if ((data instanceof Uint16Array) !== (half !== undefined)) throw new Error('CpuStorage: 16-bit words need their format, and only they');
  }
  get dtype(): DType {
    if (this.half !== undefined) return this.half;
    return this.data instanceof Float32Array ? 'float32' : this.data instanceof Float64Array ? 'float64' : 'int32';
  }
  get length(): number {
    return this.data.length;
  }
}

const arr = (s: Storage): TypedArray => (s as CpuStorage).data as TypedArray;
const farr = (s: Storage): FloatArray => (s as CpuStorage).data as FloatArray;
/** The words of a 16-bit storage. */
const harr = (s: Storage): Uint16Array => (s as CpuStorage).data as Uint16Array;
const iarr = (s: Storage): Int32Array => (s as CpuStorage).data as Int32Array;
const wrap = (a: TypedArray): CpuStorage => new CpuStorage(a);
/** A new float array of the same dtype as `like`. */
const floatLike = (like: Storage, n: number): FloatArray =>
  like.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);

/** out[i] = op(a[i]); one loop per op so the operation is inlined (see the speed notes). */
function unaryLoop(op: UnaryOp, a: FloatArray, out: FloatArray): void {
  const n = a.length;
  switch (op) {
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]); return;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(a[i]); return;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]); return;
    case 'rsqrt': for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(a[i]); return;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = Math.tanh(a[i]); return;
    case 'sigmoid': for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-a[i])); return;
    case 'relu': for (let i = 0; i < n; i++) out[i] = a[i] > 0 ? a[i] : 0; return;
    case 'silu': for (let i = 0; i < n; i++) out[i] = a[i] / (1 + Math.exp(-a[i])); return;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(a[i]); return;
    case 'sign': for (let i = 0; i < n; i++) out[i] = a[i] > 0 ? 1 : a[i] < 0 ? -1 : 0; return;
  }
  throw new Error(`cpu unary: unknown op '${String(op)}'`);
}

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
};

/**
 * out[i] = op(a[i], b[i]) for same-shape operands, the most common case (residual adds, gradient sums,
 * SwiGLU products). Plain indexing is ~12% faster than the strided loop of binaryRun.
 */
function binarySameShape(op: BinaryOp, a: FloatArray, b: FloatArray, out: FloatArray, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; return;
    default: binaryRun(op, a, 0, 1, b, 0, 1, out, 0, n);
  }
}

/**
 * out[o + j] = op(a[ia + j·sa], b[ib + j·sb]) for j < n: the inner loop of every broadcasting binary kernel.
 * Strides of 1 or 0 (a broadcast scalar or row) cover all the patterns with one loop each. The four
 * arithmetic ops are written inline (see the speed notes); the rarer ones go through binaryFns.
 */
function binaryRun(op: BinaryOp, a: FloatArray, ia: number, sa: number, b: FloatArray, ib: number, sb: number,
  out: FloatArray, o: number, n: number): void {
  const end = o + n;
  switch (op) {
    case 'add': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] + b[ib]; return;
    case 'sub': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] - b[ib]; return;
    case 'mul': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] * b[ib]; return;
    case 'div': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] / b[ib]; return;
    default: {
      const f = binaryFns[op];
      for (; o < end; o++, ia += sa, ib += sb) out[o] = f(a[ia], b[ib]);
    }
  }
}

/**
 * Visits every index of outShape in row-major order, calling body(outIndex, offsetA, offsetB, offsetC)
 * with the offsets of broadcast operands (strides 0 on broadcast axes). The innermost axis is a plain loop.
 */
function forEachBroadcast(outShape: Shape, strides: number[][],
  body: (o: number, offs: number[], inner: number, innerStrides: number[]) => void): void {
  const rank = outShape.length;
  const total = sizeOf(outShape);
  if (total === 0) return;
  if (rank === 0) { body(0, strides.map(() => 0), 1, strides.map(() => 0)); return; }
  const inner = outShape[rank - 1];
  const innerStrides = strides.map((s) => s[rank - 1]);
  const idx = new Array<number>(rank - 1).fill(0);
  const offs = strides.map(() => 0);
  for (let o = 0; o < total; o += inner) {
    body(o, offs, inner, innerStrides);
    // odometer increment over the outer axes
    for (let ax = rank - 2; ax >= 0; ax--) {
      idx[ax]++;
      for (let k = 0; k < strides.length; k++) offs[k] += strides[k][ax];
      if (idx[ax] < outShape[ax]) break;
      for (let k = 0; k < strides.length; k++) offs[k] -= strides[k][ax] * outShape[ax];
      idx[ax] = 0;
    }
  }
}

/**
 * out[i] = x[base + sum_j index_j * strides[j]] for every index of outShape (row-major): a contiguous copy of a
 * strided view of x. permute (permuted strides), expand (0 on broadcast axes) and slice (an offset box) use it.
 */
function stridedGather(x: Storage, outShape: Shape, strides: number[], base = 0): CpuStorage {
  const a = arr(x);
  const out = allocArray(x.dtype, sizeOf(outShape));
  forEachBroadcast(outShape, [strides], (o, offs, inner, is) => {
    let ia = base + offs[0];
    for (let j = 0; j < inner; j++, ia += is[0]) out[o + j] = a[ia];
  });
  return wrap(out);
}

export const cpuBackend: Backend = {
  device: 'cpu',
  maxStorageBytes: 2 ** 31,

  // ---- memory ----
  upload: (data) => wrap(data.slice()),
  uploadHalf: (bits, dtype) => new CpuStorage(bits.slice(), dtype),
  download: async (s) => (isHalf(s.dtype) ? halfToFloat32(s.dtype, harr(s), new Float32Array(s.length)) : arr(s).slice()),
  full(length, dtype, value) {
    const a = allocArray(dtype, length);
    if (value !== 0) a.fill(value);
    return wrap(a);
  },
  dispose: () => { /* garbage collected */ },
  copyInto(dst, src) {
    if (dst.length !== src.length || dst.dtype !== src.dtype) throw new Error(`copyInto: ${src.dtype}[${src.length}] into ${dst.dtype}[${dst.length}]`);
    arr(dst).set(arr(src));
  },
  cast(x, dtype) {
    if (isHalf(x.dtype) || isHalf(dtype)) {
      const out = castHalf((x as CpuStorage).data, x.dtype, dtype);
      return out instanceof Uint16Array ? new CpuStorage(out, dtype as HalfDType) : wrap(out);
    }
    const a = arr(x);
    const out = allocArray(dtype, a.length);
    if (dtype === 'int32') for (let i = 0; i < a.length; i++) out[i] = Math.trunc(a[i]);
    else out.set(a);
    return wrap(out);
  },

  // ---- elementwise ----
  unary(op, x) {
    const a = farr(x);
    const out = floatLike(x, a.length);
    unaryLoop(op, a, out);
    return wrap(out);
  },
  powScalar(x, p) {
    const a = farr(x);
    const out = floatLike(x, a.length);
    if (p === 2) for (let i = 0; i < a.length; i++) out[i] = a[i] * a[i];
    else for (let i = 0; i < a.length; i++) out[i] = Math.pow(a[i], p);
    return wrap(out);
  },
  affine(x, alpha, beta) {
    const a = farr(x);
    const out = floatLike(x, a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] * alpha + beta;
    return wrap(out);
  },
  binary(op, aS, aShape, bS, bShape, outShape) {
    const a = farr(aS), b = farr(bS);
    const n = sizeOf(outShape);
    const out = floatLike(aS, n);
    if (a.length === n && b.length === n) binarySameShape(op, a, b, out, n);
    else if (b.length === 1 && a.length === n) binaryRun(op, a, 0, 1, b, 0, 0, out, 0, n); // tensor op scalar
    else if (a.length === 1 && b.length === n) binaryRun(op, a, 0, 0, b, 0, 1, out, 0, n); // scalar op tensor
    else {
      // general broadcast: one strided run per innermost row of the output
      const sa = broadcastStrides(aShape, outShape), sb = broadcastStrides(bShape, outShape);
      forEachBroadcast(outShape, [sa, sb], (o, offs, inner, is) => {
        binaryRun(op, a, offs[0], is[0], b, offs[1], is[1], out, o, inner);
      });
    }
    return wrap(out);
  },
  where(cS, cShape, aS, aShape, bS, bShape, outShape) {
    const c = farr(cS), a = farr(aS), b = farr(bS);
    const out = floatLike(aS, sizeOf(outShape));
    const strides = [broadcastStrides(cShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)];
    forEachBroadcast(outShape, strides, (o, offs, inner, is) => {
      let ic = offs[0], ia = offs[1], ib = offs[2];
      for (let j = 0; j < inner; j++, ic += is[0], ia += is[1], ib += is[2]) out[o + j] = c[ic] !== 0 ? a[ia] : b[ib];
    });
    return wrap(out);
  },

  // ---- reductions over the last axis ----
  sumLast(x, rows, cols) {
    const a = farr(x);
    const out = floatLike(x, rows);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      const base = r * cols;
      for (let c = 0; c < cols; c++) s += a[base + c];
      out[r] = s;
    }
    return wrap(out);
  },
  maxLast(x, rows, cols) {
    const a = farr(x);
    const values = floatLike(x, rows);
    const argmax = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = -Infinity, bi = -1;
      const base = r * cols;
      for (let c = 0; c < cols; c++) {
        const v = a[base + c];
        if (v > best || bi < 0 || Number.isNaN(v)) { best = v; bi = c; if (Number.isNaN(v)) break; }
      }
      values[r] = best;
      argmax[r] = bi;
    }
    return { values: wrap(values), argmax: wrap(argmax) };
  },
  scatterLast(g, idxS, rows, cols) {
    const gv = farr(g), idx = iarr(idxS);
    const out = floatLike(g, rows * cols);
    for (let r = 0; r < rows; r++) if (idx[r] >= 0) out[r * cols + idx[r]] = gv[r];
    return wrap(out);
  },
  pickLast(x, idxS, rows, cols) {
    const a = farr(x), idx = iarr(idxS);
    const out = floatLike(x, rows);
    for (let r = 0; r < rows; r++) out[r] = idx[r] < 0 ? 0 : a[r * cols + idx[r]];
    return wrap(out);
  },
  softmaxLast(x, rows, cols) {
    const a = farr(x);
    const out = floatLike(x, rows * cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let m = -Infinity;
      for (let c = 0; c < cols; c++) if (a[base + c] > m) m = a[base + c];
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(a[base + c] - m);
      for (let c = 0; c < cols; c++) out[base + c] = Math.exp(a[base + c] - m) / s;
    }
    return wrap(out);
  },
  logSoftmaxLast(x, rows, cols) {
    const a = farr(x);
    const out = floatLike(x, rows * cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let m = -Infinity;
      for (let c = 0; c < cols; c++) if (a[base + c] > m) m = a[base + c];
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(a[base + c] - m);
      const lse = m + Math.log(s);
      for (let c = 0; c < cols; c++) out[base + c] = a[base + c] - lse;
    }
    return wrap(out);
  },

  // ---- movement ----
  // permute, expand and slice are one strided read each (stridedGather): only the strides differ.
  permute(x, shape, perm) {
    const inStrides = stridesOf(shape);
    return stridedGather(x, perm.map((p) => shape[p]), perm.map((p) => inStrides[p]));
  },
  expand(x, shape, outShape) {
    return stridedGather(x, outShape, broadcastStrides(shape, outShape)); // stride 0 on broadcast axes
  },
  slice(x, shape, starts, outShape) {
    const st = stridesOf(shape);
    return stridedGather(x, outShape, st, starts.reduce((base, s, i) => base + s * st[i], 0));
  },
  pad(x, shape, starts, outShape) {
    const a = arr(x);
    const st = stridesOf(outShape);
    let base = 0;
    for (let i = 0; i < starts.length; i++) base += starts[i] * st[i];
    const out = allocArray(x.dtype, sizeOf(outShape));
    forEachBroadcast(shape, [st], (o, offs, inner, is) => {
      let io = base + offs[0];
      for (let j = 0; j < inner; j++, io += is[0]) out[io] = a[o + j];
    });
    return wrap(out);
  },

  // ---- linear algebra ----
  matmul(aS, bS, batch, M, K, N, transA, transB, aBatchStride, bBatchStride) {
    if (isHalf(bS.dtype)) { // a 16-bit weight, converted block by block (half-weights.ts)
      return wrap(matmulHalfWeight(farr(aS), harr(bS), bS.dtype, batch, M, K, N, transA, transB, aBatchStride, bBatchStride));
    }
    const out = floatLike(aS, batch * M * N);
    // float32: wasm SIMD kernel (float32 accumulation); float64: JS packed kernel (kernels/wasm/matmul-dispatch.ts)
    matmulBatchedAuto(farr(aS), farr(bS), out, batch, M, K, N, transA, transB, aBatchStride, bBatchStride);
    return wrap(out);
  },

  // ---- indexing ----
  gatherRows(tableS, _V, D, idsS, n) {
    if (isHalf(tableS.dtype)) return wrap(gatherRowsHalf(harr(tableS), tableS.dtype, D, iarr(idsS), n));
    const table = farr(tableS), ids = iarr(idsS);
    const out = floatLike(tableS, n * D);
    for (let i = 0; i < n; i++) out.set(table.subarray(ids[i] * D, ids[i] * D + D), i * D);
    return wrap(out);
  },
  scatterAddRows(gS, idsS, n, D, V) {
    const g = farr(gS), ids = iarr(idsS);
    // Rows used many times are summed in float64 (accurately) and rounded once. Instead of a float64 copy of
    // the whole [V, D] table (25 MB for BLT's hash tables, of which a batch touches a few thousand rows), the
    // gradient rows are visited grouped by id (a counting sort, stable, so each row's sum runs in the order
    // i = 0, 1, ... as a direct loop would) with one float64 row accumulator.
    const count = new Int32Array(V + 1);
    for (let i = 0; i < n; i++) count[ids[i] + 1]++;
    for (let v = 0; v < V; v++) count[v + 1] += count[v]; // count[v] = first slot of id v in `order`
    const order = new Int32Array(n);
    const next = count.slice(0, V);
    for (let i = 0; i < n; i++) order[next[ids[i]]++] = i;
    const out = floatLike(gS, V * D);
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
    return wrap(out);
  },
  segmentMax(xS, segS, N, D, S) {
    const x = farr(xS), seg = iarr(segS);
    const values = floatLike(xS, S * D);
    const argmax = new Int32Array(S * D).fill(-1);
    for (let i = 0; i < N; i++) {
      const s = seg[i];
      if (s < 0) continue;
      for (let d = 0; d < D; d++) {
        const v = x[i * D + d], o = s * D + d;
        if (argmax[o] < 0 || v > values[o]) { values[o] = v; argmax[o] = i; }
      }
    }
    return { values: wrap(values), argmax: wrap(argmax) };
  },
  segmentMaxBackward(gS, argS, S, D, N) {
    const g = farr(gS), am = iarr(argS);
    const out = floatLike(gS, N * D);
    for (let s = 0; s < S; s++) {
      for (let d = 0; d < D; d++) {
        const i = am[s * D + d];
        if (i >= 0) out[i * D + d] += g[s * D + d];
      }
    }
    return wrap(out);
  },

  // ---- fused layers ----
  rmsNorm(xS, wS, rows, D, eps) {
    const x = farr(xS), w = farr(wS);
    const y = floatLike(xS, rows * D);
    const rstd = floatLike(xS, rows);
    for (let r = 0; r < rows; r++) {
      const base = r * D;
      let ss = 0;
      for (let d = 0; d < D; d++) ss += x[base + d] * x[base + d];
      // HF computes in float32: round the reciprocal root to the storage precision before use.
      const rs = 1 / Math.sqrt(ss / D + eps);
      rstd[r] = rs;
      const rsq = rstd[r];
      // HF: w * (x * rstd).to(dtype): the normalised value is rounded once, then scaled.
      for (let d = 0; d < D; d++) y[base + d] = w[d] * (x[base + d] * rsq);
    }
    return { y: wrap(y), rstd: wrap(rstd) };
  },
  rmsNormBackward(dyS, xS, wS, rstdS, rows, D) {
    const dy = farr(dyS), x = farr(xS), w = farr(wS), rstd = farr(rstdS);
    const dx = floatLike(xS, rows * D);
    const dwAcc = new Float64Array(D);
    for (let r = 0; r < rows; r++) {
      const base = r * D, rs = rstd[r];
      // y_d = w_d x_d rs, rs = (mean x^2 + eps)^-1/2  =>
      // dx_d = rs (w_d dy_d) - rs^3 x_d / D * sum_e (w_e dy_e x_e)
      let dot = 0;
      for (let d = 0; d < D; d++) dot += w[d] * dy[base + d] * x[base + d];
      const c = (rs * rs * rs * dot) / D;
      for (let d = 0; d < D; d++) {
        dx[base + d] = rs * w[d] * dy[base + d] - c * x[base + d];
        dwAcc[d] += dy[base + d] * x[base + d] * rs;
      }
    }
    const dw = floatLike(wS, D);
    dw.set(dwAcc);
    return { dx: wrap(dx), dw: wrap(dw) };
  },
  rope(xS, B, T, H, Dh, posS, theta, inverse) {
    const x = farr(xS), pos = iarr(posS);
    const out = floatLike(xS, x.length);
    const half = Dh / 2;
    // omega_t = theta^(-2t/Dh). For float32 tensors the angle table is rounded to float32 at each step, as HF
    // computes it (inv_freq, pos * inv_freq, cos and sin are float32 tensors); float64 tensors keep full precision.
    const r = xS.dtype === 'float32' ? Math.fround : (v: number): number => v;
    const cos = new Float64Array(T * half), sin = new Float64Array(T * half);
    for (let t = 0; t < half; t++) {
      const omega = r(1 / Math.pow(theta, (2 * t) / Dh));
      for (let i = 0; i < T; i++) {
        const ang = r(pos[i] * omega);
        cos[i * half + t] = r(Math.cos(ang));
        sin[i * half + t] = (inverse ? -1 : 1) * r(Math.sin(ang));
      }
    }
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < T; i++) {
        for (let h = 0; h < H; h++) {
          const base = ((b * T + i) * H + h) * Dh;
          for (let t = 0; t < half; t++) {
            const c = cos[i * half + t], s = sin[i * half + t];
            const x0 = x[base + 2 * t], x1 = x[base + 2 * t + 1];
            // RoPE (src/ops/rope.ts): q'_{2t} = q_{2t} cos - q_{2t+1} sin ; q'_{2t+1} = q_{2t} sin + q_{2t+1} cos
            out[base + 2 * t] = x0 * c - x1 * s;
            out[base + 2 * t + 1] = x0 * s + x1 * c;
          }
        }
      }
    }
    return wrap(out);
  },
  attention(qS, kS, vS, startS, endS, dims: AttentionDims) {
    const out = floatLike(qS, dims.B * dims.Tq * dims.Hq * dims.D);
    const lse = floatLike(qS, dims.B * dims.Hq * dims.Tq);
    attentionForwardThreaded(farr(qS), farr(kS), farr(vS), iarr(startS), iarr(endS), dims, out, lse);
    return { out: wrap(out), lse: wrap(lse) };
  },
  attentionBackward(qS, kS, vS, outS, lseS, dOutS, startS, endS, dims) {
    const dq = floatLike(qS, qS.length), dk = floatLike(kS, kS.length), dv = floatLike(vS, vS.length);
    attentionBackwardThreaded(farr(qS), farr(kS), farr(vS), farr(outS), farr(lseS), farr(dOutS), iarr(startS), iarr(endS), dims, dq, dk, dv);
    return { dq: wrap(dq), dk: wrap(dk), dv: wrap(dv) };
  },

  // ---- optimizer ----
  adamwStep(pS, gS, mS, vS, h: AdamWHyper) {
    const p = farr(pS), g = farr(gS), m = farr(mS), v = farr(vS);
    const bc1 = 1 - Math.pow(h.beta1, h.step), bc2 = 1 - Math.pow(h.beta2, h.step);
    const decay = 1 - h.lr * h.weightDecay;
    // hyper-parameters in locals: property loads of `h` inside the loop are not hoisted by V8
    const { beta1, beta2, lr, eps, gradScale } = h;
    for (let i = 0; i < p.length; i++) {
      const gi = g[i] * gradScale;
      const pi = p[i] * decay;                              // decoupled weight decay first
      m[i] = beta1 * m[i] + (1 - beta1) * gi;               // first moment
      v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;          // second moment
      const mhat = m[i] / bc1, vhat = v[i] / bc2;           // bias correction (moments as stored, rounded)
      p[i] = pi - (lr * mhat) / (Math.sqrt(vhat) + eps);    // eps outside the square root
    }
  },
  sumSquares(x) {
    const a = farr(x);
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * a[i];
    const out = floatLike(x, 1);
    out[0] = s;
    return wrap(out);
  },
};

// ---- profiling mode (BLT_CPU_PROFILE=1) ------------------------------------------------------------------

interface ProfileEntry { ms: number; calls: number; flops: number }

/**
 * Accumulated wall time, call count and (matmul only) FLOPs per kernel name; only filled when `enabled`.
 * Kernel names are refined by op or size (see profileKey), and `byKind` sums them back to one row per kernel.
 */
export const cpuProfile = {
  /** Whether the installed backend was created with `profile: true` (the Node entry: BLT_CPU_PROFILE=1). */
  enabled: false,
  entries: new Map<string, ProfileEntry>(),
  reset(): void { this.entries.clear(); },
  add(name: string, ms: number, flops: number): void {
    const e = this.entries.get(name);
    if (e) { e.ms += ms; e.calls++; e.flops += flops; } else this.entries.set(name, { ms, calls: 1, flops });
  },
  /** One entry per kernel (the refined names summed: 'matmul 2048x128x128' -> 'matmul'). */
  byKind(): Map<string, ProfileEntry> {
    const out = new Map<string, ProfileEntry>();
    for (const [name, e] of this.entries) {
      const kind = name.split(' ')[0] === 'unary' || name.split(' ')[0] === 'binary' ? name : name.split(' ')[0];
      const k = out.get(kind) ?? { ms: 0, calls: 0, flops: 0 };
      out.set(kind, { ms: k.ms + e.ms, calls: k.calls + e.calls, flops: k.flops + e.flops });
    }
    return out;
  },
  /** A text table by total time, per step (`steps` = how many steps the profile covers). */
  table(steps = 1, top = 40, entries?: Map<string, ProfileEntry>): string {
    const rows = [...(entries ?? cpuProfile.entries)].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((s, [, e]) => s + e.ms, 0);
    const lines = [`${'kernel'.padEnd(36)} ${'ms/step'.padStart(9)} ${'%'.padStart(6)} ${'calls/step'.padStart(11)} ${'GFLOP/s'.padStart(8)}`];
    for (const [name, e] of rows.slice(0, top)) {
      const gflops = e.flops > 0 ? (e.flops / e.ms / 1e6).toFixed(2) : '';
      lines.push(`${name.padEnd(36)} ${(e.ms / steps).toFixed(1).padStart(9)} ${((100 * e.ms) / total).toFixed(1).padStart(6)} ${(e.calls / steps).toFixed(0).padStart(11)} ${gflops.padStart(8)}`);
    }
    lines.push(`${'all kernels'.padEnd(36)} ${(total / steps).toFixed(1).padStart(9)}`);
    return lines.join('\n');
  },
};

/** The profile key of a call: the kernel name, refined by its op or problem size where that separates costs. */
function profileKey(kernel: string, args: unknown[]): string {
  if (kernel === 'unary' || kernel === 'binary') return `${kernel} ${String(args[0])}`;
  if (kernel === 'matmul') {
    const [, , batch, M, K, N, tA, tB] = args as [unknown, unknown, number, number, number, number, boolean, boolean];
    return `matmul ${batch > 1 ? `${batch}x` : ''}${M}x${K}x${N}${tA ? ' tA' : ''}${tB ? ' tB' : ''}`;
  }
  if (kernel === 'attention' || kernel === 'attentionBackward') {
    const d = args[kernel === 'attention' ? 5 : 8] as AttentionDims;
    return `${kernel} Tq=${d.Tq} Tk=${d.Tk} H=${d.Hq}`;
  }
  return kernel;
}

/** The backend with every kernel call timed into cpuProfile (same results, a little slower). */
function profiled(be: Backend): Backend {
  const out: Record<string, unknown> = { device: be.device, maxStorageBytes: be.maxStorageBytes };
  for (const [name, fn] of Object.entries(be)) {
    if (typeof fn !== 'function') continue;
    out[name] = (...args: unknown[]): unknown => {
      const t0 = performance.now();
      const r = (fn as (...a: unknown[]) => unknown).apply(be, args);
      const flops = name === 'matmul' ? 2 * (args[2] as number) * (args[3] as number) * (args[4] as number) * (args[5] as number) : 0;
      cpuProfile.add(profileKey(name, args), performance.now() - t0, flops);
      return r;
    };
  }
  return out as unknown as Backend;
}

export interface CpuBackendOptions {
  /** how this runtime starts the threaded kernels' workers (src/platform/*); none: every kernel on one thread */
  workers?: WorkerHost | null;
  /** time every kernel call into cpuProfile (a little slower, same results) */
  profile?: boolean;
}

/**
 * The CPU backend, ready for installBackend. It hands `workers` to the kernels' thread pool (one pool per
 * process or page, so the last call decides).
 */
export function createCpuBackend(opts: CpuBackendOptions = {}): Backend {
  setWorkerHost(opts.workers ?? null);
  cpuProfile.enabled = opts.profile === true;
  return cpuProfile.enabled ? profiled(cpuBackend) : cpuBackend;
}
