/**
 * The Backend interface: the small set of kernels every device implements.
 *
 * Ops (src/ops/*) are written once, device-independently: each op checks its arguments, calls the kernels of
 * the backend its inputs live on, and defines its backward with other ops. A backend therefore only needs
 * forward kernels; gradients come for free. There are two backends: CPU (src/backend/cpu) and WebGPU
 * (src/backend/webgpu).
 *
 * Conventions for every kernel:
 *  - Storage is contiguous row-major (see src/tensor/shape.ts). Shapes are passed alongside storages.
 *  - Kernels never modify their inputs (except the explicitly in-place `adamwStep`, `copyInto` and `copyRange`), and always
 *    return fresh storages that the caller owns.
 *  - Float kernels accept float32 and float64 storages and return the dtype of their (first) float input.
 *  - Index arguments (ids, segment ids, ranges) are int32 storages on the same device.
 *  - 16-bit storages (bfloat16, float16: weights kept as a checkpoint stores them, src/tensor/dtype.ts) follow
 *    one rule: a kernel reads 16-bit storage only where a model reads a weight, and then computes and returns
 *    float32. Exactly these accept it: matmul's `b` operand (one weight shared by the batch), gatherRows' table,
 *    cast (to and from 16 bits), copyInto (same dtype), download (the float32 values) and dispose. Every other
 *    kernel is given float32/float64 storages only: the ops refuse 16-bit tensors first, naming op and shape
 *    (src/ops/check.ts). So a 16-bit model runs forward in float32 arithmetic on weights that take half the
 *    memory; it cannot be trained in 16 bits (load it as float32, or cast, to train).
 */
import type { Device, DType, HalfDType, TypedArray } from '../tensor/dtype.js';
import type { Shape } from '../tensor/shape.js';

/** Opaque handle to a block of device memory; each backend has its own concrete type. */
export interface Storage {
  readonly device: Device;
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
}

export type UnaryOp = 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'tanh' | 'sigmoid' | 'relu' | 'silu' | 'abs' | 'sign';

/** Binary ops with broadcasting. Comparisons return 1.0 / 0.0 in the float dtype of the inputs. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'gt' | 'ge' | 'eq';

export interface AttentionDims {
  B: number; Tq: number; Tk: number; Hq: number; Hkv: number; D: number; scale: number;
}

export interface AdamWHyper {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** 1-based step count used for bias correction. */
  step: number;
  /** Gradient multiplier applied first (the global-norm clip coefficient; 1 = none). */
  gradScale: number;
}

// [doc:backend-interface]
export interface Backend {
  readonly device: Device;
  /**
   * The largest storage this backend allocates, in bytes: 2^31 on the CPU (typed arrays stay well inside V8's
   * limits and every element index fits an int32), the adapter's maxStorageBufferBindingSize on WebGPU. Larger
   * tables are stored as row blocks (src/nn/blocked-table.ts).
   */
  readonly maxStorageBytes: number;

  // ---- memory -------------------------------------------------------------------------------------------
  /** Copies a host array to new device storage. */
  upload(data: TypedArray): Storage;
  /** Copies 16-bit float words (bfloat16 or float16 bit patterns, little-endian order) to new storage of that dtype. */
  uploadHalf(bits: Uint16Array, dtype: HalfDType): Storage;
  /**
   * Reads a storage back to the host (async: a GPU must finish its queued work first). A 16-bit storage comes
   * back as its values, a Float32Array.
   */
  download(s: Storage): Promise<TypedArray>;
  /** A new storage filled with one value. */
  full(length: number, dtype: DType, value: number): Storage;
  /** Releases device memory (a no-op on the CPU). Using a disposed storage is an error. */
  dispose(s: Storage): void;
  /** Copies `src` into `dst` (same length and dtype), in place. Used by optimizers and checkpoint loading. */
  copyInto(dst: Storage, src: Storage): void;
  /**
   * Copies elements [srcOffset, srcOffset + length) of `src` to dst[dstOffset ..] (same dtype), in place. Used by
   * the generation caches, which write new rows into spare capacity instead of concatenating.
   */
  copyRange(dst: Storage, dstOffset: number, src: Storage, srcOffset: number, length: number): void;
  /** Converts dtype (float<->float, float<->int32 by truncation toward zero; to 16 bits: nearest, ties to even). */
  cast(x: Storage, dtype: DType): Storage;

  // ---- elementwise ----------------------------------------------------------------------------------------
  unary(op: UnaryOp, x: Storage): Storage;
  /** out[i] = x[i] ** p for a scalar exponent. */
  powScalar(x: Storage, p: number): Storage;
  /** out = a * alpha + beta for scalars alpha, beta (used by scalar arithmetic). */
  affine(x: Storage, alpha: number, beta: number): Storage;
  /** Broadcasting binary op; shapes follow NumPy rules and outShape is their broadcast. */
  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage;
  /** out = cond != 0 ? a : b, all three broadcast to outShape. cond is a float 0/1 storage. */
  where(cond: Storage, condShape: Shape, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage;

  // ---- reductions over the last axis of a [rows, cols] view ----------------------------------------------
  /** out[r] = sum_c x[r, c] */
  sumLast(x: Storage, rows: number, cols: number): Storage;
  /** out[r] = max_c x[r, c] (-Infinity when cols == 0) and argmax[r] (int32, first maximum; -1 when cols == 0). */
  maxLast(x: Storage, rows: number, cols: number): { values: Storage; argmax: Storage };
  /** out[r, c] = (c == idx[r]) ? g[r] : 0 — the backward of maxLast / pickLast. idx may be -1 (no write). */
  scatterLast(g: Storage, idx: Storage, rows: number, cols: number): Storage;
  /** out[r] = x[r, idx[r]], or 0 where idx[r] < 0 (ignored rows, e.g. cross-entropy's ignore index). */
  pickLast(x: Storage, idx: Storage, rows: number, cols: number): Storage;
  /** Numerically stable softmax / log-softmax along the last axis. */
  softmaxLast(x: Storage, rows: number, cols: number): Storage;
  logSoftmaxLast(x: Storage, rows: number, cols: number): Storage;

  // ---- movement ---------------------------------------------------------------------------------------------
  /** out = x.permute(perm) made contiguous; out shape is shape[perm[i]]. */
  permute(x: Storage, shape: Shape, perm: readonly number[]): Storage;
  /** Broadcasts x (shape) to outShape (materialised). */
  expand(x: Storage, shape: Shape, outShape: Shape): Storage;
  /** out = x[starts[0]:starts[0]+outShape[0], ...] (a contiguous copy of a box). */
  slice(x: Storage, shape: Shape, starts: readonly number[], outShape: Shape): Storage;
  /** Zeros of outShape with x written into the box at `starts` (the backward of slice; also used by concat). */
  pad(x: Storage, shape: Shape, starts: readonly number[], outShape: Shape): Storage;

  // ---- linear algebra -------------------------------------------------------------------------------------
  /**
   * Batched matmul: for each b < batch, out[b] (M x N) = op(A_b) @ op(B_b) where op(X) = X^T if trans.
   * A_b starts at b * aBatchStride (stride 0 broadcasts one matrix), and is stored [M, K] or, if transA,
   * [K, M]; likewise B_b is [K, N] or, if transB, [N, K]. out is dense [batch, M, N].
   * `b` may be 16-bit (a weight: then bBatchStride is 0 or batch is 1), `a` is float32; out is float32.
   */
  matmul(a: Storage, b: Storage, batch: number, M: number, K: number, N: number,
    transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number): Storage;

  // ---- indexing -------------------------------------------------------------------------------------------
  /** out[i, :] = table[ids[i], :] ; table [V, D] (may be 16-bit: out is then float32), ids int32 [n]. Callers validate ids. */
  gatherRows(table: Storage, V: number, D: number, ids: Storage, n: number): Storage;
  /** out[V, D] = sum over i with ids[i] == v of g[i, :] (the backward of gatherRows). Exact zeros elsewhere. */
  scatterAddRows(g: Storage, ids: Storage, n: number, D: number, V: number): Storage;
  /**
   * Segment max: x [N, D], seg int32 [N] with values in [0, S) (or -1 = ignore); values [S, D] = max over rows
   * of that segment (0 for an empty segment), argmax int32 [S, D] = the row index of the (first) maximum, -1 if empty.
   */
  segmentMax(x: Storage, seg: Storage, N: number, D: number, S: number): { values: Storage; argmax: Storage };
  /** out [N, D]: out[argmax[s, d], d] += g[s, d] (the backward of segmentMax). */
  segmentMaxBackward(g: Storage, argmax: Storage, S: number, D: number, N: number): Storage;

  // ---- fused layers ---------------------------------------------------------------------------------------
  /** y = x * rsqrt(mean(x^2) + eps) * w over rows of length D; also returns rstd [rows] for the backward. */
  rmsNorm(x: Storage, w: Storage, rows: number, D: number, eps: number): { y: Storage; rstd: Storage };
  /** Gradients of rmsNorm: dx [rows, D] and dw [D]. */
  rmsNormBackward(dy: Storage, x: Storage, w: Storage, rstd: Storage, rows: number, D: number): { dx: Storage; dw: Storage };
  /**
   * Interleaved-pair RoPE (src/ops/rope.ts) on x [B, T, H, Dh]: the pair (2t, 2t+1) of token i is rotated by the angle
   * positions[i] * theta^(-2t/Dh) (positions int32 [T], shared by all batch rows); `inverse` rotates by minus
   * that angle (the backward).
   */
  rope(x: Storage, B: number, T: number, H: number, Dh: number, positions: Storage, theta: number, inverse: boolean): Storage;
  /** SwiGLU's gate (src/ops/swiglu.ts): out = silu(gate) ⊙ up, same lengths, silu rounded to the dtype first. */
  swiglu(gate: Storage, up: Storage): Storage;
  /** Its gradients for the output gradient g: dUp = g·silu(gate), dGate = g·up·s(1 + gate(1 - s)), s = sigmoid(gate). */
  swigluBackward(g: Storage, gate: Storage, up: Storage): { dGate: Storage; dUp: Storage };
  /**
   * Fused attention with a per-query key range mask (see src/ops/attention.ts for layouts):
   * q [B, Tq, Hq, D], k/v [B, Tk, Hkv, D], kvStart/kvEnd int32 [B, Tq]; returns out [B, Tq, Hq, D] and
   * lse [B, Hq, Tq] (float32 or the input dtype).
   */
  attention(q: Storage, k: Storage, v: Storage, kvStart: Storage, kvEnd: Storage, dims: AttentionDims): { out: Storage; lse: Storage };
  attentionBackward(q: Storage, k: Storage, v: Storage, out: Storage, lse: Storage, dOut: Storage,
    kvStart: Storage, kvEnd: Storage, dims: AttentionDims): { dq: Storage; dk: Storage; dv: Storage };

  // ---- optimizer ------------------------------------------------------------------------------------------
  /**
   * One AdamW step in place on param p with gradient g and moments m, v (PyTorch order):
   *   g = g * gradScale; p = p * (1 - lr * wd); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
   *   p = p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
   */
  adamwStep(p: Storage, g: Storage, m: Storage, v: Storage, h: AdamWHyper): void;
  /** Sum of squares of all elements (for the global gradient norm), as a 1-element storage. */
  sumSquares(x: Storage): Storage;
}

// The backends in use, one per device. Nothing enters this map by being imported: the package entry installs
// the CPU backend (src/index.ts, src/index.browser.ts: `installBackend(createCpuBackend(...))`), and
// `await initWebGpu()` installs the WebGPU one.
const backends = new Map<Device, Backend>();

/** Makes `b` the backend of its device (replacing any previous one). */
export function installBackend(b: Backend): void {
  backends.set(b.device, b);
}

export function getBackend(device: Device): Backend {
  const b = backends.get(device);
  if (!b) {
    throw new Error(device === 'webgpu'
      ? `no WebGPU backend: call 'await initWebGpu()' (src/backend/webgpu) before moving tensors to 'webgpu'`
      : `no backend for device '${device}': import the package entry ('blt-ts', i.e. src/index.ts or ` +
        `src/index.browser.ts), which installs the CPU backend, or install one yourself with ` +
        `installBackend(createCpuBackend()) (src/backend/backend.ts, src/backend/cpu/cpu-backend.ts)`);
  }
  return b;
}

export function hasBackend(device: Device): boolean {
  return backends.has(device);
}

/** The argument checks of Backend.copyRange, shared by the backends: same dtype, both ranges inside their storage. */
export function checkCopyRange(who: string, dst: Storage, dstOffset: number, src: Storage, srcOffset: number, length: number): void {
  const inside = (off: number, s: Storage): boolean => Number.isInteger(off) && off >= 0 && off + length <= s.length;
  if (dst.dtype !== src.dtype || !Number.isInteger(length) || length < 0 || !inside(dstOffset, dst) || !inside(srcOffset, src)) {
    throw new Error(`${who}: cannot copy ${length} elements of ${src.dtype}[${src.length}] from ${srcOffset} `
      + `to ${dst.dtype}[${dst.length}] at ${dstOffset} (same dtype, both ranges inside their storage)`);
  }
}
