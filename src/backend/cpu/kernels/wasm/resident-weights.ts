// Packed weights that stay in wasm memory, for products of fewer than 4 rows (a generation step multiplies one
// row by every weight). Without it each such product copies its packed weight (packed-b-cache.ts) into the
// kernel's memory before reading it once: the copy costs as much as the product.
//
// The arena is a second instance of the kernel module (module.ts; same bytes, its own memory), on the calling
// thread only: weights are appended one after another (never moved, so an offset stays valid when the memory
// grows), and a small scratch area for one row of A and one row of C sits after the last of them. When a weight
// is written in place (copyInto, adamwStep, copyRange: packed-b-cache.ts invalidatePackedB) or collected, its
// space is released and reused by the next weight of the same size (a model's weights come back with the same
// shapes after a training step). At most RESIDENT_BYTES are placed; past that, products go back to copying the
// packed weight per call (same bits: the kernel and the packed data are the same).

import { kernelModuleBytes, type KernelInstance } from './module.js';
import { wasmSimdLevel, type WasmSimdLevel } from './simd-features.js';

/** Most bytes of packed weights placed in the arena (512 MiB). */
export const RESIDENT_BYTES = 1 << 29;

let arena: { inst: KernelInstance; level: WasmSimdLevel } | null = null;
let top = 0; // bytes of the arena's memory holding weights
/** Bumped whenever the arena is made anew: offsets from an earlier generation are void. */
export let generation = 0;

/** The arena's instance (made on first use, and again if the SIMD level changed: its weights are dropped). */
export function residentKernels(): KernelInstance {
  const level = wasmSimdLevel();
  if (!arena || arena.level !== level) {
    const inst = new WebAssembly.Instance(new WebAssembly.Module(kernelModuleBytes(level)), {}).exports;
    arena = { inst: inst as unknown as KernelInstance, level };
    top = 0;
    free.clear();
    generation++;
  }
  return arena.inst;
}

/** Bytes of the arena used by weights so far. */
export function residentBytes(): number {
  return top;
}

/** Released blocks by size in bytes: their offsets. */
const free = new Map<number, number[]>();

/**
 * Reserves `floats` float32 for a weight and returns their byte offset in the arena (a released block of the same
 * size if there is one), or -1 when RESIDENT_BYTES would be exceeded. The caller writes the packed weight there
 * (residentView).
 */
export function reserveResident(floats: number): number {
  const inst = residentKernels();
  const bytes = Math.ceil((4 * floats) / 16) * 16;
  const reuse = free.get(bytes)?.pop();
  if (reuse !== undefined) return reuse;
  if (top + bytes > RESIDENT_BYTES) return -1;
  const at = top;
  top += bytes;
  growTo(inst, top);
  return at;
}

/** Gives back the block reserveResident(floats) returned at `at` in arena generation `gen` (older ones are void). */
export function releaseResident(at: number, floats: number, gen: number): void {
  if (gen !== generation) return;
  const bytes = Math.ceil((4 * floats) / 16) * 16;
  const list = free.get(bytes);
  if (list) list.push(at);
  else free.set(bytes, [at]);
}

/** `bytes` of scratch after the weights; returns its byte offset (valid until the next reserveResident). */
export function residentScratch(bytes: number): number {
  growTo(residentKernels(), top + bytes);
  return top;
}

/** A float32 view of the arena's memory (make a new one after reserveResident or residentScratch). */
export function residentView(): Float32Array {
  return new Float32Array(residentKernels().memory.buffer);
}

function growTo(inst: KernelInstance, bytes: number): void {
  const have = inst.memory.buffer.byteLength;
  if (have < bytes) inst.memory.grow(Math.ceil((bytes - have) / 65536));
}
