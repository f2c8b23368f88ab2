/**
 * The Tensor: a shape, a dtype, a device, a reference to storage, and (for autograd) the node that made it.
 *
 * Layout: contiguous row-major storage, no strided views (src/tensor/shape.ts). `reshape` shares storage
 * through a reference count; everything else writes new storage.
 *
 * Autograd fields, micrograd style: `node` records the op that produced this tensor (its inputs and a
 * backward closure); `grad` accumulates d(loss)/d(this) for leaves that require grad.
 */
import type { Backend, Storage } from '../backend/backend.js';
import { getBackend } from '../backend/backend.js';
import { isHalf, type Device, type DType, type TypedArray } from './dtype.js';
import { sizeOf, shapeToString, type Shape } from './shape.js';
import { trackTensor } from './scope.js';

/** How a tensor was computed: the op's name, its inputs, and the function mapping dL/dout to dL/dinputs. */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Returns one gradient per input (null where the input needs none). */
  backward: (gradOut: Tensor) => (Tensor | null)[];
}

/** Storage shared by a tensor and its reshapes; freed when the last one is disposed. */
export interface SharedStorage {
  storage: Storage;
  refs: number;
}

let nextId = 0;

// [doc:tensor-class]
export class Tensor {
  readonly isTensor = true;
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: Device;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  /** Never disposed by a scope (parameters, optimizer state, gradients). */
  kept = false;
  disposed = false;
  /** Optional name (parameters carry their state-dict key). */
  name?: string;
  private shared: SharedStorage;

  constructor(storage: Storage | SharedStorage, shape: Shape, requiresGrad = false) {
    this.shared = 'refs' in storage ? storage : { storage, refs: 0 };
    this.shared.refs++;
    const st = this.shared.storage;
    if (sizeOf(shape) !== st.length) {
      throw new Error(`Tensor: shape ${shapeToString(shape)} has ${sizeOf(shape)} elements but storage has ${st.length}`);
    }
    this.id = nextId++;
    this.shape = Object.freeze([...shape]);
    this.dtype = st.dtype;
    this.device = st.device;
    this.requiresGrad = requiresGrad;
    trackTensor(this);
  }

  get storage(): Storage {
    if (this.disposed) throw new Error(`tensor #${this.id} ${shapeToString(this.shape)} was disposed and cannot be used`);
    return this.shared.storage;
  }

  get backend(): Backend {
    return getBackend(this.device);
  }

  get size(): number {
    return sizeOf(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A tensor with a new shape viewing the same storage (no copy, no graph: use ops.reshape in models). */
  withShape(shape: Shape, requiresGrad = false): Tensor {
    return new Tensor(this.sharedStorage(), shape, requiresGrad);
  }

  /** @internal shared storage handle for reshape. */
  sharedStorage(): SharedStorage {
    if (this.disposed) throw new Error(`tensor #${this.id} was disposed and cannot be used`);
    return this.shared;
  }

  /** Frees this tensor's storage (when no reshape of it is alive). Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.node = null;
    if (--this.shared.refs === 0) getBackend(this.device).dispose(this.shared.storage);
  }

  /**
   * Copies this tensor to another device ('cpu' or 'webgpu'). Differentiable. Async because reading a GPU
   * buffer back is; uploads also resolve at once. Ops never move data implicitly.
   */
  async to(device: Device): Promise<Tensor> {
    const { toDevice } = await import('../ops/device.js');
    return toDevice(this, device);
  }

  /** Reads the values back to the host (async: works on every device; 16-bit tensors come back as float32). */
  async data(): Promise<TypedArray> {
    return this.backend.download(this.storage);
  }

  /**
   * The values as a flat typed array (CPU tensors only; GPU tensors need `await t.data()`). This is the storage
   * itself, not a copy: read it, never write it. Values change through loadStateDict or Backend.copyInto, which
   * also drop what the CPU matmul keeps packed from the old values (src/backend/cpu/kernels/wasm/packed-b-cache.ts).
   */
  dataSync(): TypedArray {
    const st = this.storage as Storage & { data?: TypedArray };
    if (this.device !== 'cpu' || !st.data) {
      throw new Error(`dataSync: tensor ${shapeToString(this.shape)} is on '${this.device}'; use 'await t.data()' to read it`);
    }
    if (isHalf(this.dtype)) {
      throw new Error(`dataSync: tensor ${shapeToString(this.shape)} is ${this.dtype} (16-bit storage); read its values with 'await t.data()' or its words with halfBits()`);
    }
    return st.data;
  }

  /** The 16-bit words of a bfloat16/float16 CPU tensor (its storage itself, not a copy: read it, never write it). */
  halfBits(): Uint16Array {
    const st = this.storage as Storage & { data?: unknown };
    if (this.device !== 'cpu' || !isHalf(this.dtype) || !(st.data instanceof Uint16Array)) {
      throw new Error(`halfBits: tensor ${shapeToString(this.shape)} is ${this.dtype} on '${this.device}', not a 16-bit CPU tensor`);
    }
    return st.data;
  }

  /** Nested JS arrays (CPU only). */
  toArray(): unknown {
    return nest(Array.from(this.dataSync()), this.shape);
  }

  /** The single value of a 1-element tensor (CPU only). */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has shape ${shapeToString(this.shape)}, expected exactly one element`);
    return this.dataSync()[0];
  }

  /** Detached copy of the graph position: same storage, no history, no grad. */
  detach(): Tensor {
    return this.withShape(this.shape, false);
  }

  toString(): string {
    const head = `Tensor(shape=${shapeToString(this.shape)}, dtype=${this.dtype}, device=${this.device}` +
      (this.requiresGrad ? ', requiresGrad' : '') + ')';
    if (this.disposed) return `${head} <disposed>`;
    if (this.device !== 'cpu') return head;
    return `${head}\n${formatValues(Array.from(this.dataSync()), this.shape)}`;
  }
}

function nest(flat: number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  const [n, ...rest] = shape;
  const inner = sizeOf(rest);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) out.push(nest(flat.slice(i * inner, (i + 1) * inner), rest));
  return out;
}

/** Pretty-prints up to 6 entries per axis (the first and last 3), 4 significant digits. */
function formatValues(flat: number[], shape: readonly number[], depth = 0, offset = 0): string {
  const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
  if (shape.length === 0) return fmt(flat[0]);
  const [n, ...rest] = shape;
  const inner = sizeOf(rest);
  const idx = n <= 6 ? [...Array(n).keys()] : [0, 1, 2, -1, n - 3, n - 2, n - 1];
  const parts = idx.map((i) => (i < 0 ? '...' : rest.length === 0 ? fmt(flat[offset + i])
    : formatValues(flat, rest, depth + 1, offset + i * inner)));
  const sep = rest.length === 0 ? ', ' : ',\n' + ' '.repeat(depth + 1);
  return `[${parts.join(sep)}]`;
}
