// batcher.ts — record many dispatches into one command encoder and submit them together.
//
// Submitting per kernel is the classic WebGPU slowdown; instead one encoder with one open compute pass
// collects dispatches and is submitted every `maxDispatches` dispatches, before any buffer copy/readback,
// and when the caller asks (`flush`). After each submit the buffer pool recycles buffers released since
// the last submit (see buffer-pool.ts for why that must wait).

import type { BufferPool } from './buffer-pool.js';
import { BufferUsage } from './gpu.js';
import { checkGrid } from './dispatch.js';

export class Batcher {
  private encoder: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  private dispatches = 0;
  private uniformsInFlight: GPUBuffer[] = [];
  /** Total submits so far (tests use it to check the flush policy). */
  submits = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly pool: BufferPool,
    private readonly maxDispatches = 32,
  ) {}

  private openEncoder(): GPUCommandEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.openEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = undefined;
  }

  /**
   * Encode one dispatch. Binding 0 is the uniform struct (if `uniforms` is given), then `buffers` in
   * order at bindings 1, 2, ... (or 0, 1, ... without uniforms).
   */
  dispatch(
    name: string,
    pipeline: GPUComputePipeline,
    buffers: readonly GPUBuffer[],
    uniforms: ArrayBuffer | undefined,
    grid: readonly [number, number, number],
  ): void {
    checkGrid(name, grid);
    if (grid[0] * grid[1] * grid[2] === 0) return;
    const entries: GPUBindGroupEntry[] = [];
    if (uniforms) {
      const u = this.pool.acquire(uniforms.byteLength, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
      // Safe: `u` is not referenced by any unsubmitted command (the pool only hands out recycled buffers).
      this.device.queue.writeBuffer(u, 0, uniforms);
      this.uniformsInFlight.push(u);
      entries.push({ binding: 0, resource: { buffer: u, size: uniforms.byteLength } });
    }
    for (const buffer of buffers) entries.push({ binding: entries.length, resource: { buffer } });
    const bindGroup = this.device.createBindGroup({ label: name, layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    if (++this.dispatches >= this.maxDispatches) this.flush();
  }

  /** Encode a buffer-to-buffer copy (ends the current compute pass). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.openEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Submit everything recorded so far. */
  flush(): void {
    if (!this.encoder) {
      this.pool.recycle(); // nothing unsubmitted can reference the parked buffers
      return;
    }
    this.endPass();
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = undefined;
    this.dispatches = 0;
    this.submits++;
    for (const u of this.uniformsInFlight) this.pool.release(u);
    this.uniformsInFlight = [];
    this.pool.recycle();
  }
}
