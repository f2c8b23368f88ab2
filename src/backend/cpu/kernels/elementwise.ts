// Elementwise kernels: unary ops, scalar power and affine maps, broadcasting binary ops and `where`.
// Values are computed in JS numbers (float64) and rounded once when stored into `out`.
//
// Speed note: each kernel switches on the op once and then runs a loop with the operation written inline.
// Calling the op through a table of closures per element is a megamorphic call V8 cannot inline (~5x slower).

import type { BinaryOp, UnaryOp } from '../../backend.js';
import type { FloatArray } from '../../../tensor/dtype.js';
import { broadcastStrides, sizeOf, type Shape } from '../../../tensor/shape.js';
import { forEachBroadcast } from './broadcast.js';
import { binaryWasm, unaryWasm } from './wasm/elementwise-wasm.js';
import { wasmKernels, wasmKernelsActive } from './wasm/module.js';

/**
 * out[i] = op(a[i]); one loop per op so the operation is inlined. Float32 exp, sigmoid and SiLU run on the wasm SIMD
 * kernels (float64 lanes) instead (wasm/elementwise-wasm.ts) while those are active (the choice depends on the dtype only).
 */
export function unary(op: UnaryOp, a: FloatArray, out: FloatArray): void {
  if ((op === 'sigmoid' || op === 'silu' || op === 'exp') && a instanceof Float32Array && out instanceof Float32Array
    && wasmKernelsActive()) {
    unaryWasm(wasmKernels()!, op === 'exp' ? 'exp64' : op, a, out);
    return;
  }
  unaryReference(op, a, out);
}

/** out[i] = op(a[i]) in JS numbers (float64), rounded once on store: the readable version. */
export function unaryReference(op: UnaryOp, a: FloatArray, out: FloatArray): void {
  const n = a.length;
  switch (op) {
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(a[i]); return;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(a[i]); return;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(a[i]); return;
    case 'rsqrt': for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(a[i]); return;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = Math.tanh(a[i]); return;
    case 'sigmoid': for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-a[i])); return;
    case 'relu': for (let i = 0; i < n; i++) out[i] = a[i] > 0 ? a[i] : 0; return;
    case 'silu': for (let i = 0; i < n; i++) out[i] = a[i] / (1 + Math.exp(-a[i])); return;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(a[i]); return;
    case 'sign': for (let i = 0; i < n; i++) out[i] = a[i] > 0 ? 1 : a[i] < 0 ? -1 : 0; return;
  }
  throw new Error(`cpu unary: unknown op '${String(op)}'`);
}

/** out[i] = a[i] ** p for a scalar exponent (p = 2 as a product, the common case). */
export function powScalar(a: FloatArray, p: number, out: FloatArray): void {
  if (p === 2) for (let i = 0; i < a.length; i++) out[i] = a[i] * a[i];
  else for (let i = 0; i < a.length; i++) out[i] = Math.pow(a[i], p);
}

/** out[i] = a[i] · alpha + beta. */
export function affine(a: FloatArray, alpha: number, beta: number, out: FloatArray): void {
  for (let i = 0; i < a.length; i++) out[i] = a[i] * alpha + beta;
}

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a >= b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a <= b || Number.isNaN(a) ? a : b),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
  eq: (a, b) => (a === b ? 1 : 0),
};

/** Below this many floats a same-shape float32 op stays in JS (the wasm call and copies cost more). */
const WASM_BINARY_MIN = 4096;

/**
 * out[i] = op(a[i], b[i]) for same-shape operands, the most common case (residual adds, gradient sums,
 * SwiGLU products). Plain indexing is ~12% faster than the strided loop of binaryRun. Large float32 add, sub, mul
 * and div run on the wasm SIMD kernels (same bits, see wasm/elementwise-module.ts) while those are active.
 */
function binarySameShape(op: BinaryOp, a: FloatArray, b: FloatArray, out: FloatArray, n: number): void {
  if ((op === 'add' || op === 'sub' || op === 'mul' || op === 'div') && n >= WASM_BINARY_MIN
    && a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array && wasmKernelsActive()) {
    binaryWasm(wasmKernels()!, op, a, b, out);
    return;
  }
  binarySameShapeReference(op, a, b, out, n);
}

/** binarySameShape's JS loops, in float64 rounded once on store: the readable version. */
export function binarySameShapeReference(op: BinaryOp, a: FloatArray, b: FloatArray, out: FloatArray, n: number): void {
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; return;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; return;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; return;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; return;
    default: binaryRun(op, a, 0, 1, b, 0, 1, out, 0, n);
  }
}

/**
 * out[o + j] = op(a[ia + j·sa], b[ib + j·sb]) for j < n: the inner loop of every broadcasting binary kernel.
 * Strides of 1 or 0 (a broadcast scalar or row) cover all the patterns with one loop each. The four
 * arithmetic ops are written inline; the rarer ones go through binaryFns.
 */
function binaryRun(op: BinaryOp, a: FloatArray, ia: number, sa: number, b: FloatArray, ib: number, sb: number,
  out: FloatArray, o: number, n: number): void {
  const end = o + n;
  switch (op) {
    case 'add': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] + b[ib]; return;
    case 'sub': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] - b[ib]; return;
    case 'mul': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] * b[ib]; return;
    case 'div': for (; o < end; o++, ia += sa, ib += sb) out[o] = a[ia] / b[ib]; return;
    default: {
      const f = binaryFns[op];
      for (; o < end; o++, ia += sa, ib += sb) out[o] = f(a[ia], b[ib]);
    }
  }
}

/** out = op(a, b) with a, b broadcast (NumPy rules) to outShape; out has sizeOf(outShape) elements. */
export function binary(op: BinaryOp, a: FloatArray, aShape: Shape, b: FloatArray, bShape: Shape, outShape: Shape,
  out: FloatArray): void {
  const n = sizeOf(outShape);
  if (a.length === n && b.length === n) binarySameShape(op, a, b, out, n);
  else if (b.length === 1 && a.length === n) binaryRun(op, a, 0, 1, b, 0, 0, out, 0, n); // tensor op scalar
  else if (a.length === 1 && b.length === n) binaryRun(op, a, 0, 0, b, 0, 1, out, 0, n); // scalar op tensor
  else {
    // general broadcast: one strided run per innermost row of the output
    const sa = broadcastStrides(aShape, outShape), sb = broadcastStrides(bShape, outShape);
    forEachBroadcast(outShape, [sa, sb], (o, offs, inner, is) => {
      binaryRun(op, a, offs[0], is[0], b, offs[1], is[1], out, o, inner);
    });
  }
}

/** out = c != 0 ? a : b, the three operands broadcast to outShape. */
export function where(c: FloatArray, cShape: Shape, a: FloatArray, aShape: Shape, b: FloatArray, bShape: Shape,
  outShape: Shape, out: FloatArray): void {
  const strides = [broadcastStrides(cShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape)];
  forEachBroadcast(outShape, strides, (o, offs, inner, is) => {
    let ic = offs[0], ia = offs[1], ib = offs[2];
    for (let j = 0; j < inner; j++, ic += is[0], ia += is[1], ib += is[2]) out[o + j] = c[ic] !== 0 ? a[ia] : b[ib];
  });
}
