/**
 * blt-ts in Node (the package's `node` export and the CLI's): a readable Byte Latent Transformer in TypeScript,
 * on its own tensor + autograd core. The exports are src/common.ts, plus checkpoints on the local disk.
 *
 * The wiring, all of it here: the CPU backend is created with Node's worker_threads for its threaded kernels
 * and installed for device 'cpu'; WebGPU is told to reach the GPU through Dawn (the npm package `webgpu`,
 * loaded only when `initWebGpu()` is first called). A module imported on its own (say src/blt/blt.ts) has no
 * backend until an entry has run: creating a tensor then throws an error that says what to import or call.
 */
import { installBackend } from './backend/backend.js';
import { createCpuBackend } from './backend/cpu/cpu-backend.js';
import { setGpuLoader } from './backend/webgpu/gpu.js';
import { dawnGpu, nodeWorkers } from './platform/node.js';

installBackend(createCpuBackend({ workers: nodeWorkers, profile: process.env.BLT_CPU_PROFILE === '1' }));
setGpuLoader("Dawn via npm package 'webgpu'", dawnGpu);

export * from './common.js';
export * as blt from './blt/index.node.js';
export { nodeFiles } from './io/node-files.js';
export { readSafetensorsFile, openSafetensorsFile } from './io/safetensors-file.js';
export { writeSafetensors } from './io/safetensors-writer.js';
