/**
 * Argument checks shared by the ops. Every error names the op and the offending shapes, dtypes or values.
 */
import { Tensor } from '../tensor/tensor.js';
import { shapeToString } from '../tensor/shape.js';
import { isHalf } from '../tensor/dtype.js';
import { isGradEnabled } from '../autograd/grad-mode.js';

export function checkSameDevice(op: string, ...ts: Tensor[]): void {
  const d = ts[0].device;
  for (const t of ts) {
    if (t.device !== d) {
      throw new Error(`${op}: inputs are on different devices (${ts.map((x) => `${x.device} ${shapeToString(x.shape)}`).join(', ')}); move them with .to() first (no implicit copies)`);
    }
  }
}

export function checkFloat(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.dtype === 'int32') throw new Error(`${op}: expected a float tensor, got int32 ${shapeToString(t.shape)}`);
    checkNotHalf(op, t);
  }
  const d = ts[0].dtype;
  for (const t of ts) {
    if (t.dtype !== d) throw new Error(`${op}: dtype mismatch (${ts.map((x) => x.dtype).join(' vs ')}); cast explicitly`);
  }
}

export function checkInt(op: string, what: string, t: Tensor): void {
  if (t.dtype !== 'int32') throw new Error(`${op}: ${what} must be int32, got ${t.dtype} ${shapeToString(t.shape)}`);
}

export function checkRank(op: string, t: Tensor, rank: number, what = 'input'): void {
  if (t.rank !== rank) throw new Error(`${op}: ${what} must have rank ${rank}, got shape ${shapeToString(t.shape)}`);
}

/** CPU-only check for ids in [0, n) (on WebGPU the caller validates on the host before upload). */
export function checkIndexRange(op: string, ids: Tensor, n: number): void {
  if (ids.device !== 'cpu') return;
  const a = ids.dataSync();
  for (let i = 0; i < a.length; i++) {
    if (a[i] < 0 || a[i] >= n) throw new Error(`${op}: index ${a[i]} at position ${i} is out of range [0, ${n})`);
  }
}

/** CPU-only NaN/Inf guard for inputs that must be finite. */
export function checkFinite(op: string, t: Tensor, what = 'input'): void {
  if (t.device !== 'cpu') return;
  const a = t.dataSync();
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${op}: ${what} ${shapeToString(t.shape)} contains ${a[i]} at flat index ${i}`);
  }
}

/**
 * 16-bit tensors (bfloat16, float16) are weights in storage form: only matmul (as the weight operand) and
 * embedding (as the table) read them (src/backend/backend.ts). Every other op refuses them here.
 */
export function checkNotHalf(op: string, t: Tensor, what = 'input'): void {
  if (isHalf(t.dtype)) {
    throw new Error(`${op}: ${what} ${shapeToString(t.shape)} is ${t.dtype} (16-bit storage), which only matmul's weight ` +
      `operand and embedding tables read; cast it first (ops.cast(t, 'float32'))`);
  }
}

/**
 * A 16-bit weight read by matmul or embedding: a matrix, and not being trained (16-bit storage is for inference;
 * a checkpoint with 16-bit weights loads frozen, and Module.requiresGrad and AdamW refuse to train it). A 16-bit
 * tensor whose requiresGrad was set by hand is refused under grad mode, at the first op rather than in backward.
 */
export function checkHalfWeight(op: string, w: Tensor): void {
  if (w.rank !== 2) throw new Error(`${op}: a ${w.dtype} (16-bit) operand must be a weight matrix, got shape ${shapeToString(w.shape)}`);
  if (w.requiresGrad && isGradEnabled()) {
    throw new Error(`${op}: weight ${w.name ? `'${w.name}' ` : ''}${shapeToString(w.shape)} is ${w.dtype} (16-bit storage) and requires grad: ` +
      `16-bit weights cannot be trained; freeze it (model.requiresGrad(false)) for inference, or load the checkpoint as float32 to train`);
  }
}
