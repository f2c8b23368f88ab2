// Elementwise float32 kernels on WebAssembly SIMD, the fast versions of the loops in ../elementwise.ts for the
// ops where the profile of a BLT training step says they matter: exp, sigmoid and SiLU, whose JS loops are
// dominated by Math.exp, and the same-shape add, sub, mul and div (residual adds, gradient sums), whose JS loops
// take 2.4-3.4 ns per float against 0.4-0.9 ns here, copies included (2^18 and 2^20 floats). The tensor is
// streamed through wasm memory in chunks of CHUNK floats (copy in, one SIMD pass, copy out), so memory never grows
// with the tensor. exp, sigmoid and SiLU compute in float64 lanes and round once (within one float32 rounding of
// the JS loops); the binary ops have the JS loops' bits (spec/backend/cpu/wasm-elementwise.spec.ts).

import { wasmMemoryAtLeast, type KernelInstance } from './module.js';
import type { WasmBinaryOp, WasmUnaryOp } from './elementwise-module.js';

/** Floats per chunk (256 KiB in, 256 KiB out). */
const CHUNK = 1 << 16;

/** out[i] = op(a[i]) for Float32Arrays on the wasm kernels. */
export function unaryWasm(wasm: KernelInstance, op: WasmUnaryOp, a: Float32Array, out: Float32Array): void {
  const fn = op === 'exp' ? wasm.expRows : op === 'exp64' ? wasm.exp64Rows : op === 'sigmoid' ? wasm.sigmoidRows : wasm.siluRows;
  const mem = wasmMemoryAtLeast(wasm, 8 * CHUNK); // a chunk in | a chunk out
  for (let i = 0; i < a.length; i += CHUNK) {
    const n = Math.min(CHUNK, a.length - i);
    mem.set(a.subarray(i, i + n), 0);
    fn(0, 4 * CHUNK, (n + 3) & ~3); // lanes past n read stale floats; their results are not copied out
    out.set(mem.subarray(CHUNK, CHUNK + n), i);
  }
}

/** out[i] = a[i] op b[i] for same-length Float32Arrays on the wasm kernels (the same bits as the JS loop). */
export function binaryWasm(wasm: KernelInstance, op: WasmBinaryOp, a: Float32Array, b: Float32Array, out: Float32Array): void {
  const fn = wasm[`binaryRows_${op}`];
  const mem = wasmMemoryAtLeast(wasm, 12 * CHUNK); // a chunk of a | of b | of out
  for (let i = 0; i < out.length; i += CHUNK) {
    const n = Math.min(CHUNK, out.length - i);
    mem.set(a.subarray(i, i + n), 0);
    mem.set(b.subarray(i, i + n), CHUNK);
    fn(0, 4 * CHUNK, 8 * CHUNK, (n + 7) & ~7); // lanes past n combine stale floats; they are not copied out
    out.set(mem.subarray(2 * CHUNK, 2 * CHUNK + n), i);
  }
}
