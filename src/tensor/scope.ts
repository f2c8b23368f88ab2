/**
 * Memory scopes: `scope(fn)` disposes every tensor created inside fn except those it returns and those
 * marked with `keep`. On the CPU this only drops references early; on WebGPU it is how buffers are freed
 * (JavaScript's garbage collector knows nothing about GPU memory).
 */
import type { Tensor } from './tensor.js';

const stack: Tensor[][] = [];

/** Called by the Tensor constructor. */
export function trackTensor(t: Tensor): void {
  if (stack.length > 0) stack[stack.length - 1].push(t);
}

// [doc:scope]
/** Runs fn; disposes the tensors it created that are neither returned (anywhere inside the result) nor kept. */
export function scope<T>(fn: () => T): T {
  const created: Tensor[] = [];
  stack.push(created);
  let result: T;
  try {
    result = fn();
  } finally {
    leave(created);
  }
  release(created, result);
  return result;
}

/** Async version of scope (for training steps that await GPU reads). */
export async function scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
  const created: Tensor[] = [];
  stack.push(created);
  let result: T;
  try {
    result = await fn();
  } finally {
    leave(created);
  }
  release(created, result);
  return result;
}

/** Removes a scope's list from the stack (by identity: an awaited scope may not be on top any more). */
function leave(created: Tensor[]): void {
  const i = stack.lastIndexOf(created);
  if (i >= 0) stack.splice(i, 1);
}

/** Hands the returned tensors to the enclosing scope and disposes the rest (unless kept). */
function release(created: Tensor[], result: unknown): void {
  const returned = new Set<Tensor>();
  collectTensors(result, returned);
  const parent = stack.length > 0 ? stack[stack.length - 1] : null;
  for (const t of created) {
    if (returned.has(t)) parent?.push(t);
    else if (!t.kept && !t.disposed) t.dispose();
  }
}

/** Marks tensors as kept: no scope will dispose them (parameters, optimizer state, gradients). */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  return t;
}

function collectTensors(x: unknown, out: Set<Tensor>): void {
  if (x === null || typeof x !== 'object') return;
  if ((x as { isTensor?: boolean }).isTensor === true) {
    out.add(x as Tensor);
    return;
  }
  if (Array.isArray(x)) for (const v of x) collectTensors(v, out);
  else if (x instanceof Map) for (const v of x.values()) collectTensors(v, out);
  else if (Object.getPrototypeOf(x) === Object.prototype) for (const v of Object.values(x)) collectTensors(v, out);
}
