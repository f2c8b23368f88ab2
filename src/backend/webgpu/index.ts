// index.ts — public entry of the WebGPU path: `await initWebGpu()` installs the backend for device 'webgpu'.
export { initWebGpu, destroyWebGpu, WebGpuBackend, WebGpuStorage } from './webgpu-backend.js';
export { WebGpuContext } from './context.js';
export { requestGpu, hasWebGpuAdapter, type GpuHandle } from './gpu.js';
