/**
 * The CPU backend: the Backend interface of src/backend/backend.ts wired to the kernels in ./kernels.
 *
 * Each method unwraps its storages to typed arrays, allocates the output, calls one kernel and wraps the result.
 * Kernels read Float32Array/Float64Array storage, compute in JS numbers (float64) and round once when storing;
 * the float32 WebAssembly kernels (kernels/wasm) accumulate in float32, as BLAS does. Matmul and attention run on
 * the worker-thread pool (kernels/thread-pool.ts) when a problem is large enough.
 *
 * Storage stays in ordinary ArrayBuffers, although the threaded kernels then copy their operands into shared
 * staging buffers (a few % of a matmul). SharedArrayBuffer storage was tried: V8 does not count its memory as GC
 * pressure, so the buffers of finished training steps were not collected and the process grew by ~0.5 GB per step.
 *
 * BLT_CPU_PROFILE=1 times every kernel call by name (profiler.ts).
 *
 * Nothing is installed by importing this file: the package entry calls `createCpuBackend` with its runtime's
 * worker host and installs the result (src/index.ts, src/index.browser.ts).
 */
import { checkCopyRange, type AttentionDims, type Backend, type Storage } from '../backend.js';
import { allocArray, isHalf, type DType, type FloatArray, type HalfDType, type TypedArray } from '../../tensor/dtype.js';
import { halfToFloat32 } from '../../tensor/half.js';
import { broadcastStrides, sizeOf, stridesOf } from '../../tensor/shape.js';
import * as adamw from './kernels/adamw.js';
import { attentionBackwardThreaded, attentionForwardThreaded } from './kernels/attention-threads.js';
import * as elementwise from './kernels/elementwise.js';
import * as movement from './kernels/movement.js';
import * as reduce from './kernels/reduce.js';
import { rmsNorm, rmsNormBackward } from './kernels/rms-norm.js';
import { rope } from './kernels/rope.js';
import { swiglu, swigluBackward } from './kernels/swiglu.js';
import * as rows from './kernels/rows.js';
import { logSoftmaxLast, softmaxLast } from './kernels/softmax.js';
import { matmulBatchedAuto } from './kernels/wasm/matmul-dispatch.js';
import { invalidatePackedB } from './kernels/wasm/packed-b-cache.js';
import { setWorkerHost } from './kernels/thread-pool.js';
import type { WorkerHost } from './kernels/worker-host.js';
import { castHalf, gatherRowsHalf, matmulHalfWeight } from './half-weights.js';
import { cpuProfile, profiled } from './profiler.js';

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
/** A new (zero) float array of the same dtype as `like`. */
const floatLike = (like: Storage, n: number): FloatArray =>
  like.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);

/**
 * A copy of 16-bit weight words, in a SharedArrayBuffer where the runtime has one (Node; a cross-origin-isolated
 * page), so that threaded kernels read the weight in place instead of copying it per call
 * (kernels/wasm/matmul-rows-bf16.ts). Same bytes either way.
 */
function weightWords(bits: Uint16Array): Uint16Array {
  if (typeof SharedArrayBuffer !== 'function') return bits.slice();
  const words = new Uint16Array(new SharedArrayBuffer(bits.byteLength));
  words.set(bits);
  return words;
}

export const cpuBackend: Backend = {
  device: 'cpu',
  maxStorageBytes: 2 ** 31,

  // ---- memory ----
  upload: (data) => wrap(data.slice()),
  uploadHalf: (bits, dtype) => new CpuStorage(weightWords(bits), dtype),
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
    invalidatePackedB(arr(dst)); // dst changed in place: drop its packed matmul copies
  },
  copyRange(dst, dstOffset, src, srcOffset, length) {
    checkCopyRange('copyRange', dst, dstOffset, src, srcOffset, length);
    const d = (dst as CpuStorage).data, s = (src as CpuStorage).data;
    d.set(s.subarray(srcOffset, srcOffset + length), dstOffset);
    invalidatePackedB(d);
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

  // ---- elementwise (kernels/elementwise.ts) ----
  unary(op, x) {
    const out = floatLike(x, x.length);
    elementwise.unary(op, farr(x), out);
    return wrap(out);
  },
  powScalar(x, p) {
    const out = floatLike(x, x.length);
    elementwise.powScalar(farr(x), p, out);
    return wrap(out);
  },
  affine(x, alpha, beta) {
    const out = floatLike(x, x.length);
    elementwise.affine(farr(x), alpha, beta, out);
    return wrap(out);
  },
  binary(op, a, aShape, b, bShape, outShape) {
    const out = floatLike(a, sizeOf(outShape));
    elementwise.binary(op, farr(a), aShape, farr(b), bShape, outShape, out);
    return wrap(out);
  },
  where(c, cShape, a, aShape, b, bShape, outShape) {
    const out = floatLike(a, sizeOf(outShape));
    elementwise.where(farr(c), cShape, farr(a), aShape, farr(b), bShape, outShape, out);
    return wrap(out);
  },

  // ---- reductions over the last axis (kernels/reduce.ts, kernels/softmax.ts) ----
  sumLast(x, rowCount, cols) {
    const out = floatLike(x, rowCount);
    reduce.sumLast(farr(x), rowCount, cols, out);
    return wrap(out);
  },
  maxLast(x, rowCount, cols) {
    const values = floatLike(x, rowCount), argmax = new Int32Array(rowCount);
    reduce.maxLast(farr(x), rowCount, cols, values, argmax);
    return { values: wrap(values), argmax: wrap(argmax) };
  },
  scatterLast(g, idx, rowCount, cols) {
    const out = floatLike(g, rowCount * cols);
    reduce.scatterLast(farr(g), iarr(idx), rowCount, cols, out);
    return wrap(out);
  },
  pickLast(x, idx, rowCount, cols) {
    const out = floatLike(x, rowCount);
    reduce.pickLast(farr(x), iarr(idx), rowCount, cols, out);
    return wrap(out);
  },
  softmaxLast(x, rowCount, cols) {
    const out = floatLike(x, rowCount * cols);
    softmaxLast(farr(x), rowCount, cols, out);
    return wrap(out);
  },
  logSoftmaxLast(x, rowCount, cols) {
    const out = floatLike(x, rowCount * cols);
    logSoftmaxLast(farr(x), rowCount, cols, out);
    return wrap(out);
  },

  // ---- movement (kernels/movement.ts): permute, expand and slice are one strided read each ----
  permute(x, shape, perm) {
    const inStrides = stridesOf(shape), outShape = perm.map((p) => shape[p]);
    const out = allocArray(x.dtype, sizeOf(outShape));
    movement.stridedGather(arr(x), outShape, perm.map((p) => inStrides[p]), 0, out);
    return wrap(out);
  },
  expand(x, shape, outShape) {
    const out = allocArray(x.dtype, sizeOf(outShape));
    movement.stridedGather(arr(x), outShape, broadcastStrides(shape, outShape), 0, out); // stride 0 on broadcast axes
    return wrap(out);
  },
  slice(x, shape, starts, outShape) {
    const st = stridesOf(shape);
    const out = allocArray(x.dtype, sizeOf(outShape));
    movement.stridedGather(arr(x), outShape, st, starts.reduce((base, s, i) => base + s * st[i], 0), out);
    return wrap(out);
  },
  pad(x, shape, starts, outShape) {
    const out = allocArray(x.dtype, sizeOf(outShape));
    movement.pad(arr(x), shape, starts, outShape, out);
    return wrap(out);
  },

  // ---- linear algebra ----
  matmul(a, b, batch, M, K, N, transA, transB, aBatchStride, bBatchStride) {
    if (isHalf(b.dtype)) { // a 16-bit weight, converted block by block (half-weights.ts)
      return wrap(matmulHalfWeight(farr(a), harr(b), b.dtype, batch, M, K, N, transA, transB, aBatchStride, bBatchStride));
    }
    const out = floatLike(a, batch * M * N);
    // float32: wasm SIMD kernel (float32 accumulation); float64: JS packed kernel (kernels/wasm/matmul-dispatch.ts)
    matmulBatchedAuto(farr(a), farr(b), out, batch, M, K, N, transA, transB, aBatchStride, bBatchStride);
    return wrap(out);
  },

  // ---- indexing (kernels/rows.ts) ----
  gatherRows(table, _V, D, ids, n) {
    if (isHalf(table.dtype)) return wrap(gatherRowsHalf(harr(table), table.dtype, D, iarr(ids), n));
    const out = floatLike(table, n * D);
    rows.gatherRows(farr(table), D, iarr(ids), n, out);
    return wrap(out);
  },
  scatterAddRows(g, ids, n, D, V) {
    const out = floatLike(g, V * D);
    rows.scatterAddRows(farr(g), iarr(ids), n, D, V, out);
    return wrap(out);
  },
  segmentMax(x, seg, N, D, S) {
    const values = floatLike(x, S * D), argmax = new Int32Array(S * D).fill(-1);
    rows.segmentMax(farr(x), iarr(seg), N, D, values, argmax);
    return { values: wrap(values), argmax: wrap(argmax) };
  },
  segmentMaxBackward(g, argmax, S, D, N) {
    const out = floatLike(g, N * D);
    rows.segmentMaxBackward(farr(g), iarr(argmax), S, D, out);
    return wrap(out);
  },

  // ---- fused layers (kernels/rms-norm.ts, kernels/rope.ts, kernels/swiglu.ts, kernels/attention*.ts) ----
  rmsNorm(x, w, rowCount, D, eps) {
    const y = floatLike(x, rowCount * D), rstd = floatLike(x, rowCount);
    rmsNorm(farr(x), farr(w), rowCount, D, eps, y, rstd);
    return { y: wrap(y), rstd: wrap(rstd) };
  },
  rmsNormBackward(dy, x, w, rstd, rowCount, D) {
    const dx = floatLike(x, rowCount * D), dw = floatLike(w, D);
    rmsNormBackward(farr(dy), farr(x), farr(w), farr(rstd), rowCount, D, dx, dw);
    return { dx: wrap(dx), dw: wrap(dw) };
  },
  rope(x, B, T, H, Dh, pos, theta, inverse) {
    const out = floatLike(x, x.length);
    rope(farr(x), B, T, H, Dh, iarr(pos), theta, inverse, x.dtype === 'float32', out);
    return wrap(out);
  },
  swiglu(gate, up) {
    const out = floatLike(gate, gate.length);
    swiglu(farr(gate), farr(up), out);
    return wrap(out);
  },
  swigluBackward(g, gate, up) {
    const dGate = floatLike(gate, gate.length), dUp = floatLike(up, up.length);
    swigluBackward(farr(g), farr(gate), farr(up), dGate, dUp);
    return { dGate: wrap(dGate), dUp: wrap(dUp) };
  },
  attention(q, k, v, start, end, dims: AttentionDims) {
    const out = floatLike(q, dims.B * dims.Tq * dims.Hq * dims.D);
    const lse = floatLike(q, dims.B * dims.Hq * dims.Tq);
    attentionForwardThreaded(farr(q), farr(k), farr(v), iarr(start), iarr(end), dims, out, lse);
    return { out: wrap(out), lse: wrap(lse) };
  },
  attentionBackward(q, k, v, out, lse, dOut, start, end, dims) {
    const dq = floatLike(q, q.length), dk = floatLike(k, k.length), dv = floatLike(v, v.length);
    attentionBackwardThreaded(farr(q), farr(k), farr(v), farr(out), farr(lse), farr(dOut), iarr(start), iarr(end),
      dims, dq, dk, dv);
    return { dq: wrap(dq), dk: wrap(dk), dv: wrap(dv) };
  },

  // ---- optimizer (kernels/adamw.ts) ----
  adamwStep(p, g, m, v, h) {
    adamw.adamwStep(farr(p), farr(g), farr(m), farr(v), h);
    invalidatePackedB(farr(p)); // p changed in place: drop its packed matmul copies
  },
  sumSquares(x) {
    const out = floatLike(x, 1);
    out[0] = adamw.sumSquares(farr(x));
    return wrap(out);
  },
};

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
