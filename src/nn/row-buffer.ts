/**
 * Rows of a sequence that grow along axis 1, for the caches of generation (keys and values, encoder states):
 * a buffer [B, capacity, ...row] with spare rows, so that appending n rows writes those n rows in place
 * (Backend.copyRange) instead of concatenating, which would copy every row held at every step and make a step's
 * cost grow with the prefix.
 *
 * Rows are named by their position in the sequence. The buffer holds rows [first, end); buffer row 0 is position
 * `base` (≤ first), so row t sits at index t - base. Dropping rows from the front only moves `first`; the dead
 * rows [base, first) are reclaimed when the spare rows run out, by copying the live rows to a new buffer (whose
 * base is then `first`). Growth doubles the capacity, so each row is copied O(1) times on average.
 *
 * In-place writes cannot be differentiated: a RowBuffer refuses rows that require grad (generation runs under
 * noGrad).
 */
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { shapeToString, sizeOf } from '../tensor/shape.js';
import * as ops from '../ops/index.js';

/** the smallest capacity a buffer is created with */
const MIN_ROWS = 64;

export class RowBuffer {
  /** [B, capacity, ...row], null until the first rows arrive */
  private buf: Tensor | null = null;
  /** position of buffer row 0 */
  base = 0;
  /** the first row held */
  first = 0;
  /** one past the last row held */
  end = 0;

  /** The buffer [B, capacity, ...row]: row t (first ≤ t < end) at index t - base; the other rows are unspecified. */
  get tensor(): Tensor {
    if (!this.buf) throw new Error('RowBuffer: no rows were appended yet');
    return this.buf;
  }

  /** Spare rows after `end` before the buffer is full. */
  get spare(): number {
    return this.buf ? this.buf.shape[1] - (this.end - this.base) : 0;
  }

  /**
   * Makes room for n more rows. If the spare rows are too few, the live rows move to a new buffer of twice their
   * count plus n, and `base` becomes `first`; so the indices of rows change here and only here (or at the first
   * append, which creates the buffer with base = first).
   */
  reserve(n: number): void {
    if (this.buf && this.spare < n) this.grow(n, this.buf);
  }

  private grow(n: number, like: Tensor): void {
    const [B, , ...row] = like.shape;
    const live = this.end - this.first;
    const cap = Math.max(MIN_ROWS, 2 * (live + n));
    const next = keep(ops.zeros([B, cap, ...row], { dtype: like.dtype, device: like.device })); // [B, cap, ...row]
    if (this.buf && live > 0) copyRows(next, 0, this.buf, this.first - this.base, live);
    this.buf?.dispose();
    this.buf = next;
    this.base = this.first;
  }

  /** Appends rows [B, n, ...row] at `end` (growing the buffer if needed). */
  append(rows: Tensor): void {
    if (rows.requiresGrad) throw new Error(`RowBuffer: rows ${shapeToString(rows.shape)} require grad; cache writes are in place and cannot be differentiated (run under noGrad)`);
    const n = rows.shape[1];
    if (this.buf && (rows.shape.length !== this.buf.shape.length || rows.shape[0] !== this.buf.shape[0]
      || rows.shape.slice(2).some((d, i) => d !== this.buf!.shape[i + 2]) || rows.dtype !== this.buf.dtype)) {
      throw new Error(`RowBuffer: cannot append ${rows.dtype} ${shapeToString(rows.shape)} to rows ${this.buf.dtype} ${shapeToString(this.buf.shape)}`);
    }
    if (!this.buf || this.spare < n) this.grow(n, rows);
    copyRows(this.buf!, this.end - this.base, rows, 0, n);
    this.end += n;
  }

  /** Rows [from, to) (first ≤ from ≤ to ≤ end) as a new tensor [B, to - from, ...row]. */
  rows(from: number, to: number): Tensor {
    if (from < this.first || to > this.end || to < from) throw new Error(`RowBuffer: rows [${from}, ${to}) are not all held (held: [${this.first}, ${this.end}))`);
    return ops.narrow(this.tensor, 1, from - this.base, to - from); // [B, to - from, ...row]
  }

  /** Forgets the rows before `row` (none later is read again). */
  dropBefore(row: number): void {
    this.first = Math.max(this.first, Math.min(row, this.end));
    if (!this.buf) this.base = this.first; // the first append starts the buffer there
  }

  /** Forgets rows ≥ r, so that they can be written again. */
  truncate(r: number): void {
    this.end = Math.max(this.first, Math.min(this.end, r));
  }

  /** Holds no rows; the next rows start at `row`. The buffer is kept for them. */
  restartAt(row: number): void {
    this.base = this.first = this.end = row;
  }

  dispose(): void {
    this.buf?.dispose();
    this.buf = null;
  }
}

/** dst[:, at .. at+n] = src[:, from .. from+n] along axis 1, in place (both [B, ·, ...row], same dtype and device). */
function copyRows(dst: Tensor, at: number, src: Tensor, from: number, n: number): void {
  const B = dst.shape[0], row = sizeOf(dst.shape.slice(2)), dRows = dst.shape[1], sRows = src.shape[1];
  for (let b = 0; b < B; b++) {
    dst.backend.copyRange(dst.storage, (b * dRows + at) * row, src.storage, (b * sRows + from) * row, n * row);
  }
}
