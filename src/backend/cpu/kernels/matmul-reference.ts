// Reference matrix multiply: the plain, readable triple loop. This is the test oracle for the fast kernels
// (matmul.ts, matmul-threads.ts) and the "reference" row of the benchmark. No blocking, no tiling.
//
//   out[i, j] = Σ_k A[i, k] · B[k, j]        (A = a or aᵀ, B = b or bᵀ)
//
// Layouts (row-major, contiguous):
//   a: [M, K], or [K, M] when transA (we multiply by aᵀ)
//   b: [K, N], or [N, K] when transB (we multiply by bᵀ)
//   out: [M, N], overwritten.
// The sum over k is accumulated in a JS number (float64) and stored once, so Float32Array outputs are
// rounded exactly once.

/** A dense buffer of floats; kernels read either precision and write into the precision of `out`. */
export type FloatArray = Float32Array | Float64Array;

/** Throws a clear error if a buffer is shorter than the shape says. */
export function checkLength(op: string, name: string, arr: ArrayLike<number>, needed: number): void {
  if (arr.length < needed) {
    throw new Error(`${op}: ${name} has length ${arr.length}, but the shape needs at least ${needed}`);
  }
}

/** Throws unless every dimension is a non-negative integer. */
export function checkDims(op: string, dims: Record<string, number>): void {
  for (const [name, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: dimension ${name} must be a non-negative integer, got ${v}`);
  }
}

/** out[M, N] = op(a) · op(b) with op = identity or transpose. */
export function matmulReference(
  a: FloatArray, b: FloatArray, out: FloatArray,
  M: number, K: number, N: number, transA: boolean, transB: boolean,
): void {
  matmulBatchedReference(a, b, out, 1, M, K, N, transA, transB, 0, 0);
}

/**
 * Batched version: for each p < batch, out[p] = op(a[p]) · op(b[p]).
 * a[p] starts at p·aBatchStride, b[p] at p·bBatchStride (a stride of 0 broadcasts that operand);
 * out is dense [batch, M, N].
 */
export function matmulBatchedReference(
  a: FloatArray, b: FloatArray, out: FloatArray,
  batch: number, M: number, K: number, N: number, transA: boolean, transB: boolean,
  aBatchStride: number, bBatchStride: number,
): void {
  checkDims('matmulBatchedReference', { batch, M, K, N, aBatchStride, bBatchStride });
  if (batch > 0) {
    checkLength('matmulBatchedReference', 'a', a, (batch - 1) * aBatchStride + M * K);
    checkLength('matmulBatchedReference', 'b', b, (batch - 1) * bBatchStride + K * N);
  }
  checkLength('matmulBatchedReference', 'out', out, batch * M * N);
  for (let p = 0; p < batch; p++) {
    const aOff = p * aBatchStride;
    const bOff = p * bBatchStride;
    const outOff = p * M * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          const aik = transA ? a[aOff + k * M + i] : a[aOff + i * K + k];
          const bkj = transB ? b[bOff + j * K + k] : b[bOff + k * N + j];
          sum += aik * bkj;
        }
        out[outOff + i * N + j] = sum;
      }
    }
  }
}
