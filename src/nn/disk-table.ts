/**
 * A table left on disk: a [rows, dim] embedding matrix that stays in its checkpoint file and is read row by row
 * when looked up, through a TensorSource (src/io/tensor-source.ts).
 *
 * Why: an embedding lookup touches only the rows it is asked for, and BLT's hash n-gram embedding asks for one
 * row per hash table per byte (6 rows of the 3000012-row table of BLT-1B). Leaving the table in the file saves
 * its whole size in memory (6.1 GB in bfloat16) for a few small reads per byte, which the operating system's
 * file cache makes cheap. This is for inference: the table is not a parameter (Module.namedTensors does not
 * list it), its rows come back as constants, and a model holding one is frozen (Module.requiresGrad refuses to
 * unfreeze it), so no training step can leave the table out without saying so.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/dtype.js';
import { halfToFloat32 } from '../tensor/half.js';
import { FILE_DTYPE_BYTES, type TensorSource } from '../io/tensor-source.js';
import * as ops from '../ops/index.js';

export class DiskTable {
  readonly rows: number;
  readonly dim: number;
  /** name of the table in error messages (its checkpoint key) */
  key: string;

  constructor(readonly source: TensorSource, readonly device: Device = 'cpu', key = source.name) {
    if (source.shape.length !== 2 || !['F32', 'BF16', 'F16', 'F64'].includes(source.dtype)) {
      throw new Error(`DiskTable: '${source.name}' in ${source.file} is ${source.dtype} [${source.shape}], not a float matrix`);
    }
    [this.rows, this.dim] = source.shape as [number, number];
    this.key = key;
  }

  get shape(): number[] { return [this.rows, this.dim]; }

  /** Values of rows [start, start + count) as float32 (one read). */
  private readRows(start: number, count: number, out: Float32Array, outOffset: number): void {
    const rowBytes = this.dim * FILE_DTYPE_BYTES[this.source.dtype];
    const bytes = this.source.read(start * rowBytes, count * rowBytes); // a fresh, 0-aligned buffer
    const n = count * this.dim;
    switch (this.source.dtype) {
      case 'F32': out.set(new Float32Array(bytes.buffer, bytes.byteOffset, n), outOffset); return;
      case 'F64': out.set(new Float64Array(bytes.buffer, bytes.byteOffset, n), outOffset); return;
      case 'BF16': halfToFloat32('bfloat16', new Uint16Array(bytes.buffer, bytes.byteOffset, n), out, outOffset); return;
      case 'F16': halfToFloat32('float16', new Uint16Array(bytes.buffer, bytes.byteOffset, n), out, outOffset); return;
      default: throw new Error(`DiskTable: cannot read ${this.source.dtype} rows`);
    }
  }

  /**
   * Rows for host row ids of shape `shape` -> [...shape, dim] float32 on the table's device: the distinct ids are
   * read from the file (runs of consecutive ids in one read), uploaded as a small table, and gathered from it.
   */
  lookup(ids: Int32Array, shape: readonly number[]): Tensor {
    const distinct = [...new Set(ids)].sort((a, b) => a - b);
    for (const r of [distinct[0], distinct[distinct.length - 1]]) {
      if (r !== undefined && (r < 0 || r >= this.rows)) throw new Error(`table '${this.key}' lookup: row id ${r} is outside [0, ${this.rows})`);
    }
    const values = new Float32Array(distinct.length * this.dim); // [u, dim]
    for (let i = 0; i < distinct.length;) {
      let j = i + 1;
      while (j < distinct.length && distinct[j] === distinct[j - 1] + 1) j++;
      this.readRows(distinct[i], j - i, values, i * this.dim);
      i = j;
    }
    const slot = new Map(distinct.map((r, i) => [r, i]));
    const local = Int32Array.from(ids, (r) => slot.get(r)!);
    const rows = ops.tensor(values, [distinct.length, this.dim], { device: this.device }); // [u, dim]
    return ops.embedding(rows, ops.tensor(local, [...shape], { device: this.device })); // [...shape, dim]
  }

  /** The same file, with lookups returning tensors on `device`. */
  to(device: Device): DiskTable {
    return device === this.device ? this : new DiskTable(this.source, device, this.key);
  }
}
