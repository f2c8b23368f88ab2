// The peer the CPU kernels are compared against in the same run: TensorFlow.js's WebAssembly backend
// (@tensorflow/tfjs-backend-wasm: XNNPACK kernels, wasm SIMD, one thread), a dev dependency of the benchmark only.
// Its .wasm binaries ship inside the npm package and are read from node_modules; nothing is downloaded.
// Attention has no fused tfjs op, so it is written in tfjs ops as a user would: scores = Q·Kᵀ·scale + mask
// (-1e9 above the diagonal), softmax, ·V, all heads in one batched matMul.

import { createRequire } from 'node:module';
import { dirname } from 'node:path';

type Tf = typeof import('@tensorflow/tfjs-core');
let tf: Tf | null = null;

/** Loads tfjs-core with the wasm backend on one thread (SIMD on); returns null with a reason if it cannot. */
export async function tfjsWasm(): Promise<{ tf: Tf; simd: boolean } | { tf: null; why: string }> {
  try {
    if (!tf) {
      const core = await import('@tensorflow/tfjs-core');
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const require = createRequire(import.meta.url);
      const dir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
      core.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false); // one thread, like the comparison
      wasm.setWasmPaths(`${dir}/`);
      if (!(await core.setBackend('wasm'))) throw new Error('setBackend(wasm) failed');
      await core.ready();
      tf = core;
    }
    return { tf, simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
  } catch (e) {
    return { tf: null, why: (e as Error).message };
  }
}

/** A tfjs matmul of two [n, n] float32 matrices: returns the call to time (it reads the result back). */
export function tfjsMatmul(t: Tf, a: Float32Array, b: Float32Array, n: number): { run: () => void; dispose: () => void } {
  const A = t.tensor2d(a.subarray(0, n * n), [n, n]), B = t.tensor2d(b.subarray(0, n * n), [n, n]);
  return {
    run: () => { const c = t.matMul(A, B); c.dataSync(); c.dispose(); },
    dispose: () => { A.dispose(); B.dispose(); },
  };
}

/** A tfjs matmul out[M, N] = A[M, K] · B[K, N] of row-major float32 arrays: the call to time reads the result back. */
export function tfjsMatmulShape(t: Tf, a: Float32Array, b: Float32Array, M: number, K: number, N: number):
  { run: () => void; dispose: () => void } {
  const A = t.tensor2d(a.subarray(0, M * K), [M, K]), B = t.tensor2d(b.subarray(0, K * N), [K, N]);
  return {
    run: () => { const c = t.matMul(A, B); c.dataSync(); c.dispose(); },
    dispose: () => { A.dispose(); B.dispose(); },
  };
}

/** Causal attention in tfjs ops on q, k, v [H, T, D]: softmax(Q·Kᵀ·scale + mask)·V. */
export function tfjsAttention(t: Tf, q: Float32Array, k: Float32Array, v: Float32Array, H: number, T: number,
  D: number): { run: () => void; dispose: () => void } {
  const Q = t.tensor3d(q, [H, T, D]), K = t.tensor3d(k, [H, T, D]), V = t.tensor3d(v, [H, T, D]);
  const maskData = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -1e9; // key j > query i
  const mask = t.tensor2d(maskData, [T, T]);
  const scale = t.scalar(1 / Math.sqrt(D));
  return {
    run: () => {
      const o = t.tidy(() => t.matMul(t.softmax(t.add(t.mul(t.matMul(Q, K, false, true), scale), mask)), V));
      o.dataSync();
      o.dispose();
    },
    dispose: () => { for (const x of [Q, K, V, mask, scale]) x.dispose(); },
  };
}
