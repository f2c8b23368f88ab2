// context.ts — one WebGPU device with its buffer pool, pipeline cache and command batcher.
//
// This is the small API every WebGPU kernel host function uses:
//   ctx.upload(array) / ctx.createBuffer(bytes)  -> GPUBuffer (pooled; storage + copy src/dst)
//   ctx.run(kernel, buffers, uniforms, grid)     -> records a dispatch (nothing waits)
//   await ctx.read(buffer, bytes)                -> flushes, copies to a MAP_READ staging buffer, maps it
//   ctx.release(buffer), ctx.stats(), ctx.destroy()
// Errors Dawn reports asynchronously (bad WGSL, validation) are remembered and thrown by the next
// `read`/`sync`, so they are never silently lost.

import { Batcher } from './batcher.js';
import { BufferPool, type PoolStats } from './buffer-pool.js';
import { BufferUsage, MAP_MODE_READ, requestGpu, type GpuHandle } from './gpu.js';
import { PipelineCache, type Kernel } from './pipelines.js';

const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export class WebGpuContext {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly batcher: Batcher;
  private gpuError: string | undefined;
  private destroyed = false;

  private constructor(private readonly handle: GpuHandle) {
    this.device = handle.device;
    this.pool = new BufferPool(this.device);
    this.pipelines = new PipelineCache(this.device);
    this.batcher = new Batcher(this.device, this.pool);
    this.device.onuncapturederror = (event) => {
      this.gpuError ??= (event as GPUUncapturedErrorEvent).error.message;
    };
  }

  /** Open the default adapter's device. Throws a descriptive Error when there is no adapter. */
  static async create(): Promise<WebGpuContext> {
    return new WebGpuContext(await requestGpu());
  }

  get adapterDescription(): string {
    return this.handle.adapterDescription;
  }

  /** True for Vulkan/GL drivers that run on the CPU (SwiftShader, llvmpipe, lavapipe): kernels may pick variants. */
  get isCpuDriver(): boolean {
    return /swiftshader|llvmpipe|lavapipe/i.test(this.handle.adapterDescription);
  }

  get hasTimestampQuery(): boolean {
    return this.handle.hasTimestampQuery;
  }

  get limits(): GPUSupportedLimits {
    return this.device.limits;
  }

  /** An uninitialised storage buffer of at least `bytes` bytes. */
  createBuffer(bytes: number): GPUBuffer {
    this.checkAlive('createBuffer');
    const max = this.device.limits.maxStorageBufferBindingSize;
    if (bytes > max) throw new Error(`webgpu: buffer of ${bytes} bytes exceeds maxStorageBufferBindingSize ${max}`);
    return this.pool.acquire(bytes, STORAGE_USAGE);
  }

  /** A storage buffer holding a copy of `data`. */
  upload(data: Float32Array | Int32Array | Uint32Array): GPUBuffer {
    const buffer = this.createBuffer(data.byteLength);
    if (data.byteLength > 0) this.writeBytes(buffer, 0, data);
    return buffer;
  }

  /** queue.writeBuffer, copying first if the data lives in a SharedArrayBuffer (Dawn accepts only ArrayBuffer). */
  private writeBytes(buffer: GPUBuffer, byteOffset: number, data: Float32Array | Int32Array | Uint32Array): void {
    const plain = data.buffer instanceof ArrayBuffer ? data : data.slice();
    this.device.queue.writeBuffer(buffer, byteOffset, plain.buffer as ArrayBuffer, plain.byteOffset, plain.byteLength);
  }

  /** Overwrite the start of `buffer` with `data` (queue order: after everything already submitted). */
  write(buffer: GPUBuffer, data: Float32Array | Int32Array | Uint32Array, byteOffset = 0): void {
    // Commands still being recorded that read `buffer` must see the old contents, so submit them first.
    this.batcher.flush();
    this.writeBytes(buffer, byteOffset, data);
  }

  release(buffer: GPUBuffer): void {
    if (this.destroyed) return;
    this.pool.release(buffer);
  }

  /** Record one dispatch of `kernel`. See Batcher.dispatch for the binding order. */
  run(
    kernel: Kernel,
    buffers: readonly GPUBuffer[],
    uniforms: ArrayBuffer | undefined,
    grid: readonly [number, number, number],
  ): void {
    this.checkAlive(kernel.name);
    this.batcher.dispatch(kernel.name, this.pipelines.get(kernel), buffers, uniforms, grid);
  }

  /** Copy `bytes` bytes of `buffer` (from `byteOffset`) back to the CPU. */
  async read(buffer: GPUBuffer, bytes: number, byteOffset = 0): Promise<ArrayBuffer> {
    this.checkAlive('read');
    if (bytes === 0) return new ArrayBuffer(0);
    if (bytes % 4 !== 0 || byteOffset % 4 !== 0) throw new Error(`webgpu read: ${bytes} bytes at ${byteOffset} not 4-aligned`);
    const staging = this.pool.acquire(bytes, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
    this.batcher.copy(buffer, byteOffset, staging, 0, bytes);
    this.batcher.flush();
    let out: ArrayBuffer;
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
      out = staging.getMappedRange(0, bytes).slice(0);
    } finally {
      if (staging.mapState === 'mapped') staging.unmap();
      this.pool.release(staging);
    }
    this.throwGpuError();
    return out;
  }

  async readF32(buffer: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, count * 4, offset * 4));
  }

  async readI32(buffer: GPUBuffer, count: number, offset = 0): Promise<Int32Array> {
    return new Int32Array(await this.read(buffer, count * 4, offset * 4));
  }

  /** Submit pending work without waiting. */
  flush(): void {
    this.batcher.flush();
  }

  /** Submit pending work and wait until the GPU has finished it (benchmarks use this). */
  async sync(): Promise<void> {
    this.batcher.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwGpuError();
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  /** Destroy the device; afterwards the Node process can exit. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.handle.destroy();
  }

  private checkAlive(what: string): void {
    if (this.destroyed) throw new Error(`webgpu ${what}: the WebGpuContext was destroyed`);
  }

  private throwGpuError(): void {
    if (this.gpuError !== undefined) {
      const message = this.gpuError;
      this.gpuError = undefined;
      throw new Error(`webgpu: the device reported an error: ${message}`);
    }
  }
}
