// buffer-pool.ts — reuse GPU buffers instead of creating one per tensor (as tfjs and onnxruntime-web do).
//
// Buffers are rounded up to a size class (multiples of 16 bytes below 4 KiB, then powers of two with
// 4 steps per octave) and kept in free lists keyed by "size class + usage". A released buffer may still
// be used by commands that are encoded but not yet submitted, and `queue.writeBuffer` runs on the queue
// *before* those commands; so `release` only parks the buffer, and `recycle()` (called by the batcher
// right after each submit) makes parked buffers reusable.

export interface PoolStats {
  /** Buffers handed out and not yet released. Leak tests compare this against a baseline. */
  live: number;
  /** Bytes in buffers handed out. */
  bytesInUse: number;
  /** Bytes in all buffers this pool owns (live + parked + free). */
  bytesAllocated: number;
}

/** Round a byte size up to its size class. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 4096) return b;
  // 4 classes per power of two: waste at most 25%.
  const octave = 2 ** Math.floor(Math.log2(b));
  const step = octave / 4;
  return Math.ceil(b / step) * step;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private parked: GPUBuffer[] = [];
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private liveCount = 0;
  private liveBytes = 0;
  private allocatedBytes = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes with exactly `usage`. Its contents are undefined. */
  acquire(bytes: number, usage: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(`${size}:${usage}`);
    let buffer = list?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({ size, usage });
      this.sizes.set(buffer, size);
      this.allocatedBytes += size;
    }
    this.liveCount++;
    this.liveBytes += size;
    return buffer;
  }

  /** Give a buffer back; it becomes reusable after the next submit (see `recycle`). */
  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer);
    if (size === undefined) throw new Error(`BufferPool.release: buffer (${buffer.size} bytes) is not from this pool`);
    this.liveCount--;
    this.liveBytes -= size;
    this.parked.push(buffer);
  }

  /** Called after a submit: parked buffers can no longer be overtaken by a queue write. */
  recycle(): void {
    for (const buffer of this.parked) {
      const key = `${this.sizes.get(buffer)}:${buffer.usage}`;
      let list = this.free.get(key);
      if (!list) this.free.set(key, (list = []));
      list.push(buffer);
    }
    this.parked = [];
  }

  /** Destroy every free buffer (live ones stay with their owners). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.allocatedBytes -= this.sizes.get(b) ?? 0;
        b.destroy();
      }
    }
    this.free.clear();
  }

  stats(): PoolStats {
    return { live: this.liveCount, bytesInUse: this.liveBytes, bytesAllocated: this.allocatedBytes };
  }
}
