// Node-only start-up step of the command line and the benchmarks: turn on V8's relaxed-SIMD support where the
// engine has it behind a flag (Node 20: --experimental-wasm-relaxed-simd), so that simd-features.ts detects it.
// Must run before the first CPU kernel module is built. Browsers and newer Node need nothing (the flag is the
// default there, and this returns at once). Setting a V8 flag at run time is allowed by node:v8 for flags like
// this one that only change what the wasm compiler accepts; BLT_WASM_RELAXED=0 in the environment forces the plain-SIMD kernels instead.

import { relaxedSimdAvailable, setWasmSimdLevel } from './simd-features.js';

/** Sets the V8 flag if relaxed SIMD is not already on; returns whether relaxed SIMD is available afterwards. */
export async function enableRelaxedSimd(): Promise<boolean> {
  if (typeof process !== 'undefined' && process.env.BLT_WASM_RELAXED === '0') {
    setWasmSimdLevel('simd');
    return false;
  }
  if (relaxedSimdAvailable()) return true;
  try {
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false; // not Node, or the flag is gone (then relaxed SIMD is either default or absent)
  }
  return relaxedSimdAvailable();
}
