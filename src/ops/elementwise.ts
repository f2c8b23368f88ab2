/**
 * Elementwise ops with NumPy broadcasting. Each forward is followed by its backward.
 * Builds on reduce.ts (sumTo) and creation.ts (full, to lift a number to a tensor).
 *
 * Broadcasting and gradients: if `a` was broadcast from shape [3, 1] to [3, 4], every a[i, 0] was used 4 times,
 * so its gradient is the sum over that axis: `sumTo(grad, a.shape)` ("unbroadcast").
 */
import { Tensor } from '../tensor/tensor.js';
import type { BinaryOp, Storage, UnaryOp } from '../backend/backend.js';
import { record } from '../autograd/engine.js';
import { broadcastShapes } from '../tensor/shape.js';
import { isHalf, type DType } from '../tensor/dtype.js';
import { checkFloat, checkSameDevice } from './check.js';
import { sumTo } from './reduce.js';
import { full } from './creation.js';

function unary(op: UnaryOp, x: Tensor, backward: (g: Tensor, out: Tensor) => Tensor): Tensor {
  checkFloat(op, x);
  const out: Tensor = record(op, x.backend.unary(op, x.storage), x.shape, [x], (g) => [backward(g, out)]);
  return out;
}

function binaryForward(op: BinaryOp, a: Tensor, b: Tensor): { storage: Storage; shape: number[] } {
  checkSameDevice(op, a, b);
  checkFloat(op, a, b);
  const shape = broadcastShapes(a.shape, b.shape, op);
  return { storage: a.backend.binary(op, a.storage, a.shape, b.storage, b.shape, shape), shape };
}

/** Turns a plain number into a 0-d tensor like `like`. */
function lift(x: Tensor | number, like: Tensor): Tensor {
  return typeof x === 'number' ? full([], x, { dtype: like.dtype, device: like.device }) : x;
}

// ---- arithmetic -------------------------------------------------------------------------------------------

/** a + b ; d/da = 1, d/db = 1 */
export function add(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, b);
  const { storage, shape } = binaryForward('add', a, b);
  return record('add', storage, shape, [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

/** a - b ; d/da = 1, d/db = -1 */
export function sub(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1, -b);
  const { storage, shape } = binaryForward('sub', a, b);
  return record('sub', storage, shape, [a, b], (g) => [sumTo(g, a.shape), sumTo(neg(g), b.shape)]);
}

// [doc:op-mul]
/** a * b ; d/da = b, d/db = a */
export function mul(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, b, 0);
  const { storage, shape } = binaryForward('mul', a, b);
  return record('mul', storage, shape, [a, b], (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

/** a / b ; d/da = 1/b, d/db = -a/b^2 */
export function div(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === 'number') return affine(a, 1 / b, 0);
  const { storage, shape } = binaryForward('div', a, b);
  return record('div', storage, shape, [a, b], (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(neg(div(mul(g, a), mul(b, b))), b.shape) : null,
  ]);
}

/** alpha * x + beta for numbers alpha, beta ; d/dx = alpha */
export function affine(x: Tensor, alpha: number, beta: number): Tensor {
  checkFloat('affine', x);
  return record('affine', x.backend.affine(x.storage, alpha, beta), x.shape, [x], (g) => [affine(g, alpha, 0)]);
}

export const neg = (x: Tensor): Tensor => affine(x, -1, 0);

/** x ** p for a number p ; d/dx = p x^(p-1) */
export function pow(x: Tensor, p: number): Tensor {
  checkFloat('pow', x);
  return record('pow', x.backend.powScalar(x.storage, p), x.shape, [x], (g) => [mul(g, affine(pow(x, p - 1), p, 0))]);
}

// ---- unary functions ----------------------------------------------------------------------------------------

/** exp(x) ; d/dx = exp(x) (the saved output) */
export const exp = (x: Tensor): Tensor => unary('exp', x, (g, out) => mul(g, out));
/** log(x) ; d/dx = 1/x */
export const log = (x: Tensor): Tensor => unary('log', x, (g) => div(g, x));
/** sqrt(x) ; d/dx = 1 / (2 sqrt(x)) */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, (g, out) => div(g, affine(out, 2, 0)));
/** 1/sqrt(x) ; d/dx = -1/2 x^(-3/2) = -out^3 / 2 */
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x, (g, out) => mul(g, affine(pow(out, 3), -0.5, 0)));
/** tanh(x) ; d/dx = 1 - tanh^2 */
export const tanh = (x: Tensor): Tensor => unary('tanh', x, (g, out) => mul(g, affine(mul(out, out), -1, 1)));
/** sigmoid(x) = 1/(1+e^-x) ; d/dx = s (1 - s) */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x, (g, out) => mul(g, mul(out, affine(out, -1, 1))));
/** relu(x) = max(x, 0) ; d/dx = [x > 0] */
export const relu = (x: Tensor): Tensor => unary('relu', x, (g) => mul(g, gt(x, 0)));
/** silu(x) = x sigmoid(x) ; d/dx = s (1 + x (1 - s)) */
export const silu = (x: Tensor): Tensor => unary('silu', x, (g) => {
  const s = sigmoid(x);
  return mul(g, mul(s, add(mul(x, affine(s, -1, 1)), 1)));
});
/** |x| ; d/dx = sign(x) */
export const abs = (x: Tensor): Tensor => unary('abs', x, (g) => mul(g, sign(x)));
/** sign(x) ; no gradient (piecewise constant) */
export const sign = (x: Tensor): Tensor => {
  checkFloat('sign', x);
  return new Tensor(x.backend.unary('sign', x.storage), x.shape);
};

// ---- comparisons (no gradient; 1.0 / 0.0 in the input dtype) -------------------------------------------------

function compare(op: 'gt' | 'ge' | 'eq', a: Tensor, b: Tensor | number): Tensor {
  const bt = lift(b, a);
  const { storage, shape } = binaryForward(op, a, bt);
  return new Tensor(storage, shape);
}
export const gt = (a: Tensor, b: Tensor | number): Tensor => compare('gt', a, b);
export const ge = (a: Tensor, b: Tensor | number): Tensor => compare('ge', a, b);
export const eq = (a: Tensor, b: Tensor | number): Tensor => compare('eq', a, b);
export const lt = (a: Tensor, b: Tensor | number): Tensor => compare('gt', lift(b, a), a);

// ---- maximum / minimum / where ------------------------------------------------------------------------------

/** elementwise max ; the gradient goes to the larger input (to `a` on ties) */
export function maximum(a: Tensor, b: Tensor): Tensor {
  const { storage, shape } = binaryForward('maximum', a, b);
  return record('maximum', storage, shape, [a, b], (g) => {
    const aWins = ge(a, b);
    return [sumTo(where(aWins, g, 0), a.shape), sumTo(where(aWins, 0, g), b.shape)];
  });
}

/** elementwise min ; the gradient goes to the smaller input (to `a` on ties) */
export function minimum(a: Tensor, b: Tensor): Tensor {
  const { storage, shape } = binaryForward('minimum', a, b);
  return record('minimum', storage, shape, [a, b], (g) => {
    const aWins = ge(b, a);
    return [sumTo(where(aWins, g, 0), a.shape), sumTo(where(aWins, 0, g), b.shape)];
  });
}

/** cond ? a : b (cond: a float 0/1 tensor; all three broadcast) ; gradients are routed by cond */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const ta = lift(a, cond), tb = lift(b, cond);
  checkSameDevice('where', cond, ta, tb);
  checkFloat('where', cond, ta, tb);
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape, 'where'), tb.shape, 'where');
  const storage = cond.backend.where(cond.storage, cond.shape, ta.storage, ta.shape, tb.storage, tb.shape, shape);
  return record('where', storage, shape, [cond, ta, tb], (g) => [
    null,
    ta.requiresGrad ? sumTo(where(cond, g, 0), ta.shape) : null,
    tb.requiresGrad ? sumTo(where(cond, 0, g), tb.shape) : null,
  ]);
}

/** x with `value` where mask is 1 (PyTorch masked_fill). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

/**
 * x converted to `dtype` (float <-> float; to a 16-bit dtype rounds to nearest, ties to even; float <-> int32
 * truncates). Backward: the gradient converted back (a 16-bit input receives a float32 gradient).
 */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  return record('cast', x.backend.cast(x.storage, dtype), x.shape, [x], (g) => [isHalf(x.dtype) ? g : cast(g, x.dtype)]);
}
