/**
 * The CPU kernels that read 16-bit weights (bfloat16 / float16 words, src/tensor/half.ts) and compute in float32:
 * the rule of src/backend/backend.ts ("a kernel reads 16-bit storage only where a model reads a weight").
 *
 *  - matmul with a 16-bit B: B is converted to float32 one block of output columns at a time (about 4 MB of
 *    float32 per block, whatever the weight's size), and each block goes through the ordinary float32 kernel
 *    (kernels/wasm/matmul-dispatch.ts). Every output element is the float32 kernel's sum over k of a[i, k] times
 *    the exact float32 value of the weight, so the result equals the float32 matmul of the decoded weight.
 *    A product of fewer than 4 rows with a bfloat16 Linear weight (transB; a generation step) skips the
 *    conversion: the weight's words are copied into wasm memory as they are and read by a one-row kernel
 *    (kernels/wasm/matmul-rows-bf16.ts) that sums in the same order, so the bits are the same.
 *  - gatherRows from a 16-bit table: each gathered row is decoded on the way out.
 *  - cast between the 16-bit formats and float32/float64 (to 16 bits: via float32, rounding to nearest even).
 */
import { halfToFloat32, float32ToHalf } from '../../tensor/half.js';
import type { DType, FloatArray, HalfDType, TypedArray } from '../../tensor/dtype.js';
import { allocArray, isHalf } from '../../tensor/dtype.js';
import { matmulBatchedAuto } from './kernels/wasm/matmul-dispatch.js';
import { wasmKernelsActive } from './kernels/wasm/module.js';
import { matmulRowsBf16 } from './kernels/wasm/matmul-rows-bf16.js';
import { TILE_ROWS } from './kernels/wasm/matmul-module.js';

/** Float32 values converted per block of B (elements): 4 MB, small next to any weight worth storing in 16 bits. */
const BLOCK_FLOATS = 1 << 20;

/**
 * out [batch, M, N] = op(A_b) @ op(B) for float32 A and a 16-bit B shared by the batch (bBatchStride 0: a weight).
 * B is [N, K] when transB (a Linear weight [out, in]) or [K, N].
 */
export function matmulHalfWeight(a: FloatArray, b: Uint16Array, format: HalfDType, batch: number, M: number, K: number,
  N: number, transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number, blockFloats = BLOCK_FLOATS): Float32Array {
  if (!(a instanceof Float32Array)) throw new Error(`cpu matmul: a 16-bit (${format}) weight needs a float32 input, got float64`);
  if (bBatchStride !== 0 && batch > 1) {
    throw new Error(`cpu matmul: a 16-bit (${format}) operand [${K}, ${N}] must be one weight shared by the batch (got a batch of ${batch} matrices)`);
  }
  const out = new Float32Array(batch * M * N);
  if (N === 0 || batch * M === 0) return out;
  const rows = batch * M; // with aBatchStride = M·K the batch's rows are one [rows, K] matrix
  if (format === 'bfloat16' && transB && !transA && rows < TILE_ROWS && K > 0 && (batch === 1 || aBatchStride === M * K)
    && wasmKernelsActive()) {
    matmulRowsBf16(a, b, out, rows, K, N);
    return out;
  }
  // columns per block: a multiple of 8 (the kernel's register tile) holding about BLOCK_FLOATS weights
  const cols = Math.min(N, Math.max(8, Math.floor(blockFloats / Math.max(K, 1) / 8) * 8));
  const block = new Float32Array(cols * K);
  const part = cols < N ? new Float32Array(batch * M * cols) : out;
  for (let n0 = 0; n0 < N; n0 += cols) {
    const w = Math.min(cols, N - n0);
    const bw = block.subarray(0, w * K);
    // B's columns [n0, n0 + w) as float32: rows n0.. of [N, K] when transB, else a [K, w] strip of [K, N]
    if (transB) halfToFloat32(format, b.subarray(n0 * K, (n0 + w) * K), bw);
    else for (let k = 0; k < K; k++) halfToFloat32(format, b.subarray(k * N + n0, k * N + n0 + w), bw, k * w);
    if (part === out) {
      matmulBatchedAuto(a, bw, out, batch, M, K, N, transA, transB, aBatchStride, 0);
      continue;
    }
    const pw = part.subarray(0, batch * M * w);
    matmulBatchedAuto(a, bw, pw, batch, M, K, w, transA, transB, aBatchStride, 0);
    for (let r = 0; r < batch * M; r++) out.set(pw.subarray(r * w, r * w + w), r * N + n0);
  }
  return out;
}

/** out[i, :] = value of table[ids[i], :] for a 16-bit table [V, D] -> float32 [n, D]. */
export function gatherRowsHalf(table: Uint16Array, format: HalfDType, D: number, ids: Int32Array, n: number): Float32Array {
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) halfToFloat32(format, table.subarray(ids[i] * D, ids[i] * D + D), out, i * D);
  return out;
}

/** Converts to or from a 16-bit format: returns the new words (to 16 bits) or values (from 16 bits). */
export function castHalf(x: TypedArray | Uint16Array, from: DType, to: DType): TypedArray | Uint16Array {
  if (isHalf(from)) {
    const values = halfToFloat32(from, x as Uint16Array, new Float32Array(x.length));
    if (isHalf(to)) return float32ToHalf(to, values);
    if (to === 'float32') return values;
    const out = allocArray(to, x.length);
    if (to === 'int32') for (let i = 0; i < values.length; i++) out[i] = Math.trunc(values[i]);
    else out.set(values);
    return out;
  }
  if (!isHalf(to)) throw new Error(`castHalf: neither ${from} nor ${to} is a 16-bit dtype`);
  return float32ToHalf(to, x instanceof Float32Array ? x : Float32Array.from(x as ArrayLike<number>));
}
