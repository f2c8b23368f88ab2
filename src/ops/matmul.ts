/**
 * Batched matrix multiplication with broadcast batch dimensions (PyTorch `matmul` for rank >= 2).
 *
 *   C = op(A) @ op(B),  op(X) = X or X^T
 *   dA = dC @ op(B)^T  (or its transpose),  dB = op(A)^T @ dC  (or its transpose)
 * The transposes are flags passed to the kernel, so backward never materialises a transposed copy.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { broadcastShapes, shapeToString, sizeOf } from '../tensor/shape.js';
import { checkFloat, checkHalfWeight, checkSameDevice } from './check.js';
import { isHalf } from '../tensor/dtype.js';
import { expand, sumTo } from './reduce.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

// [doc:matmul-op]
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  checkSameDevice('matmul', a, b);
  // a 16-bit b is a weight in storage form (computed in float32, src/backend/backend.ts); anything else is float
  if (isHalf(b.dtype) && a.dtype === 'float32') { checkFloat('matmul', a); checkHalfWeight('matmul', b); }
  else checkFloat('matmul', a, b);
  const transA = opts.transA ?? false, transB = opts.transB ?? false;
  if (a.rank < 2 || b.rank < 2) {
    throw new Error(`matmul: both inputs need rank >= 2, got ${shapeToString(a.shape)} and ${shapeToString(b.shape)}`);
  }
  const [ar, ac] = a.shape.slice(-2), [br, bc] = b.shape.slice(-2);
  const M = transA ? ac : ar, K = transA ? ar : ac;
  const Kb = transB ? bc : br, N = transB ? br : bc;
  if (K !== Kb) {
    throw new Error(`matmul: inner dimensions differ: ${shapeToString(a.shape)}${transA ? '^T' : ''} @ ${shapeToString(b.shape)}${transB ? '^T' : ''} (${K} vs ${Kb})`);
  }
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  const batchShape = broadcastShapes(aBatch, bBatch, 'matmul');
  const batch = sizeOf(batchShape);
  // The kernel broadcasts a whole operand (batch stride 0). A partial broadcast such as [2, 1, M, K] @ [1, 3, K, N]
  // is materialised first with expand (differentiable, so the gradient is summed back by expand's backward).
  const aFull = sizeOf(aBatch) === batch, bFull = sizeOf(bBatch) === batch;
  if (!(aFull || sizeOf(aBatch) === 1) || !(bFull || sizeOf(bBatch) === 1)) {
    const ea = aFull || sizeOf(aBatch) === 1 ? a : expand(a, [...batchShape, ...a.shape.slice(-2)]);
    const eb = bFull || sizeOf(bBatch) === 1 ? b : expand(b, [...batchShape, ...b.shape.slice(-2)]);
    return matmul(ea, eb, opts);
  }
  const storage = a.backend.matmul(a.storage, b.storage, batch, M, K, N, transA, transB,
    aFull && batch > 1 ? M * K : 0, bFull && batch > 1 ? K * N : 0);
  const outShape = [...batchShape, M, N];
  return record('matmul', storage, outShape, [a, b], (g) => {
    let da: Tensor | null = null, db: Tensor | null = null;
    if (a.requiresGrad) {
      // dA = g @ op(B)^T, laid out like A (transposed back if A was used transposed)
      const full = transA ? matmul(b, g, { transA: transB, transB: true }) : matmul(g, b, { transB: !transB });
      da = sumTo(full, a.shape); // sums over batch axes along which A was broadcast
    }
    if (b.requiresGrad) {
      // dB = op(A)^T @ g, laid out like B
      const full = transB ? matmul(g, a, { transA: true, transB: transA }) : matmul(a, g, { transA: !transA });
      db = sumTo(full, b.shape);
    }
    return [da, db];
  });
}
