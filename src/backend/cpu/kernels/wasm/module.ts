// The one WebAssembly module of the CPU kernels: the matmul micro-kernel (matmul-module.ts), its one-row
// versions (matmul-row-module.ts, and matmul-row-bf16-module.ts for a bfloat16 weight) and its packing
// (matmul-pack-module.ts), the attention row functions (attention-module.ts), attention's one-query path
// (attention-query-module.ts), the elementwise functions (elementwise-module.ts), SwiGLU's gate
// (swiglu-module.ts), RMSNorm (rms-norm-module.ts), RoPE (rope-module.ts), log-softmax's row sums
// (softmax-module.ts) and the AdamW update (adamw-module.ts), sharing one exported memory, built for the SIMD
// level that simd-features.ts detected. Every thread instantiates the same bytes (its
// own memory); bytes are built once per level. Creating it uses only the WebAssembly API (no Node modules), so it
// works in a browser too.

import { encodeModule } from './encoder.js';
import { ADAMW_ROWS_PARAMS, buildAdamwRows } from './adamw-module.js';
import {
  RMS_NORM_BACKWARD_ROWS_PARAMS, RMS_NORM_ROWS_PARAMS, buildRmsNormBackwardRows, buildRmsNormRows,
} from './rms-norm-module.js';
import { GRAD_ROWS_PARAMS, SOFTMAX_ROWS_PARAMS, buildGradRows, buildSoftmaxRows } from './attention-module.js';
import { ROW_SCORES_PARAMS, ROW_VALUES_PARAMS, buildRowScores, buildRowValues } from './attention-query-module.js';
import {
  BINARY_ROWS_PARAMS, EXP_ROWS_PARAMS, SUM_SQUARES_ROWS_PARAMS, WASM_BINARY_OPS, buildBinaryRows, buildSumSquaresRows,
  buildUnaryRows,
} from './elementwise-module.js';
import { MATMUL_KERNEL_PARAMS, MATMUL_ROWS_KERNEL_PARAMS, buildMatmulKernel } from './matmul-module.js';
import { MATMUL_ROW_KERNEL_PARAMS, buildMatmulRowKernel } from './matmul-row-module.js';
import { PACK_PANELS_PARAMS, buildPackPanels, buildPackPanelsT8 } from './matmul-pack-module.js';
import { MATMUL_ROW_BF16_PARAMS, buildMatmulRowBf16Kernel } from './matmul-row-bf16-module.js';
import { ROPE_ROWS_PARAMS, buildRopeRows } from './rope-module.js';
import { SUM_EXP_ROWS_PARAMS, buildSumExpRows } from './softmax-module.js';
import { SWIGLU_BACKWARD_ROWS_PARAMS, SWIGLU_ROWS_PARAMS, buildSwigluBackwardRows, buildSwigluRows } from './swiglu-module.js';
import { wasmSimdLevel, type WasmSimdLevel } from './simd-features.js';

/** The module's exports (see matmul-module.ts and attention-module.ts for each function's contract). */
export interface KernelInstance {
  memory: WebAssembly.Memory;
  kernel: (ap: number, bp: number, c: number, K: number, rowBlocks: number, panels: number, ldc: number,
    bStride: number, accumulate: number) => void;
  /** `kernel` with A row-major: A[i, k] at ap + i·lda + 4k (bytes). */
  kernelRowsA: (ap: number, bp: number, c: number, K: number, rowBlocks: number, panels: number, ldc: number,
    bStride: number, accumulate: number, lda: number) => void;
  /** One row of A times packed B panels (matmul-row-module.ts). */
  kernelRow: (ap: number, bp: number, c: number, K: number, panels: number, bStride: number) => void;
  /** One row of A times a bfloat16 weight [N, K] read as it lies (matmul-row-bf16-module.ts). */
  kernelRowBf16: (ap: number, bp: number, c: number, K: number, N8: number, ld: number) => void;
  softmaxRows: (s: number, n: number, rows: number, lo: number, ranges: number, scale: number, pp: number,
    ml: number) => void;
  gradRows: (s: number, dp: number, n: number, rows: number, lo: number, ranges: number, scale: number,
    lseD: number, dsA: number, dsT: number, pT: number) => void;
  /** One query's scores against n keys read in place (attention-query-module.ts). */
  rowScores: (q: number, k: number, ld: number, n: number, D: number, s: number) => void;
  /** One query's output from n probabilities and value rows read in place (attention-query-module.ts). */
  rowValues: (p: number, pStride: number, v: number, ld: number, n: number, D8: number, o: number) => void;
  expRows: (src: number, dst: number, n: number) => void;
  exp64Rows: (src: number, dst: number, n: number) => void;
  sigmoidRows: (src: number, dst: number, n: number) => void;
  siluRows: (src: number, dst: number, n: number) => void;
  /** the float64 at byte `out` = Σ src[i]², n a multiple of 8 (elementwise-module.ts) */
  sumSquaresRows: (src: number, n: number, out: number) => void;
  /** dst[i] = a[i] op b[i], n a multiple of 8 (elementwise-module.ts) */
  binaryRows_add: (a: number, b: number, dst: number, n: number) => void;
  binaryRows_sub: (a: number, b: number, dst: number, n: number) => void;
  binaryRows_mul: (a: number, b: number, dst: number, n: number) => void;
  binaryRows_div: (a: number, b: number, dst: number, n: number) => void;
  /** SwiGLU's gate and its backward, n a multiple of 8 (swiglu-module.ts) */
  swigluRows: (gate: number, up: number, out: number, n: number) => void;
  swigluBackwardRows: (g: number, gate: number, up: number, dGate: number, dUp: number, n: number) => void;
  /** matmul packing (matmul-pack-module.ts): full 4- or 8-float panels, or 8-float panels of a transposed operand */
  packPanels4: (src: number, ld: number, dst: number, K: number, count: number) => void;
  packPanels8: (src: number, ld: number, dst: number, K: number, count: number) => void;
  packPanelsT8: (src: number, ld: number, dst: number, K: number, count: number) => void;
  /** RMSNorm over rows of D floats, D a multiple of 4 (rms-norm-module.ts) */
  rmsNormRows: (x: number, w: number, y: number, rstd: number, rows: number, D: number, eps: number) => void;
  rmsNormBackwardRows: (dy: number, x: number, w: number, rstd: number, dx: number, dwAcc: number, rows: number,
    D: number) => void;
  /** Per row of cols floats (a multiple of 4): the max m and Σ exp(x - m) as float64 pairs (softmax-module.ts) */
  sumExpRows: (x: number, rows: number, cols: number, ms: number) => void;
  /** RoPE's rotation of rows [B·T, H, 2·half] by a table of (cc, ss) vectors per position (rope-module.ts) */
  ropeRows: (x: number, tab: number, out: number, rows: number, T: number, H: number, half: number) => void;
  /** The AdamW update in place, n a multiple of 4 (adamw-module.ts) */
  adamwRows: (p: number, g: number, m: number, v: number, n: number, gradScale: number, decay: number, beta1: number,
    oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, bc1: number, bc2: number, lr: number, eps: number) => void;
}

const bytesByLevel = new Map<WasmSimdLevel, Uint8Array<ArrayBuffer>>();

/** The module's bytes for a SIMD level (default: the detected one). */
export function kernelModuleBytes(level: WasmSimdLevel = wasmSimdLevel()): Uint8Array<ArrayBuffer> {
  let bytes = bytesByLevel.get(level);
  if (!bytes) {
    bytes = encodeModule([
      { name: 'kernel', params: MATMUL_KERNEL_PARAMS, code: buildMatmulKernel(level) },
      { name: 'kernelRowsA', params: MATMUL_ROWS_KERNEL_PARAMS, code: buildMatmulKernel(level, 'rows') },
      { name: 'kernelRow', params: MATMUL_ROW_KERNEL_PARAMS, code: buildMatmulRowKernel(level) },
      { name: 'kernelRowBf16', params: MATMUL_ROW_BF16_PARAMS, code: buildMatmulRowBf16Kernel(level) },
      { name: 'softmaxRows', params: SOFTMAX_ROWS_PARAMS, code: buildSoftmaxRows(level) },
      { name: 'gradRows', params: GRAD_ROWS_PARAMS, code: buildGradRows(level) },
      { name: 'rowScores', params: ROW_SCORES_PARAMS, code: buildRowScores(level) },
      { name: 'rowValues', params: ROW_VALUES_PARAMS, code: buildRowValues(level) },
      { name: 'expRows', params: EXP_ROWS_PARAMS, code: buildUnaryRows(level, 'exp') },
      { name: 'exp64Rows', params: EXP_ROWS_PARAMS, code: buildUnaryRows(level, 'exp64') },
      { name: 'sigmoidRows', params: EXP_ROWS_PARAMS, code: buildUnaryRows(level, 'sigmoid') },
      { name: 'siluRows', params: EXP_ROWS_PARAMS, code: buildUnaryRows(level, 'silu') },
      { name: 'sumSquaresRows', params: SUM_SQUARES_ROWS_PARAMS, code: buildSumSquaresRows() },
      { name: 'swigluRows', params: SWIGLU_ROWS_PARAMS, code: buildSwigluRows() },
      { name: 'swigluBackwardRows', params: SWIGLU_BACKWARD_ROWS_PARAMS, code: buildSwigluBackwardRows() },
      { name: 'packPanels4', params: PACK_PANELS_PARAMS, code: buildPackPanels(1) },
      { name: 'packPanels8', params: PACK_PANELS_PARAMS, code: buildPackPanels(2) },
      { name: 'packPanelsT8', params: PACK_PANELS_PARAMS, code: buildPackPanelsT8() },
      { name: 'rmsNormRows', params: RMS_NORM_ROWS_PARAMS, code: buildRmsNormRows() },
      { name: 'rmsNormBackwardRows', params: RMS_NORM_BACKWARD_ROWS_PARAMS, code: buildRmsNormBackwardRows() },
      { name: 'adamwRows', params: ADAMW_ROWS_PARAMS, code: buildAdamwRows() },
      { name: 'ropeRows', params: ROPE_ROWS_PARAMS, code: buildRopeRows() },
      { name: 'sumExpRows', params: SUM_EXP_ROWS_PARAMS, code: buildSumExpRows() },
      ...WASM_BINARY_OPS.map((op) => ({ name: `binaryRows_${op}`, params: BINARY_ROWS_PARAMS, code: buildBinaryRows(op) })),
    ], 1);
    bytesByLevel.set(level, bytes);
  }
  return bytes;
}

const instances = new Map<WasmSimdLevel, KernelInstance | null>();

/** This thread's instance for the current SIMD level, or null when the engine lacks WebAssembly SIMD. */
export function wasmKernels(): KernelInstance | null {
  const level = wasmSimdLevel();
  if (instances.has(level)) return instances.get(level)!;
  let inst: KernelInstance | null = null;
  if (typeof WebAssembly !== 'undefined') {
    const bytes = kernelModuleBytes(level);
    if (WebAssembly.validate(bytes)) {
      inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as KernelInstance;
    }
  }
  instances.set(level, inst);
  return inst;
}

/** This thread's kernels when they are active and every array is float32 (a float32 kernel may run), else null. */
export function wasmForFloat32(...arrays: ArrayLike<number>[]): KernelInstance | null {
  return arrays.every((a) => a instanceof Float32Array) && wasmKernelsActive() ? wasmKernels() : null;
}

/**
 * Grows `wasm`'s memory to at least `bytes` and returns a float32 view of all of it (a fresh view: growing
 * detaches the old buffer). For the main-thread kernels; those shipped to workers as text repeat the two lines.
 */
export function wasmMemoryAtLeast(wasm: KernelInstance, bytes: number): Float32Array {
  const have = wasm.memory.buffer.byteLength;
  if (have < bytes) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
  return new Float32Array(wasm.memory.buffer);
}

/** The switch: true = float32 matmul and attention run on these kernels (default), false = the JS kernels. */
let enabled = true;

/**
 * Turns the WebAssembly kernels on or off for float32 matmul and attention (off: the float64-accumulating JS
 * kernels, e.g. where the CPU serves as the accurate oracle of a test, or to compare timings).
 */
export function setWasmKernels(on: boolean): void {
  enabled = on;
}

/** Whether float32 matmul and attention use the wasm kernels (switch on and engine able). */
export function wasmKernelsActive(): boolean {
  return enabled && wasmKernels() !== null;
}
