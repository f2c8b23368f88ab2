/**
 * blt-ts in a browser (the package's `browser` export): the exports of src/common.ts, plus reading a folder the
 * user picked. No node:* module is reachable from here (spec/package checks the built files).
 *
 * The wiring, all of it here: the CPU backend is created with Web Workers for its threaded kernels where the
 * page allows them (cross-origin isolated, library running in a Web Worker; see src/platform/browser.ts) and
 * single-threaded otherwise, and installed for device 'cpu'. WebGPU finds navigator.gpu by itself.
 */
import { installBackend } from './backend/backend.js';
import { createCpuBackend } from './backend/cpu/cpu-backend.js';
import { webWorkers } from './platform/browser.js';

installBackend(createCpuBackend({ workers: webWorkers() }));

export * from './common.js';
export * as blt from './blt/index.js';
export { readPickedFiles, readPickedFolder, type PickedFile, type PickedFolder } from './platform/browser.js';
