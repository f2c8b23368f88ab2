/**
 * blt-ts: a readable Byte Latent Transformer in TypeScript, on its own tensor + autograd core.
 *
 * Layout: tensor/ (Tensor, shapes, dtypes, RNG, memory scopes), autograd/ (graph + backward),
 * backend/ (the kernel interface; cpu/ and webgpu/ implementations), ops/ (differentiable ops),
 * nn/ (Module, layers, transformer), optim/ (AdamW, clipping, schedules), blt/ (the model), io/ (checkpoints).
 */
import './backend/cpu/cpu-backend.js'; // registers the CPU backend

export { Tensor } from './tensor/tensor.js';
export type { GradNode } from './tensor/tensor.js';
export type { DType, Device, TypedArray, FloatArray } from './tensor/dtype.js';
export { Rng } from './tensor/random.js';
export { scope, scopeAsync, keep } from './tensor/scope.js';
export { noGrad, isGradEnabled } from './autograd/grad-mode.js';
export * as ops from './ops/index.js';
export { backward } from './ops/index.js';
export { getBackend, hasBackend, registerBackend } from './backend/backend.js';
export type { Backend, Storage } from './backend/backend.js';
export { Module, parameter, moduleToCpu } from './nn/module.js';
export { Linear, Embedding, RMSNorm, SwiGLU } from './nn/layers.js';
export { TransformerLayer, SelfAttention, causalRanges, positionsTensor } from './nn/transformer.js';
export { AdamW } from './optim/adamw.js';
export { clipGradNorm } from './optim/clip.js';
export { learningRate } from './optim/schedule.js';
export * as blt from './blt/index.js';
