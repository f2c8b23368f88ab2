// A small worker pool with a SYNCHRONOUS API, shared by the threaded matmul and attention kernels. Its workers
// are started by the runtime's WorkerHost (worker-host.ts: worker_threads in Node, Web Workers in a browser),
// which the package entry gives to createCpuBackend; without a host every job runs on the calling thread.
//
// A job is "run kernel J over work units [0, U)": the units are cut into chunks that the calling thread and T-1
// workers claim one after another from a shared counter (so a thread slowed down by another process on its core
// does fewer), all on SharedArrayBuffer views of the same arrays. Kernels
// are written so that different units write disjoint parts of the output, so no locking is needed and the result
// does not depend on T.
//
// Synchronous protocol (so callers never see a Promise):
//   1. arrays not already in a SharedArrayBuffer are copied into pool-owned shared staging buffers;
//   2. the caller posts one message per worker and announces the job in a shared counter (ctrl[SEQ]), runs its
//      own share, then blocks in Atomics.wait on another counter until every worker has incremented it. A worker
//      gets its first job through its own event loop (delivery does not need the blocked main thread); in Node it
//      then stays off the event loop, blocked on ctrl[SEQ], and takes each next message synchronously
//      (receiveMessageOnPort), which wakes it ~80 µs sooner per job on the dev VM;
//   3. outputs that were staged are copied back.
// The pool starts lazily on the first job (in a browser: with `await startCpuThreads()`, see worker-host.ts), has
// the host's default number of participants (the caller is one of them, so it starts T-1 workers), and in Node
// its workers are unref()'d: they never keep the process alive.
//
// Why the worker body is a string (new Worker(src, { eval: true }) in Node, a Blob URL in a browser): this module
// runs both as TypeScript source (under vitest, which transpiles on the fly and has no dist/ file to point a
// Worker at) and as compiled JS in dist/ or a page's bundle. A worker *file* would only exist in one of those worlds (a .ts file cannot be loaded by a plain Worker,
// and tsc does not copy a hand-written .js file into dist/). Instead the worker source is assembled from the
// kernel functions' own text (Function.prototype.toString returns the already-transpiled JS in both worlds), so
// each kernel is written exactly once. Those kernel functions are self-contained by design: they only call each
// other and the constants that workerKernels() below re-declares. (A coverage tool that instruments source, e.g.
// istanbul, would break this; V8 coverage does not. A broken worker fails loudly: see waitFor and FAILED.) A
// bundler may rename functions (a minifier, or scope hoisting on a name clash): the kernels' own text carries the
// new names consistently, and the calls below take each entry function's runtime `.name`.

import {
  KEY_TILE, accumulateTile, attentionBackwardUnits, attentionForwardUnits, blockRanges, packDimPanels,
  packKeyPanels, scoreTile,
} from './attention.js';
import { matmulUnits, multiplyPackedRows, packA4, packB4 } from './matmul.js';
import {
  QUERY_ROWS_MAX, packDimPanelsWasm, packKeyPanelsWasm, stageRows, wasmAttentionBackwardUnits, wasmAttentionForwardUnits,
  wasmAttentionBlockUnits, wasmAttentionQueryRowsUnits,
} from './wasm/attention-wasm.js';
import { packA, packAWasm, packB, packBWasm, wasmMatmulUnits } from './wasm/matmul-units.js';
import { wasmMatmulRowsBf16Units } from './wasm/matmul-rows-bf16.js';
import { wasmSwigluUnits } from './swiglu.js';
import { kernelModuleBytes } from './wasm/module.js';
import { wasmSimdLevel, type WasmSimdLevel } from './wasm/simd-features.js';
import type { KernelWorker, WorkerHost } from './worker-host.js';

/** The kernel source shipped to every worker, and the job names the worker understands. */
function workerKernels(): string {
  return [
    packA4, packB4, multiplyPackedRows, matmulUnits,
    packKeyPanels, packDimPanels, scoreTile, accumulateTile, blockRanges, attentionForwardUnits,
    attentionBackwardUnits, packA, packB, packAWasm, packBWasm, wasmMatmulUnits,
    stageRows, packKeyPanelsWasm, packDimPanelsWasm, wasmAttentionForwardUnits, wasmAttentionBlockUnits, wasmAttentionQueryRowsUnits, wasmAttentionBackwardUnits,
    wasmMatmulRowsBf16Units, wasmSwigluUnits,
  ].map((f) => f.toString()).join('\n') + `\nconst KEY_TILE = ${KEY_TILE};\nconst QUERY_ROWS_MAX = ${QUERY_ROWS_MAX};\n`;
}

/** Jobs a worker can run: each receives (arrays by name, numeric/boolean params) and claims chunks of units. */
const JOBS = ['matmul', 'matmulWasm', 'attentionForward', 'attentionBackward', 'attentionForwardWasm',
  'attentionBackwardWasm', 'matmulRowsBf16', 'swiglu'] as const;
export type JobName = (typeof JOBS)[number];

// Shared control block layout (Int32 slots).
const DONE = 0; // number of workers that finished the current job
const READY = 1; // number of workers that have started
const FAILED = 2; // 1 if a worker threw; its message is in the error bytes
const NEXT = 3; // the first unit no participant has claimed yet
const SEQ = 4; // the number of the latest job; it grows once the job's messages are posted (see runJob)
const ERROR_BYTES = 1024;
/** How many times the caller polls for the workers' end of a job before it blocks (see runJob). */
const SPIN_LOADS = 20000;

/** The worker script: the kernels and `main(workerData, onMessage)`, which the WorkerHost calls. */
function workerSource(): string {
  return `'use strict';
// Transpilers may wrap functions in a name-keeping helper; make it a no-op here.
var __name = (f) => f;
${workerKernels()}
function main(workerData, onMessage, receiveSync) {
const ctrl = new Int32Array(workerData.ctrl);
const errorBytes = new Uint8Array(workerData.errorBytes);
let ap = new Float64Array(0), bp = new Float64Array(0);
let wasm = null; // this worker's instance of the wasm SIMD kernel module (its own memory), made on first use
function kernels() {
  if (!wasm) wasm = new WebAssembly.Instance(new WebAssembly.Module(workerData.wasmBytes), {}).exports;
  return wasm;
}
function view(d) {
  return d.type === 'f64' ? new Float64Array(d.buf, d.off, d.len)
    : d.type === 'f32' ? new Float32Array(d.buf, d.off, d.len)
    : d.type === 'u16' ? new Uint16Array(d.buf, d.off, d.len) : new Int32Array(d.buf, d.off, d.len);
}
function runJobMessage(m) {
  try {
    const x = {};
    for (const name in m.arrays) x[name] = view(m.arrays[name]);
    const p = m.params;
    if (!${JSON.stringify(JOBS)}.includes(m.job)) throw new Error('unknown job ' + m.job); // before claiming any unit
    const bState = { item: -1, aItem: -1 }; // which batch item's B (and aᵀ) this worker's wasm memory holds, across this job's chunks
    // claim chunks of units until none is left (dynamic work splitting: a slower thread simply takes fewer)
    for (;;) {
    const unitStart = Atomics.add(ctrl, ${NEXT}, m.chunk);
    if (unitStart >= m.units) break;
    const unitEnd = Math.min(m.units, unitStart + m.chunk);
    if (m.job === 'matmul') {
      if (ap.length < 4 * p.K) ap = new Float64Array(4 * p.K);
      const needB = p.K * 4 * ((p.N + 3) >> 2);
      if (bp.length < needB) bp = new Float64Array(needB);
      ${matmulUnits.name}(x.a, x.b, x.out, p.M, p.K, p.N, p.transA, p.transB, p.aBatchStride, p.bBatchStride,
        unitStart, unitEnd, ap, bp);
    } else if (m.job === 'matmulWasm') {
      ${wasmMatmulUnits.name}(kernels(), x.a, x.b, x.out, p.M, p.K, p.N, p.transA, p.transB, p.aBatchStride, p.bBatchStride,
        unitStart, unitEnd, null, bState);
    } else if (m.job === 'matmulRowsBf16') {
      ${wasmMatmulRowsBf16Units.name}(kernels(), x.a, x.w, x.out, p.rows, p.K, p.N, unitStart, unitEnd);
    } else if (m.job === 'swiglu') {
      ${wasmSwigluUnits.name}(kernels(), x, p.n, p.backward, p.unit, unitStart, unitEnd);
    } else if (m.job === 'attentionForward') {
      ${attentionForwardUnits.name}(x.q, x.k, x.v, x.kvStart, x.kvEnd, p, x.out, x.lse, unitStart, unitEnd);
    } else if (m.job === 'attentionForwardWasm') {
      ${wasmAttentionForwardUnits.name}(kernels(), x.q, x.k, x.v, x.kvStart, x.kvEnd, p, x.out, x.lse, unitStart,
        unitEnd);
    } else if (m.job === 'attentionBackwardWasm') {
      ${wasmAttentionBackwardUnits.name}(kernels(), x.q, x.k, x.v, x.out, x.lse, x.dOut, x.kvStart, x.kvEnd, p, x.dq,
        x.dk, x.dv, unitStart, unitEnd);
    } else if (m.job === 'attentionBackward') {
      ${attentionBackwardUnits.name}(x.q, x.k, x.v, x.out, x.lse, x.dOut, x.kvStart, x.kvEnd, p, x.dq, x.dk, x.dv,
        unitStart, unitEnd);
    } else {
      throw new Error('unknown job ' + m.job);
    }
    }
  } catch (e) {
    const text = String(e && e.stack ? e.stack : e);
    errorBytes.fill(0);
    for (let i = 0; i < text.length && i < ${ERROR_BYTES - 1}; i++) errorBytes[i] = text.charCodeAt(i) & 0x7f;
    Atomics.store(ctrl, ${FAILED}, 1);
  } finally {
    Atomics.add(ctrl, ${DONE}, 1);
    Atomics.notify(ctrl, ${DONE});
  }
}
onMessage((first) => {
  let m = first;
  for (;;) {
    runJobMessage(m);
    if (!receiveSync) return; // a browser worker: the next job comes through the event loop
    // Node: block until the caller announces the next job in ctrl[SEQ], then take its message synchronously.
    // Waking from Atomics.wait takes ~30 µs on the dev VM; a message through the event loop ~100-230 µs.
    // A job of fewer threads than the pool posts no message to this worker: it goes on waiting.
    let seen = m.seq, next;
    while (next === undefined) {
      while (Atomics.load(ctrl, ${SEQ}) === seen) Atomics.wait(ctrl, ${SEQ}, seen, 1000);
      seen = Atomics.load(ctrl, ${SEQ});
      next = receiveSync();
    }
    m = next;
  }
});
Atomics.add(ctrl, ${READY}, 1);
Atomics.notify(ctrl, ${READY});
}
`;
}

/** The runtime's way of starting workers (null: none, every job runs on the calling thread). */
let host: WorkerHost | null = null;
let requestedThreads = 1;

interface Pool {
  workers: KernelWorker[];
  /** The SIMD level of the wasm module the workers were given (the pool restarts when it changes). */
  level: WasmSimdLevel;
  ctrl: Int32Array;
  errorBytes: Uint8Array;
}

let pool: Pool | null = null;

/**
 * Gives the pool the runtime's WorkerHost (createCpuBackend does this), or null for none; the thread count
 * becomes the host's default. A running pool is shut down first.
 */
export function setWorkerHost(h: WorkerHost | null): void {
  shutdownCpuThreads();
  host = h;
  requestedThreads = h?.defaultThreads ?? 1;
}

/** Sets the number of threads used by the threaded kernels (the caller counts as one). 1 turns threading off. */
export function setCpuThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setCpuThreads: n must be an integer >= 1, got ${n}`);
  if (n > 1 && !host) {
    throw new Error(`setCpuThreads(${n}): this CPU backend has no worker host, so it runs on one thread. In Node, ` +
      `import the package entry ('blt-ts', src/index.ts), which installs the CPU backend with worker_threads; in a ` +
      `browser, workers need a cross-origin isolated page and a Web Worker (see src/platform/browser.ts)`);
  }
  requestedThreads = n;
  if (pool && pool.workers.length !== n - 1) shutdownCpuThreads();
}

/** The number of threads the threaded kernels use (1 = single-threaded). */
export function getCpuThreads(): number {
  return requestedThreads;
}

/** Terminates the workers (the pool restarts lazily on the next threaded job). */
export function shutdownCpuThreads(): void {
  if (!pool) return;
  for (const w of pool.workers) void w.terminate();
  pool = null;
}

/** Blocks until ctrl[slot] >= target; throws after timeoutMs without progress. */
function waitFor(ctrl: Int32Array, slot: number, target: number, timeoutMs: number, what: string): void {
  let last = Atomics.load(ctrl, slot);
  let waited = 0;
  while (last < target) {
    const res = Atomics.wait(ctrl, slot, last, 100);
    const now = Atomics.load(ctrl, slot);
    if (now === last && res === 'timed-out') {
      waited += 100;
      if (waited >= timeoutMs) throw new Error(`thread-pool: timed out after ${timeoutMs} ms waiting for ${what}`);
    } else {
      waited = 0;
    }
    last = now;
  }
}

/** Starts nWorkers workers through the host; they count themselves in ctrl[READY] once running. */
function spawnPool(h: WorkerHost, nWorkers: number): Pool {
  const level = wasmSimdLevel();
  const ctrlBuf = new SharedArrayBuffer(4 * 5);
  const errBuf = new SharedArrayBuffer(ERROR_BYTES);
  const src = workerSource();
  const workers: KernelWorker[] = [];
  for (let w = 0; w < nWorkers; w++) {
    workers.push(h.start(src, { ctrl: ctrlBuf, errorBytes: errBuf, wasmBytes: kernelModuleBytes(level) }));
  }
  return { workers, level, ctrl: new Int32Array(ctrlBuf), errorBytes: new Uint8Array(errBuf) };
}

function startPool(h: WorkerHost, nWorkers: number): Pool {
  const p = spawnPool(h, nWorkers);
  // Worker start-up runs on the workers' own threads, so blocking here is fine; a broken worker source shows up
  // as a clear error instead of a hang.
  waitFor(p.ctrl, READY, nWorkers, 20000, `${nWorkers} CPU kernel workers to start`);
  return p;
}

/**
 * Starts the pool now and waits for its workers without blocking the thread (the way to start it in a browser,
 * where workers cannot start while their creator blocks). Returns the number of threads jobs will use.
 */
export async function startCpuThreads(timeoutMs = 20000): Promise<number> {
  if (!host || requestedThreads <= 1) return 1;
  if (!pool) {
    const p = spawnPool(host, requestedThreads - 1);
    const t0 = Date.now();
    while (Atomics.load(p.ctrl, READY) < p.workers.length) {
      if (Date.now() - t0 > timeoutMs) {
        for (const w of p.workers) w.terminate();
        throw new Error(`thread-pool: timed out after ${timeoutMs} ms waiting for ${p.workers.length} CPU kernel workers to start`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    pool = p;
  }
  return pool.workers.length + 1;
}

/** An array handed to a job; `out` arrays are copied back after the job if they had to be staged. */
export type JobArray = Float32Array | Float64Array | Int32Array | Uint16Array;

interface SharedDesc { buf: SharedArrayBuffer; off: number; len: number; type: 'f32' | 'f64' | 'i32' | 'u16' }

// Pool-owned shared staging buffers, one per array name, grown as needed.
const staging = new Map<string, SharedArrayBuffer>();

/** A shared view of `arr`: itself if already shared, else a (copied, if `copyIn`) staging view. */
function shareOf(name: string, arr: JobArray, copyIn: boolean): { desc: SharedDesc; view: JobArray } {
  const type = arr instanceof Float64Array ? 'f64' : arr instanceof Float32Array ? 'f32'
    : arr instanceof Uint16Array ? 'u16' : 'i32';
  if (arr.buffer instanceof SharedArrayBuffer) {
    return { desc: { buf: arr.buffer, off: arr.byteOffset, len: arr.length, type }, view: arr };
  }
  let buf = staging.get(name);
  if (!buf || buf.byteLength < arr.byteLength) {
    buf = new SharedArrayBuffer(Math.max(arr.byteLength, 8));
    staging.set(name, buf);
  }
  const view = type === 'f64' ? new Float64Array(buf, 0, arr.length)
    : type === 'f32' ? new Float32Array(buf, 0, arr.length)
    : type === 'u16' ? new Uint16Array(buf, 0, arr.length) : new Int32Array(buf, 0, arr.length);
  if (copyIn) view.set(arr);
  return { desc: { buf, off: 0, len: arr.length, type }, view };
}

/**
 * Runs `job` over units [0, units) on min(getCpuThreads(), units) threads and returns when all are done.
 * `inputs` are read, `outputs` written (only the part of each array the job touches needs to be passed).
 * `runLocal(views, unitStart, unitEnd)` is the calling thread's share, run on the same shared views.
 */
export function runJob(
  job: JobName, units: number,
  inputs: Record<string, JobArray>, outputs: Record<string, JobArray>,
  params: Record<string, number | boolean>,
  runLocal: (views: Record<string, JobArray>, unitStart: number, unitEnd: number) => void,
  chunk = 0,
): void {
  const threads = Math.min(requestedThreads, units);
  if (pool && pool.level !== wasmSimdLevel()) shutdownCpuThreads(); // every thread must run the same kernels
  if (!pool && host?.startsWhileBlocked && requestedThreads > 1) pool = startPool(host, requestedThreads - 1);
  if (!pool || threads <= 1) {
    // no workers (none in this runtime, or not started yet): the whole job on this thread, same results
    runLocal({ ...inputs, ...outputs }, 0, units);
    return;
  }
  const p = pool;
  const descs: Record<string, SharedDesc> = {};
  const views: Record<string, JobArray> = {};
  for (const [name, arr] of Object.entries(inputs)) {
    const s = shareOf(name, arr, true);
    descs[name] = s.desc;
    views[name] = s.view;
  }
  for (const [name, arr] of Object.entries(outputs)) {
    const s = shareOf(name, arr, false);
    descs[name] = s.desc;
    views[name] = s.view;
  }
  // Dynamic work splitting: every participant (this thread and the workers) claims the next `size` units from
  // the shared counter ctrl[NEXT] until none is left, so a thread slowed down by other processes on its core
  // takes fewer chunks instead of holding up the rest. Which thread computes a unit never changes its bits.
  const size = chunk > 0 ? chunk : Math.max(1, Math.ceil(units / (4 * threads)));
  Atomics.store(p.ctrl, DONE, 0);
  Atomics.store(p.ctrl, FAILED, 0);
  Atomics.store(p.ctrl, NEXT, 0);
  // Post, then announce: a Node worker blocked on ctrl[SEQ] takes the message synchronously once SEQ moves on.
  const seq = Atomics.load(p.ctrl, SEQ) + 1;
  for (let t = 1; t < threads; t++) {
    p.workers[t - 1].postMessage({ job, arrays: descs, params, units, chunk: size, seq });
  }
  Atomics.store(p.ctrl, SEQ, seq);
  Atomics.notify(p.ctrl, SEQ);
  let localError: unknown = null;
  try {
    for (;;) {
      const u0 = Atomics.add(p.ctrl, NEXT, size);
      if (u0 >= units) break;
      runLocal(views, u0, Math.min(units, u0 + size));
    }
  } catch (e) {
    localError = e;
    Atomics.store(p.ctrl, NEXT, units); // let the workers stop early
  }
  // Always wait for the workers, so no job is still writing into the staging buffers when we return. The last
  // worker usually finishes within tens of µs of this thread, and waking from Atomics.wait costs ~30-100 µs on the
  // dev VM, so this thread first spins a little (SPIN_LOADS loads, ~100 µs) before it blocks.
  for (let i = 0; i < SPIN_LOADS && Atomics.load(p.ctrl, DONE) < threads - 1; i++);
  waitFor(p.ctrl, DONE, threads - 1, 600000, `${job} workers to finish`);
  if (localError) throw localError;
  if (Atomics.load(p.ctrl, FAILED) !== 0) {
    let text = '';
    for (let i = 0; i < p.errorBytes.length && p.errorBytes[i] !== 0; i++) text += String.fromCharCode(p.errorBytes[i]);
    throw new Error(`${job}: a worker thread failed: ${text}`);
  }
  for (const [name, arr] of Object.entries(outputs)) {
    if (views[name] !== arr) (arr as Float64Array).set(views[name]);
  }
}
