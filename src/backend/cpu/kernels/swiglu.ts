// SwiGLU's gate on the CPU: out = silu(gate) ⊙ up, and its backward, fused so that a feed-forward layer makes one
// pass over its [tokens, hidden] activations each way instead of the ten of silu, mul and their backwards.
//
//   forward:   out = silu(x) · u,           silu(x) = x s,  s = sigmoid(x) = 1 / (1 + e^-x),  x = gate, u = up
//   backward:  dU = g · silu(x)  = g x s
//              dX = g · u · silu'(x),       silu'(x) = s (1 + x (1 - s))
//
// The JS loops (the readable version, and the float64 path) compute in float64 and round once on store, except
// that the forward rounds silu to float32 before the product, as the unfused silu-then-mul did. Float32 tensors run
// on the wasm kernels of wasm/swiglu-module.ts, which follow the same formulas, streamed through wasm memory in
// chunks and split over the CPU threads for large tensors (each element is computed alone, so any split gives the
// same bits).

import type { FloatArray } from '../../../tensor/dtype.js';
import { getCpuThreads, runJob } from './thread-pool.js';
import { wasmForFloat32, type KernelInstance } from './wasm/module.js';

/** Elements from which the wasm kernels split a tensor over the CPU threads (below, the copies cost more). */
const SWIGLU_THREAD_MIN = 1 << 16;
/** Elements per work unit of the threaded job. */
const SWIGLU_UNIT = 1 << 12;

/** out[i] = fround(silu(gate[i])) · up[i] in float64, rounded on store. */
export function swigluReference(gate: FloatArray, up: FloatArray, out: FloatArray): void {
  const round = out instanceof Float32Array ? Math.fround : (v: number) => v;
  for (let i = 0; i < out.length; i++) {
    const x = gate[i];
    out[i] = round(x / (1 + Math.exp(-x))) * up[i];
  }
}

/** dGate, dUp of swiglu for the output gradient g, in float64, rounded on store. */
export function swigluBackwardReference(g: FloatArray, gate: FloatArray, up: FloatArray, dGate: FloatArray,
  dUp: FloatArray): void {
  for (let i = 0; i < g.length; i++) {
    const x = gate[i], s = 1 / (1 + Math.exp(-x));
    dUp[i] = g[i] * x * s;
    dGate[i] = g[i] * up[i] * s * (1 + x * (1 - s));
  }
}

/**
 * Elements [chunk·unitStart, chunk·unitEnd) of the forward (backward when `backward`) on the wasm
 * kernels; `x` holds the arrays by name (forward: gate, up, out; backward: g, gate, up, dGate, dUp). They are
 * copied through wasm memory a chunk at a time. Self-contained: thread-pool.ts ships its text to the workers.
 */
export function wasmSwigluUnits(wasm: KernelInstance, x: Record<string, Float32Array>, n: number, backward: boolean,
  chunk: number, unitStart: number, unitEnd: number): void {
  const names = backward ? ['g', 'gate', 'up', 'dGate', 'dUp'] : ['gate', 'up', 'out'];
  const inputs = backward ? 3 : 2;
  const need = names.length * 4 * chunk; // wasm memory: one chunk per array, in the order of `names`
  if (wasm.memory.buffer.byteLength < need) wasm.memory.grow(Math.ceil((need - wasm.memory.buffer.byteLength) / 65536));
  const mem = new Float32Array(wasm.memory.buffer);
  const end = Math.min(n, unitEnd * chunk);
  for (let i = unitStart * chunk; i < end; i += chunk) {
    const len = Math.min(chunk, end - i);
    for (let a = 0; a < inputs; a++) mem.set(x[names[a]].subarray(i, i + len), a * chunk);
    const len8 = (len + 7) & ~7; // lanes past len read stale floats; their results are not copied out
    if (backward) wasm.swigluBackwardRows(0, 4 * chunk, 8 * chunk, 12 * chunk, 16 * chunk, len8);
    else wasm.swigluRows(0, 4 * chunk, 8 * chunk, len8);
    for (let a = inputs; a < names.length; a++) x[names[a]].set(mem.subarray(a * chunk, a * chunk + len), i);
  }
}

/** Runs the wasm units over all of n elements, on the thread pool when the tensor is large. */
function runSwiglu(wasm: KernelInstance, arrays: Record<string, Float32Array>, outNames: string[], n: number,
  backward: boolean): void {
  const units = Math.ceil(n / SWIGLU_UNIT);
  if (getCpuThreads() <= 1 || n < SWIGLU_THREAD_MIN) {
    wasmSwigluUnits(wasm, arrays, n, backward, SWIGLU_UNIT, 0, units);
    return;
  }
  const inputs: Record<string, Float32Array> = {}, outputs: Record<string, Float32Array> = {};
  for (const [name, a] of Object.entries(arrays)) (outNames.includes(name) ? outputs : inputs)[name] = a;
  runJob('swiglu', units, inputs, outputs, { n, backward, unit: SWIGLU_UNIT },
    (v, u0, u1) => wasmSwigluUnits(wasm, v as Record<string, Float32Array>, n, backward, SWIGLU_UNIT, u0, u1));
}

function checkLengths(op: string, arrays: Record<string, FloatArray>): void {
  const lengths = Object.values(arrays).map((a) => a.length);
  if (lengths.some((n) => n !== lengths[0])) {
    throw new Error(`${op}: operands of different lengths (${Object.entries(arrays).map(([k, a]) => `${k} ${a.length}`).join(', ')})`);
  }
}

/** out = silu(gate) ⊙ up (same lengths). */
export function swiglu(gate: FloatArray, up: FloatArray, out: FloatArray): void {
  checkLengths('swiglu', { gate, up, out });
  const wasm = wasmForFloat32(gate, up, out);
  if (wasm) runSwiglu(wasm, { gate, up, out } as Record<string, Float32Array>, ['out'], out.length, false);
  else swigluReference(gate, up, out);
}

/** dGate, dUp of swiglu for the output gradient g (all the same length). */
export function swigluBackward(g: FloatArray, gate: FloatArray, up: FloatArray, dGate: FloatArray, dUp: FloatArray): void {
  checkLengths('swigluBackward', { g, gate, up, dGate, dUp });
  const wasm = wasmForFloat32(g, gate, up, dGate, dUp);
  if (wasm) {
    runSwiglu(wasm, { g, gate, up, dGate, dUp } as Record<string, Float32Array>, ['dGate', 'dUp'], g.length, true);
  } else {
    swigluBackwardReference(g, gate, up, dGate, dUp);
  }
}
