// What the library needs from Node, in one place: worker_threads for the CPU kernels' thread pool and Dawn
// (the npm package `webgpu`) as the WebGPU entry point. The Node entry (src/index.ts) wires these in; the
// browser entry (src/index.browser.ts) uses src/platform/browser.ts instead, so no browser bundle imports
// anything from here. Checkpoint files on disk are src/io/node-files.ts.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkerHost } from '../backend/cpu/kernels/worker-host.js';

/** CPU kernel workers as worker_threads, one per available core by default; they never keep the process alive. */
export const nodeWorkers: WorkerHost = {
  defaultThreads: availableParallelism(),
  startsWhileBlocked: true,
  start(body, workerData) {
    const src = `${body}
const { parentPort, receiveMessageOnPort, workerData } = require('node:worker_threads');
main(workerData, (handler) => parentPort.on('message', handler), () => receiveMessageOnPort(parentPort)?.message);
`;
    const worker = new Worker(src, { eval: true, workerData });
    worker.unref(); // an idle pool must not keep the process alive
    return { postMessage: (m) => worker.postMessage(m), terminate: () => void worker.terminate() };
  },
};

/**
 * Dawn's GPU object, created on first use and kept for the life of the process: it must never be garbage
 * collected while Dawn's own threads run (its finalizer frees the native instance under them). A live device is
 * what keeps Node from exiting, and destroying the device releases that.
 */
let dawn: GPU | undefined;

/** WebGPU in Node: Dawn's binding from the npm package `webgpu` (loaded only when WebGPU is first asked for). */
export async function dawnGpu(): Promise<GPU> {
  if (!dawn) {
    const mod = (await import('webgpu')) as { create(options: string[]): GPU };
    dawn = mod.create([]);
  }
  return dawn;
}
