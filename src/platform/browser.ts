// What the library needs from a browser, in one place: Web Workers for the CPU kernels' thread pool (only where
// they can work, see `webWorkers`) and the files a user picked, read into memory as CheckpointFiles. WebGPU
// needs nothing here: navigator.gpu is the entry point (src/backend/webgpu/gpu.ts). The browser entry
// (src/index.browser.ts) wires these in.
import type { WorkerHost } from '../backend/cpu/kernels/worker-host.js';
import { memoryFiles, type CheckpointFiles } from '../io/checkpoint-files.js';

interface BrowserGlobals {
  crossOriginIsolated?: boolean;
  WorkerGlobalScope?: unknown;
  navigator?: { hardwareConcurrency?: number };
}

/**
 * CPU kernel workers as Web Workers, or null where they cannot work: the threaded kernels share memory
 * (SharedArrayBuffer, which a page only has when it is cross-origin isolated: served with the headers
 * Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp) and the calling thread
 * blocks until its workers finish (Atomics.wait, which a page's main thread may not do, so the library must run
 * in a Web Worker). Workers start asynchronously: call `await startCpuThreads()` before heavy work; until then
 * every kernel runs on the calling thread, with the same results.
 */
export function webWorkers(): WorkerHost | null {
  const g = globalThis as BrowserGlobals;
  const inWorker = typeof g.WorkerGlobalScope !== 'undefined';
  if (g.crossOriginIsolated !== true || !inWorker || typeof SharedArrayBuffer === 'undefined') return null;
  return {
    defaultThreads: Math.max(1, Math.min(g.navigator?.hardwareConcurrency ?? 1, 8)),
    startsWhileBlocked: false,
    start(body, workerData) {
      // The first message carries workerData; every later one is a job.
      const src = `${body}
self.onmessage = (first) => {
  let handler = null;
  self.onmessage = (e) => handler(e.data);
  main(first.data, (h) => { handler = h; });
};
`;
      const url = URL.createObjectURL(new Blob([src], { type: 'text/javascript' }));
      const worker = new Worker(url);
      worker.postMessage(workerData);
      return { postMessage: (m) => worker.postMessage(m), terminate: () => { worker.terminate(); URL.revokeObjectURL(url); } };
    },
  };
}

/** A file the user picked: `<input type="file" webkitdirectory>` gives its path inside the folder. */
export interface PickedFile {
  readonly name: string;
  readonly webkitRelativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * The files of a picked folder (from `<input webkitdirectory>`), read into memory, and the folder's path in
 * them (its name), ready for the checkpoint readers: `loadBltFromFiles(files, dir)`.
 */
export async function readPickedFiles(picked: Iterable<PickedFile> | ArrayLike<PickedFile>): Promise<{ files: CheckpointFiles; dir: string }> {
  const list = Array.from(picked as ArrayLike<PickedFile>);
  if (list.length === 0) throw new Error('no files were picked');
  const entries = new Map<string, Uint8Array>();
  for (const f of list) entries.set(f.webkitRelativePath || f.name, new Uint8Array(await f.arrayBuffer()));
  const firsts = new Set([...entries.keys()].map((p) => (p.includes('/') ? p.split('/')[0] : '.')));
  const dir = firsts.size === 1 ? [...firsts][0] : '.';
  return { files: memoryFiles(entries), dir };
}

/** The subset of the File System Access API's folder handle that reading needs. */
export interface PickedFolder {
  readonly kind: 'directory';
  readonly name: string;
  values(): AsyncIterable<{ kind: 'file'; name: string; getFile(): Promise<PickedFile> } | PickedFolder>;
}

/** A folder from `showDirectoryPicker()` (File System Access API), read into memory with its subfolders. */
export async function readPickedFolder(folder: PickedFolder): Promise<{ files: CheckpointFiles; dir: string }> {
  const entries = new Map<string, Uint8Array>();
  const walk = async (f: PickedFolder, path: string): Promise<void> => {
    for await (const child of f.values()) {
      const p = `${path}/${child.name}`;
      if (child.kind === 'directory') await walk(child, p);
      else entries.set(p, new Uint8Array(await (await child.getFile()).arrayBuffer()));
    }
  };
  await walk(folder, folder.name);
  if (entries.size === 0) throw new Error(`folder '${folder.name}' is empty`);
  return { files: memoryFiles(entries), dir: folder.name };
}
