/**
 * Data types and devices.
 *
 * A tensor's values live in one typed array (on the CPU) or one GPU buffer (on WebGPU):
 *  - 'float32' (the default) stores Float32Array; kernels accumulate in JS numbers (float64) and round once.
 *  - 'float64' stores Float64Array; CPU only, used by gradient checks.
 *  - 'int32'   stores Int32Array; token ids, patch ids, index tensors.
 *  - 'bfloat16', 'float16' store 16-bit words (Uint16Array on the CPU, pairs packed in u32 on WebGPU): weights
 *    kept as a checkpoint stores them, at half the memory of float32. They are *storage* dtypes: only the
 *    kernels that read weights accept them (matmul's weight operand, gatherRows' table, cast) and they compute
 *    and return float32; every other op refuses them (src/ops/check.ts). See src/tensor/half.ts for the formats.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'bfloat16' | 'float16';
/** The 16-bit storage dtypes. */
export type HalfDType = 'bfloat16' | 'float16';
export type Device = 'cpu' | 'webgpu';

export type FloatArray = Float32Array | Float64Array;
/** Arrays of values (a 16-bit storage's words are a Uint16Array, see HalfDType). */
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** Allocates a zero-filled typed array of the given (value) dtype. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
    default: throw new Error(`allocArray: ${dtype} is a 16-bit storage dtype; its words are a Uint16Array`);
  }
}

/** The dtype a typed array represents. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  return 'int32';
}

export function isFloat(dtype: DType): boolean {
  return dtype !== 'int32';
}

export function isHalf(dtype: DType): dtype is HalfDType {
  return dtype === 'bfloat16' || dtype === 'float16';
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : isHalf(dtype) ? 2 : 4;
}
