/**
 * What both package entries export: the tensor core, autograd, ops, nn, optim, the BLT and the backends.
 * Nothing here touches the runtime (no node:* module, no DOM): src/index.ts (Node) and src/index.browser.ts
 * (browsers) add their platform's pieces and install the CPU backend.
 *
 * Layout: tensor/ (Tensor, shapes, dtypes, RNG, memory scopes), autograd/ (graph + backward),
 * backend/ (the kernel interface; cpu/ and webgpu/ implementations), ops/ (differentiable ops),
 * nn/ (Module, layers, transformer), optim/ (AdamW, clipping, schedules), blt/ (the model), io/ (checkpoints),
 * platform/ (what each runtime supplies).
 */
export { Tensor } from './tensor/tensor.js';
export type { GradNode } from './tensor/tensor.js';
export type { DType, HalfDType, Device, TypedArray, FloatArray } from './tensor/dtype.js';
export { Rng } from './tensor/random.js';
export { scope, scopeAsync, keep } from './tensor/scope.js';
export { noGrad, isGradEnabled } from './autograd/grad-mode.js';
export * as ops from './ops/index.js';
export { backward } from './ops/index.js';
export { getBackend, hasBackend, installBackend } from './backend/backend.js';
export type { Backend, Storage } from './backend/backend.js';
export { createCpuBackend, type CpuBackendOptions } from './backend/cpu/cpu-backend.js';
export { getCpuThreads, setCpuThreads, startCpuThreads, shutdownCpuThreads } from './backend/cpu/kernels/thread-pool.js';
export type { WorkerHost, KernelWorker } from './backend/cpu/kernels/worker-host.js';
export { initWebGpu, destroyWebGpu, WebGpuBackend } from './backend/webgpu/index.js';
export { Module, parameter, moduleToCpu } from './nn/module.js';
export type { StateValue } from './nn/module.js';
export { BlockedTable, rowBlockLayout } from './nn/blocked-table.js';
export { DiskTable } from './nn/disk-table.js';
export { ShapesOnly, initWeight } from './nn/init.js';
export { Linear, Embedding, RMSNorm, SwiGLU } from './nn/layers.js';
export { TransformerLayer, SelfAttention, causalRanges, positionsTensor } from './nn/transformer.js';
export { AdamW } from './optim/adamw.js';
export { clipGradNorm } from './optim/clip.js';
export { learningRate } from './optim/schedule.js';
export { memoryFiles, joinPath, type CheckpointFiles, type OpenedFile } from './io/checkpoint-files.js';
export { openSafetensors, readSafetensorsFrom, type SafetensorsSources } from './io/safetensors-source.js';
export { readSafetensors, type RawTensor } from './io/safetensors.js';
export type { TensorSource } from './io/tensor-source.js';
