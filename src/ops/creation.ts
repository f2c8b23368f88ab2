/**
 * Creating tensors: from JS data, constants, ranges and seeded random draws.
 * Random tensors are drawn on the CPU from an explicit `Rng` (src/tensor/random.ts) so runs are reproducible,
 * then moved with `.to()` if needed.
 */
import { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/backend.js';
import { allocArray, dtypeOfArray, type Device, type DType, type TypedArray } from '../tensor/dtype.js';
import { assertValidShape, sizeOf, shapeToString, type Shape } from '../tensor/shape.js';
import { Rng } from '../tensor/random.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

/**
 * A tensor from a (nested) JS array, a number, or a typed array (with an explicit shape).
 *   tensor([[1, 2], [3, 4]])               // [2, 2] float32
 *   tensor(new Int32Array(ids), [1, 5])    // int32 (the array's own type)
 */
export function tensor(data: number | unknown[] | TypedArray, shape?: Shape, opts: CreateOptions = {}): Tensor {
  let flat: TypedArray;
  let inferred: number[];
  if (ArrayBuffer.isView(data)) {
    flat = data;
    inferred = [data.length];
    if (opts.dtype && opts.dtype !== dtypeOfArray(data)) {
      const conv = allocArray(opts.dtype, data.length);
      conv.set(data);
      flat = conv;
    }
  } else {
    inferred = inferShape(data);
    const values: number[] = [];
    flatten(data, values);
    flat = allocArray(opts.dtype ?? 'float32', values.length);
    flat.set(values);
  }
  const finalShape = shape ?? inferred;
  assertValidShape(finalShape, 'tensor');
  if (sizeOf(finalShape) !== flat.length) {
    throw new Error(`tensor: ${flat.length} values do not fit shape ${shapeToString(finalShape)}`);
  }
  const backend = getBackend(opts.device ?? 'cpu');
  return new Tensor(backend.upload(flat), finalShape, opts.requiresGrad ?? false);
}

function inferShape(data: unknown): number[] {
  if (typeof data === 'number') return [];
  if (!Array.isArray(data)) throw new Error(`tensor: expected numbers or nested arrays, got ${typeof data}`);
  if (data.length === 0) return [0];
  const inner = inferShape(data[0]);
  for (const d of data) {
    const s = inferShape(d);
    if (s.length !== inner.length || s.some((v, i) => v !== inner[i])) {
      throw new Error(`tensor: ragged nested array (${shapeToString(inner)} vs ${shapeToString(s)})`);
    }
  }
  return [data.length, ...inner];
}

function flatten(data: unknown, out: number[]): void {
  if (typeof data === 'number') out.push(data);
  else for (const d of data as unknown[]) flatten(d, out);
}

export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  assertValidShape(shape, 'full');
  const backend = getBackend(opts.device ?? 'cpu');
  return new Tensor(backend.full(sizeOf(shape), opts.dtype ?? 'float32', value), shape, opts.requiresGrad ?? false);
}

export const zeros = (shape: Shape, opts: CreateOptions = {}): Tensor => full(shape, 0, opts);
export const ones = (shape: Shape, opts: CreateOptions = {}): Tensor => full(shape, 1, opts);
export const zerosLike = (t: Tensor): Tensor => full(t.shape, 0, { dtype: t.dtype, device: t.device });
export const onesLike = (t: Tensor): Tensor => full(t.shape, 1, { dtype: t.dtype, device: t.device });

/** [start, start+1, ..., end-1] as int32 (or the requested dtype). */
export function arange(start: number, end: number, opts: CreateOptions = {}): Tensor {
  const n = Math.max(0, end - start);
  const a = allocArray(opts.dtype ?? 'int32', n);
  for (let i = 0; i < n; i++) a[i] = start + i;
  return tensor(a, [n], opts);
}

function randomTensor(shape: Shape, draw: () => number, opts: CreateOptions, op: string): Tensor {
  assertValidShape(shape, op);
  const a = allocArray(opts.dtype ?? 'float32', sizeOf(shape));
  for (let i = 0; i < a.length; i++) a[i] = draw();
  return tensor(a, shape, opts);
}

/** Uniform in [low, high). */
export function rand(shape: Shape, rng: Rng, low = 0, high = 1, opts: CreateOptions = {}): Tensor {
  return randomTensor(shape, () => low + (high - low) * rng.uniform(), opts, 'rand');
}

/** Normal(mean, std). */
export function randn(shape: Shape, rng: Rng, std = 1, mean = 0, opts: CreateOptions = {}): Tensor {
  return randomTensor(shape, () => mean + std * rng.normal(), opts, 'randn');
}

/** Normal(0, std) truncated to [-cut*std, cut*std] (Meta's BLT code initialises every linear weight so, cut = 3). */
export function truncNormal(shape: Shape, rng: Rng, std: number, cut = 3, opts: CreateOptions = {}): Tensor {
  return randomTensor(shape, () => std * rng.truncatedNormal(-cut, cut), opts, 'truncNormal');
}
