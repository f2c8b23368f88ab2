// A cache of packed B operands (matmul-units.ts packB) for weights, so that a product with few rows (a generation
// step multiplies one row by every weight matrix) does not re-pack the whole weight each call: packing a
// [768, 256] weight costs ~100× the 1×256×768 product itself.
//
// Soundness: a packed copy is only valid while its source array is unchanged. In the CPU backend the only kernels
// that write an existing storage are copyInto and adamwStep (src/backend/backend.ts), and both call
// invalidatePackedB on the array they write. Packing is an exact copy, so whether a product used the cache never
// changes a bit of its result.
// Policy: an array is packed into the cache the second time it is seen as B with the same (K, N, transB), so
// activations that are used once are never copied; entries die with their source array (WeakMap); the total is
// capped at PACKED_B_CACHE_BYTES (further arrays are packed per call as before).

import { packB } from './matmul-units.js';
import { generation, releaseResident, reserveResident, residentView } from './resident-weights.js';

interface Entry {
  bOff: number; K: number; N: number; transB: boolean; packed: Float32Array | null;
  /** byte offset of a packed copy in the resident arena (resident-weights.ts), of arena generation `gen` */
  at: number; gen: number;
}

const entries = new WeakMap<Float32Array, Entry[]>();

/** The entry of b[bOff..] as (K, N, transB), or null when this is its first sight (then it is remembered). */
function seenEntry(b: Float32Array, bOff: number, K: number, N: number, transB: boolean): Entry | null {
  let list = entries.get(b);
  if (!list) { list = []; entries.set(b, list); }
  const e = list.find((x) => x.bOff === bOff && x.K === K && x.N === N && x.transB === transB);
  if (!e) list.push({ bOff, K, N, transB, packed: null, at: -1, gen: -1 });
  return e ?? null;
}

/** Float32 values of an entry's packed copy (panels of 8 columns, zero past N). */
const packedFloats = (e: Entry): number => Math.ceil(e.N / 8) * 8 * e.K;
let cachedBytes = 0;
const registry = new FinalizationRegistry<number>((n) => { cachedBytes -= n; });

/** Upper bound on the bytes of packed copies held (1 GiB). */
export const PACKED_B_CACHE_BYTES = 1 << 30;

/**
 * The packed form of b[bOff..] as [K, N] (or [N, K] if transB) in the layout of packB, from the cache, or null
 * when it is not cached (first sight, or the cache is full): then the caller packs it itself.
 */
export function cachedPackedB(b: Float32Array, bOff: number, K: number, N: number, transB: boolean): Float32Array | null {
  const e = seenEntry(b, bOff, K, N, transB);
  if (!e) return null;
  if (!e.packed) {
    const size = packedFloats(e);
    if (cachedBytes + 4 * size > PACKED_B_CACHE_BYTES) return null;
    e.packed = new Float32Array(size);
    packB(b, bOff, K, N, transB, e.packed, 0);
    cachedBytes += 4 * size;
    registry.register(e.packed, 4 * size);
  }
  return e.packed;
}

/** cachedResidentB's answer when b is seen for the first time (the caller packs it per call, caching nothing). */
export const FIRST_SIGHT = -1;
/** cachedResidentB's answer when the arena is full (the caller may use cachedPackedB). */
export const ARENA_FULL = -2;

/**
 * The byte offset of b[bOff..] packed as by packB in the resident arena (resident-weights.ts), for products of
 * fewer than 4 rows; placed there on the second sight, like cachedPackedB's copies. Else FIRST_SIGHT or ARENA_FULL.
 */
export function cachedResidentB(b: Float32Array, bOff: number, K: number, N: number, transB: boolean): number {
  const e = seenEntry(b, bOff, K, N, transB);
  if (!e) return FIRST_SIGHT;
  if (e.at < 0 || e.gen !== generation) {
    const size = packedFloats(e);
    const at = reserveResident(size);
    if (at < 0) return ARENA_FULL;
    if (e.packed) residentView().set(e.packed, at / 4);
    else packB(b, bOff, K, N, transB, residentView(), at / 4);
    e.at = at;
    e.gen = generation;
    arenaRegistry.register(b, { at, floats: size, gen: generation }, e);
  }
  return e.at;
}

/** Releases a collected weight's arena block (the token is its entry, unregistered when b is written in place). */
const arenaRegistry = new FinalizationRegistry<{ at: number; floats: number; gen: number }>(
  (r) => releaseResident(r.at, r.floats, r.gen));

/** Forgets every packed copy of `b` (call after writing b in place). */
export function invalidatePackedB(b: ArrayLike<number>): void {
  if (!(b instanceof Float32Array)) return;
  for (const e of entries.get(b) ?? []) {
    if (e.at >= 0) {
      arenaRegistry.unregister(e);
      releaseResident(e.at, packedFloats(e), e.gen);
    }
  }
  entries.delete(b);
}
