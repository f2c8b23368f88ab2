/**
 * Data types and devices.
 *
 * A tensor's values live in one typed array (on the CPU) or one GPU buffer (on WebGPU):
 *  - 'float32' (the default) stores Float32Array; kernels accumulate in JS numbers (float64) and round once.
 *  - 'float64' stores Float64Array; CPU only, used by gradient checks.
 *  - 'int32'   stores Int32Array; token ids, patch ids, index tensors.
 */
export type DType = 'float32' | 'float64' | 'int32';
export type Device = 'cpu' | 'webgpu';

export type FloatArray = Float32Array | Float64Array;
export type TypedArray = Float32Array | Float64Array | Int32Array;

/** Allocates a zero-filled typed array of the given dtype. */
export function allocArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
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

export function bytesPerElement(dtype: DType): number {
  return dtype === 'float64' ? 8 : 4;
}
