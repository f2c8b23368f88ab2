// Multi-threaded fused attention with a SYNCHRONOUS API (worker_threads over SharedArrayBuffer; see
// thread-pool.ts for the pool and the blocking protocol). Same contracts as attentionForward/attentionBackward
// in attention.ts, which this runs unchanged on each thread's share of the work.
// Kernel choice: float32 q, k, v (and gradients) run on the WebAssembly SIMD kernels of wasm/attention-wasm.ts
// (float32 sums) when wasm/module.ts says they are active; anything else on the float64 JS kernels of
// attention.ts. As for matmul, the choice depends only on dtypes, never on sizes, so a row of the output does not
// change when only the number of rows does.
//
// Work split: forward unit u = (batch b, query head h), owning the out/lse rows of that head; backward unit
// u = (batch b, kv head g), owning the dq rows of g's query heads and the dk/dv rows of head g (dk/dv sum over
// the group, so the group cannot be split without a reduction). Units never write the same element and every
// element is computed in the same order as single-threaded: results are bit-identical to attention.ts. With one
// unit there is nothing to split and the call runs on the calling thread; so do calls below
// ATTENTION_THREAD_MIN_FLOPS.

import { checkAttentionBackward, checkAttentionForward, attentionBackwardUnits, attentionForwardUnits,
  type AttentionDims } from './attention.js';
import type { FloatArray } from './matmul-reference.js';
import { getCpuThreads, runJob, type JobArray } from './thread-pool.js';
import { QUERY_ROWS_MAX, wasmAttentionBackwardUnits, wasmAttentionForwardUnits } from './wasm/attention-wasm.js';
import { wasmKernels, wasmKernelsActive } from './wasm/module.js';

const allF32 = (...xs: FloatArray[]): boolean => xs.every((x) => x instanceof Float32Array);

/** Forward FLOPs (4·D per allowed query-key pair per head) below which one thread is used (as for matmul). */
export const ATTENTION_THREAD_MIN_FLOPS = 1 << 21;

/** 4·D·Hq·Σ_t (kvEnd_t - kvStart_t): the forward's multiply-add count ×2, over allowed pairs only. */
function forwardFlops(kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims): number {
  let pairs = 0;
  for (let i = 0; i < dims.B * dims.Tq; i++) pairs += Math.max(0, kvEnd[i] - kvStart[i]);
  return 4 * dims.D * dims.Hq * pairs;
}

function useThreads(units: number, kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims): boolean {
  return getCpuThreads() > 1 && units >= 2 && forwardFlops(kvStart, kvEnd, dims) >= ATTENTION_THREAD_MIN_FLOPS;
}


/** The parts of the arrays a call reads or writes (shared with the workers). */
function sizes(d: AttentionDims): { qn: number; kn: number; ln: number; rn: number } {
  return { qn: d.B * d.Tq * d.Hq * d.D, kn: d.B * d.Tk * d.Hkv * d.D, ln: d.B * d.Hq * d.Tq, rn: d.B * d.Tq };
}

/** attentionForward, split over (batch, query head) units across the CPU thread pool when large enough. */
export function attentionForwardThreaded(
  q: FloatArray, k: FloatArray, v: FloatArray, kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims,
  out: FloatArray, lse: FloatArray,
): void {
  checkAttentionForward('attentionForwardThreaded', q, k, v, kvStart, kvEnd, dims, out, lse);
  const units = dims.B * dims.Hq;
  const wasm = allF32(q, k, v, out, lse) && wasmKernelsActive() ? wasmKernels() : null;
  const local = (x: Record<string, JobArray>, u0: number, u1: number): void => {
    if (wasm) {
      wasmAttentionForwardUnits(wasm, x.q as Float32Array, x.k as Float32Array, x.v as Float32Array,
        x.kvStart as Int32Array, x.kvEnd as Int32Array, dims, x.out as Float32Array, x.lse as Float32Array, u0, u1);
    } else {
      attentionForwardUnits(x.q as FloatArray, x.k as FloatArray, x.v as FloatArray, x.kvStart as Int32Array,
        x.kvEnd as Int32Array, dims, x.out as FloatArray, x.lse as FloatArray, u0, u1);
    }
  };
  // The wasm one-query path (a generation step) stays on one thread: its work is about one multiply-add per key
  // and value read, so splitting it only adds copies of K and V (into the pool's shared buffers, then into each
  // worker's wasm memory). A BLT-1B global step (16 heads of 128, ~530 keys): 4.9 ms threaded, 1.2 ms not.
  const oneQueryPath = wasm !== null && dims.Tq <= QUERY_ROWS_MAX;
  if (oneQueryPath || !useThreads(units, kvStart, kvEnd, dims)) {
    local({ q, k, v, kvStart, kvEnd, out, lse }, 0, units);
    return;
  }
  const { qn, kn, ln, rn } = sizes(dims);
  const inputs = {
    q: q.subarray(0, qn), k: k.subarray(0, kn), v: v.subarray(0, kn),
    kvStart: kvStart.subarray(0, rn), kvEnd: kvEnd.subarray(0, rn),
  };
  const outputs = { out: out.subarray(0, qn), lse: lse.subarray(0, ln) };
  runJob(wasm ? 'attentionForwardWasm' : 'attentionForward', units, inputs, outputs, { ...dims }, local);
}

/** attentionBackward, split over (batch, kv head) units across the CPU thread pool when large enough. */
export function attentionBackwardThreaded(
  q: FloatArray, k: FloatArray, v: FloatArray, out: FloatArray, lse: FloatArray, dOut: FloatArray,
  kvStart: Int32Array, kvEnd: Int32Array, dims: AttentionDims, dq: FloatArray, dk: FloatArray, dv: FloatArray,
): void {
  checkAttentionBackward('attentionBackwardThreaded', q, k, v, out, lse, dOut, kvStart, kvEnd, dims, dq, dk, dv);
  const units = dims.B * dims.Hkv;
  const wasm = allF32(q, k, v, out, lse, dOut, dq, dk, dv) && wasmKernelsActive() ? wasmKernels() : null;
  const local = (x: Record<string, JobArray>, u0: number, u1: number): void => {
    const f = (name: string): Float32Array => x[name] as Float32Array;
    if (wasm) {
      wasmAttentionBackwardUnits(wasm, f('q'), f('k'), f('v'), f('out'), f('lse'), f('dOut'),
        x.kvStart as Int32Array, x.kvEnd as Int32Array, dims, f('dq'), f('dk'), f('dv'), u0, u1);
    } else {
      attentionBackwardUnits(x.q as FloatArray, x.k as FloatArray, x.v as FloatArray, x.out as FloatArray,
        x.lse as FloatArray, x.dOut as FloatArray, x.kvStart as Int32Array, x.kvEnd as Int32Array, dims,
        x.dq as FloatArray, x.dk as FloatArray, x.dv as FloatArray, u0, u1);
    }
  };
  if (!useThreads(units, kvStart, kvEnd, dims)) {
    local({ q, k, v, out, lse, dOut, kvStart, kvEnd, dq, dk, dv }, 0, units);
    return;
  }
  const { qn, kn, ln, rn } = sizes(dims);
  const inputs = {
    q: q.subarray(0, qn), k: k.subarray(0, kn), v: v.subarray(0, kn), out: out.subarray(0, qn),
    lse: lse.subarray(0, ln), dOut: dOut.subarray(0, qn), kvStart: kvStart.subarray(0, rn),
    kvEnd: kvEnd.subarray(0, rn),
  };
  const outputs = { dq: dq.subarray(0, qn), dk: dk.subarray(0, kn), dv: dv.subarray(0, kn) };
  runJob(wasm ? 'attentionBackwardWasm' : 'attentionBackward', units, inputs, outputs, { ...dims }, local);
}
