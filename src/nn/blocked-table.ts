/**
 * A table stored in row blocks: a [rows, dim] embedding matrix kept as consecutive row blocks, each an ordinary
 * tensor. Block b holds rows [start_b, start_b + rows_b).
 *
 * Why: one tensor is one typed array on the CPU and one GPU buffer on WebGPU, and both have a size limit
 * (Backend.maxStorageBytes: 2^31 bytes on the CPU, the adapter's binding limit on WebGPU). BLT-1B's fused hash
 * table [3000012, 1024] is 6.1 GB in bfloat16, so it is stored as one block per hash table (HF's fused layout puts
 * table m at rows [m·V, (m+1)·V)), each split further if it is still too large. A table that fits stays one block.
 *
 * What it changes: lookups route each row id to its block (`lookup`). A checkpoint sees one tensor under one key
 * (the loader fills the blocks from row ranges, the saver writes them one after another); the optimizer and
 * Module.to see every block as a tensor of its own, named `key[start:end]` when there is more than one.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { bytesPerElement, isHalf } from '../tensor/dtype.js';
import { getBackend } from '../backend/backend.js';
import { keep } from '../tensor/scope.js';
import { isGradEnabled } from '../autograd/grad-mode.js';
import * as ops from '../ops/index.js';
import { initWeight, ShapesOnly } from './init.js';

/**
 * Row blocks [start, count) for a table of `rows` rows of `rowBytes` bytes: one block when it fits in `maxBytes`,
 * else one per run of `tableRows` rows (the tables of a fused table), each cut into pieces of at most `maxBytes`.
 */
export function rowBlockLayout(rows: number, rowBytes: number, maxBytes: number, tableRows = rows): [number, number][] {
  if (rows * rowBytes <= maxBytes) return [[0, rows]];
  const per = Math.floor(maxBytes / rowBytes);
  if (per < 1) throw new Error(`table rows of ${rowBytes} bytes do not fit a block of at most ${maxBytes} bytes`);
  const out: [number, number][] = [];
  for (let t0 = 0; t0 < rows; t0 += tableRows) {
    const end = Math.min(rows, t0 + tableRows);
    for (let s = t0; s < end; s += per) out.push([s, Math.min(per, end - s)]);
  }
  return out;
}

export class BlockedTable {
  /** first row of each block */
  readonly starts: number[];
  readonly rows: number;
  readonly dim: number;

  constructor(readonly blocks: Tensor[]) {
    if (blocks.length === 0) throw new Error('BlockedTable: needs at least one block');
    this.dim = blocks[0].shape[1];
    this.starts = [];
    let rows = 0;
    for (const b of blocks) {
      if (b.rank !== 2 || b.shape[1] !== this.dim || b.dtype !== blocks[0].dtype || b.device !== blocks[0].device) {
        throw new Error(`BlockedTable: block [${b.shape}] ${b.dtype} on ${b.device} does not match [*, ${this.dim}] ${blocks[0].dtype} on ${blocks[0].device}`);
      }
      this.starts.push(rows);
      rows += b.shape[0];
    }
    this.rows = rows;
  }

  /**
   * A freshly initialised [rows, dim] table (truncated normal, std) in blocks of at most `maxBytes` (default: the
   * CPU's limit), split at multiples of `tableRows`. The values are drawn in row-major order whatever the blocks,
   * so they equal those of one [rows, dim] tensor drawn from the same rng. With ShapesOnly: one placeholder.
   */
  static init(rows: number, dim: number, rng: Rng, std: number, tableRows = rows, maxBytes = getBackend('cpu').maxStorageBytes): BlockedTable {
    // each block is a trainable parameter (what nn/module.ts `parameter` does: requires grad, kept by scopes)
    const param = (t: Tensor): Tensor => { t.requiresGrad = true; return keep(t); };
    if (rng instanceof ShapesOnly) return new BlockedTable([param(initWeight([rows, dim], rng, std))]);
    const layout = rowBlockLayout(rows, dim * 4, maxBytes, tableRows);
    return new BlockedTable(layout.map(([, n]) => param(initWeight([n, dim], rng, std))));
  }

  get shape(): number[] { return [this.rows, this.dim]; }
  get dtype(): Tensor['dtype'] { return this.blocks[0].dtype; }
  get device(): Device { return this.blocks[0].device; }

  /** [name, block] per block: `key` for a single block, `key[start:end]` for each of several. */
  namedBlocks(key: string): [string, Tensor][] {
    if (this.blocks.length === 1) return [[key, this.blocks[0]]];
    return this.blocks.map((b, i) => [`${key}[${this.starts[i]}:${this.starts[i] + b.shape[0]}]`, b]);
  }

  /** The same table with every block replaced by fn(block) (same shapes). */
  mapBlocks(fn: (t: Tensor) => Tensor): BlockedTable {
    return new BlockedTable(this.blocks.map(fn));
  }

  /** The index of the block holding `row`. */
  private blockOf(row: number): number {
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= row) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  // [doc:blocked-lookup]
  /**
   * Rows of the table for host row ids of shape `shape` -> [...shape, dim] float32 on the table's device.
   * Ids that all fall in one block (always, for one hash table's ids) are one embedding lookup in that block;
   * otherwise each block's rows are gathered separately, stacked, and put back in the ids' order by one more
   * gather. Both are built from differentiable ops. While gradients are recorded every block takes part (an
   * empty gather where no id falls), so every block receives a gradient, zeros where unused, exactly the rows
   * of the gradient the whole table would receive.
   */
  lookup(ids: Int32Array, shape: readonly number[]): Tensor {
    const device = this.device;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] < 0 || ids[i] >= this.rows) throw new Error(`table lookup: row id ${ids[i]} at position ${i} is outside [0, ${this.rows})`);
    }
    if (this.blocks.length === 1) return ops.embedding(this.blocks[0], ops.tensor(ids, [...shape], { device }));
    const training = isGradEnabled() && this.blocks.some((b) => b.requiresGrad);
    const which = Int32Array.from(ids, (r) => this.blockOf(r));
    if (!training && which.every((b) => b === which[0])) {
      const s = this.starts[which[0]];
      return ops.embedding(this.blocks[which[0]], ops.tensor(Int32Array.from(ids, (r) => r - s), [...shape], { device }));
    }
    const parts: Tensor[] = [];
    const position = new Int32Array(ids.length); // where row i of the output sits in the stacked parts
    let stacked = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const mine: number[] = [];
      for (let i = 0; i < ids.length; i++) if (which[i] === b) { position[i] = stacked + mine.length; mine.push(ids[i] - this.starts[b]); }
      if (mine.length === 0 && !training) continue;
      parts.push(ops.embedding(this.blocks[b], ops.tensor(Int32Array.from(mine), [mine.length], { device }))); // [n_b, dim]
      stacked += mine.length;
    }
    const all = parts.length === 1 ? parts[0] : ops.concat(parts, 0); // [n, dim], grouped by block
    return ops.embedding(all, ops.tensor(position, [...shape], { device })); // [...shape, dim], in the ids' order
  }

  /**
   * The table on `device` (CPU tables only; GPU -> CPU goes through moduleToCpu). Blocks larger than the
   * device's storage limit are split further by rows, so a table made on the CPU can move to a GPU.
   */
  to(device: Device): BlockedTable {
    if (this.device === device) return this;
    if (this.device !== 'cpu') throw new Error(`BlockedTable.to: reading '${this.device}' tables back needs 'await moduleToCpu(module)'`);
    const be = getBackend(device);
    const rowBytes = this.dim * bytesPerElement(this.dtype);
    const moved: Tensor[] = [];
    for (const b of this.blocks) {
      const host = isHalf(b.dtype) ? b.halfBits() : b.dataSync();
      for (const [s, n] of rowBlockLayout(b.shape[0], rowBytes, be.maxStorageBytes)) {
        const rows = host.subarray(s * this.dim, (s + n) * this.dim);
        const storage = rows instanceof Uint16Array ? be.uploadHalf(rows, b.dtype as 'bfloat16' | 'float16') : be.upload(rows);
        const t = keep(new Tensor(storage, [n, this.dim], b.requiresGrad));
        moved.push(t);
      }
      b.dispose();
    }
    return new BlockedTable(moved);
  }
}
