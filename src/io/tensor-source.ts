// A tensor in a checkpoint file that has not been read yet: its name, file dtype and shape, and a way to read
// any byte range of its data. Every checkpoint reader (safetensors, PyTorch .pth) produces these, and model
// loading consumes them, so that no reader ever has to hold a whole file, or even a whole tensor, in memory:
// a 3000012 x 1024 hash table is read in row blocks (or row by row, on demand) through `read`.
//
// Data layout is the file's: little-endian, row-major, contiguous (readers refuse strided storage).

/** Element types a checkpoint file may hold. */
export type FileDtype = "F32" | "F16" | "BF16" | "F64" | "I32" | "I64";

export const FILE_DTYPE_BYTES: Record<FileDtype, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2 };

export interface TensorSource {
  /** the key in its file (error messages) */
  readonly name: string;
  /** the file it lives in (error messages) */
  readonly file: string;
  readonly dtype: FileDtype;
  readonly shape: readonly number[];
  /**
   * `byteLength` bytes of the tensor's data starting `byteOffset` bytes into it (not into the file).
   * Throws an Error naming the file and tensor when the range is outside the tensor or the read fails.
   */
  read(byteOffset: number, byteLength: number): Uint8Array;
}

/** Number of elements of a shape. */
export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes of one row (everything after the first axis) of a source. */
export function rowBytes(src: TensorSource): number {
  if (src.shape.length === 0) throw new Error(`tensor '${src.name}' in ${src.file} is a scalar and has no rows`);
  return numelOf(src.shape.slice(1)) * FILE_DTYPE_BYTES[src.dtype];
}

function checkRange(src: TensorSource, byteOffset: number, byteLength: number): void {
  const total = numelOf(src.shape) * FILE_DTYPE_BYTES[src.dtype];
  if (!Number.isInteger(byteOffset) || !Number.isInteger(byteLength) || byteOffset < 0 || byteLength < 0 ||
      byteOffset + byteLength > total) {
    throw new Error(`tensor '${src.name}' in ${src.file}: read of bytes [${byteOffset}, ${byteOffset + byteLength}) ` +
      `is outside its ${total} bytes`);
  }
}

/** Rows [start, start + count) of a source, as a source of shape [count, ...rest] (nothing is read). */
export function sliceRows(src: TensorSource, start: number, count: number, name = `${src.name}[${start}:${start + count}]`): TensorSource {
  const rows = src.shape[0];
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > rows) {
    throw new Error(`tensor '${src.name}' in ${src.file}: rows [${start}, ${start + count}) are outside its ${rows} rows`);
  }
  const rb = rowBytes(src);
  const out: TensorSource = {
    name, file: src.file, dtype: src.dtype, shape: [count, ...src.shape.slice(1)],
    read: (byteOffset, byteLength) => {
      checkRange(out, byteOffset, byteLength);
      return src.read(start * rb + byteOffset, byteLength);
    },
  };
  return out;
}

/**
 * Sources with the same dtype and row shape stacked along the first axis, as one source (nothing is read).
 * Used to present tables stored separately (Meta's one hash table per n-gram size and function) as the fused
 * table of the Hugging Face layout, and the other way round with sliceRows.
 */
export function concatRows(parts: readonly TensorSource[], name: string): TensorSource {
  if (parts.length === 0) throw new Error(`concatRows: no tensors to stack for '${name}'`);
  const first = parts[0];
  const rest = first.shape.slice(1);
  for (const p of parts) {
    if (p.dtype !== first.dtype || p.shape.length !== first.shape.length || p.shape.slice(1).some((d, i) => d !== rest[i])) {
      throw new Error(`concatRows '${name}': tensor '${p.name}' in ${p.file} is ${p.dtype} [${p.shape}], ` +
        `but '${first.name}' in ${first.file} is ${first.dtype} [${first.shape}]; they cannot be stacked`);
    }
  }
  const rb = rowBytes(first);
  const starts: number[] = []; // first byte of each part in the stacked tensor
  let rows = 0;
  for (const p of parts) { starts.push(rows * rb); rows += p.shape[0]; }
  const out: TensorSource = {
    name, file: parts.map((p) => p.file).filter((f, i, all) => all.indexOf(f) === i).join(', '),
    dtype: first.dtype, shape: [rows, ...rest],
    read: (byteOffset, byteLength) => {
      checkRange(out, byteOffset, byteLength);
      const bytes = new Uint8Array(byteLength);
      let done = 0;
      for (let i = 0; i < parts.length && done < byteLength; i++) {
        const partStart = starts[i], partEnd = i + 1 < parts.length ? starts[i + 1] : rows * rb;
        const from = byteOffset + done;
        if (from >= partEnd) continue;
        const n = Math.min(partEnd, byteOffset + byteLength) - from;
        bytes.set(parts[i].read(from - partStart, n), done);
        done += n;
      }
      return bytes;
    },
  };
  return out;
}

/** The bytes of rows [start, start + count) of a source, as whole-row chunks of at most `maxBytes` (at least one row). */
export function* rowChunks(src: TensorSource, maxBytes = 64 << 20, start = 0, count = src.shape.length === 0 ? 1 : src.shape[0]): Generator<Uint8Array> {
  const rb = src.shape.length === 0 ? FILE_DTYPE_BYTES[src.dtype] : rowBytes(src);
  const per = Math.max(1, Math.floor(maxBytes / Math.max(rb, 1)));
  for (let r = 0; r < count; r += per) {
    const n = Math.min(per, count - r);
    yield src.read((start + r) * rb, n * rb);
  }
}
