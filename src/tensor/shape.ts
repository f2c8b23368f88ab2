/**
 * Shape arithmetic: sizes, row-major strides and NumPy/PyTorch broadcasting.
 *
 * Storage is always contiguous and row-major (C order): element [i0, i1, ..., ik] sits at
 * offset sum_j i_j * stride_j with stride_k = 1 and stride_j = stride_{j+1} * shape_{j+1}.
 * There are no strided views: reshape shares storage, every other movement op copies.
 * Keeping one layout makes every kernel (CPU loops, WGSL shaders) simple to read.
 */
export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function shapeToString(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks that a shape is a list of non-negative integers. */
export function assertValidShape(shape: Shape, op: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: invalid shape ${shapeToString(shape)}: dimensions must be non-negative integers`);
    }
  }
}

/**
 * Broadcast two shapes (NumPy rules): align from the right; each pair of dims must be equal or one of them 1.
 */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${shapeToString(a)} and ${shapeToString(b)} cannot be broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides for reading a tensor of shape `from` as if it had the broadcast shape `to`:
 * broadcast dimensions get stride 0.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const s = stridesOf(from);
  const out = new Array<number>(to.length).fill(0);
  const off = to.length - from.length;
  for (let i = 0; i < from.length; i++) out[off + i] = from[i] === 1 ? 0 : s[i];
  return out;
}

/** Normalises a possibly negative axis; throws naming the op if out of range. */
export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new Error(`${op}: axis ${axis} is out of range for a tensor of rank ${rank}`);
  }
  return a;
}

/**
 * The axes along which `from` was broadcast to reach `to` (leading extra axes and axes where from had 1).
 * Summing a gradient over these axes "unbroadcasts" it back to `from`.
 */
export function broadcastAxes(from: Shape, to: Shape): number[] {
  const axes: number[] = [];
  const off = to.length - from.length;
  for (let i = 0; i < to.length; i++) {
    if (i < off || (from[i - off] === 1 && to[i] !== 1)) axes.push(i);
  }
  return axes;
}
