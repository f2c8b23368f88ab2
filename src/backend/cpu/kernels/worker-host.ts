// How the CPU kernels' thread pool (thread-pool.ts) starts worker threads in the JavaScript runtime it runs in.
//
// The pool itself is the same everywhere: SharedArrayBuffer views, Atomics for the hand-shake, one message per
// worker and job. Only starting a worker differs: Node has worker_threads (src/platform/node.ts), a browser has
// Web Workers (src/platform/browser.ts, only where the page is cross-origin isolated, so SharedArrayBuffer
// exists, and only off the main thread, where Atomics.wait is allowed). Each package entry hands its host to
// createCpuBackend; without one, every kernel runs on the calling thread.

/** A started worker, as the pool sees it. */
export interface KernelWorker {
  postMessage(message: unknown): void;
  terminate(): void;
}

export interface WorkerHost {
  /** threads the pool uses unless told otherwise (the calling thread counts as one) */
  readonly defaultThreads: number;
  /**
   * Whether a new worker starts while the thread that created it blocks in Atomics.wait. True in Node; false in
   * a browser, where a worker only starts once its creator returns to its event loop: there the pool is started
   * ahead of use with `await startCpuThreads()`, and jobs run on the calling thread until it is.
   */
  readonly startsWhileBlocked: boolean;
  /**
   * Starts a worker that runs `body`, a script defining `function main(workerData, onMessage, receiveSync)`. The
   * host adds the few lines that call `main` with `workerData`, a function that subscribes to the worker's
   * messages and, where the runtime can, `receiveSync`: a function returning the next message without the event
   * loop, or undefined if none is queued (Node: receiveMessageOnPort). A worker given one stays off its event loop
   * between jobs, blocked on the pool's job counter, which wakes it faster than a message does.
   */
  start(body: string, workerData: unknown): KernelWorker;
}
