// webgpu-backend.ts — the Backend interface (src/backend/backend.ts) on WebGPU.
//
// Each Storage owns one pooled GPU buffer. Every kernel records a dispatch into the context's batcher and
// returns at once; only `download` waits for the GPU. Supported dtypes: float32, int32, and the 16-bit weight
// dtypes bfloat16/float16 (two values per u32, read only by matmul-half, gather-half and half-cast, as the rule
// in src/backend/backend.ts says). WGSL has no f64: float64 storages raise an Error naming the op. The WGSL lives
// in ./kernels/*.wgsl.ts, one file per kernel; a kernel's op or mode is an `override` constant whose codes are
// named in a table beside the kernel (UNARY_CODES, REDUCE_MODES, HALF_FORMATS, ...; see kernels/templates.ts).

import type { AdamWHyper, AttentionDims, Backend, BinaryOp, Storage, UnaryOp } from '../backend.js';
import { checkCopyRange, installBackend } from '../backend.js';
import { isHalf, type DType, type HalfDType, type TypedArray } from '../../tensor/dtype.js';
import { halfToFloat32 } from '../../tensor/half.js';
import { broadcastStrides, sizeOf, stridesOf, type Shape } from '../../tensor/shape.js';
import { WebGpuContext } from './context.js';
import { foldGroups } from './dispatch.js';
import { Uniforms } from './uniforms.js';
import type { Kernel } from './pipelines.js';
import { encodeMatmul } from './kernels/matmul.js';
import { encodeAttention, encodeAttentionBackward } from './kernels/attention.js';
import { THREADS_PER_GROUP } from './kernels/templates.js';
import { UNARY_CODES, UNARY_WGSL } from './kernels/unary.wgsl.js';
import { BINARY_CODES, BINARY_WGSL } from './kernels/binary.wgsl.js';
import { WHERE_WGSL } from './kernels/where.wgsl.js';
import { STRIDED_COPY_WGSL } from './kernels/strided-copy.wgsl.js';
import { FILL_CAST_MODES, FILL_CAST_WGSL } from './kernels/fill-cast.wgsl.js';
import { REDUCE_MODES, REDUCE_LAST_WGSL } from './kernels/reduce-last.wgsl.js';
import { SOFTMAX_WGSL } from './kernels/softmax.wgsl.js';
import { PICK_SCATTER_WGSL } from './kernels/pick-scatter.wgsl.js';
import { ROWS_WGSL } from './kernels/rows.wgsl.js';
import { SEGMENT_MAX_MODES, SEGMENT_MAX_WGSL } from './kernels/segment-max.wgsl.js';
import { RMSNORM_MODES, RMSNORM_WGSL } from './kernels/rmsnorm.wgsl.js';
import { ROPE_WGSL } from './kernels/rope.wgsl.js';
import { SWIGLU_WGSL } from './kernels/swiglu.wgsl.js';
import { SWIGLU_BACKWARD_WGSL } from './kernels/swiglu-backward.wgsl.js';
import { ADAMW_WGSL } from './kernels/adamw.wgsl.js';
import { HALF_FORMATS } from './kernels/half-decode.wgsl.js';
import { MATMUL_HALF_WGSL } from './kernels/matmul-half.wgsl.js';
import { GATHER_HALF_WGSL } from './kernels/gather-half.wgsl.js';
import { HALF_CAST_MODES, HALF_CAST_WGSL } from './kernels/half-cast.wgsl.js';
import { MAX_GROUPS_PER_DIM } from './dispatch.js';

const INF_BITS = 0x7f800000;
const NEG_INF_BITS = 0xff800000;
const INT32_MAX = 0x7fffffff;
const MAX_RANK = 8;

export class WebGpuStorage implements Storage {
  readonly device = 'webgpu' as const;
  disposed = false;
  constructor(
    readonly buffer: GPUBuffer,
    readonly dtype: DType,
    readonly length: number,
  ) {}
}

/** Threads-per-element launch: THREADS_PER_GROUP (256) threads per group, folded to 2-D. */
const grid1d = (n: number) => foldGroups(Math.ceil(n / THREADS_PER_GROUP));

/** The code of `op` in a kernel's code table, or a clear error for an op the kernel does not have. */
function codeOf(table: Readonly<Record<string, number>>, op: string, kernel: string): number {
  if (!Object.hasOwn(table, op)) throw new Error(`webgpu ${kernel}: unknown op '${op}'`);
  return table[op];
}

/** Pack a shape and stride lists for the rank <= 8 indexing kernels (two vec4<u32> per list). */
function packDims(u: Uniforms, op: string, shape: Shape, ...strides: number[][]): void {
  if (shape.length > MAX_RANK) throw new Error(`webgpu ${op}: rank ${shape.length} > ${MAX_RANK} is not supported (shape [${shape.join(', ')}])`);
  for (const list of [shape as number[], ...strides]) {
    for (let i = 0; i < 2 * 4; i++) u.u32(i < list.length ? list[i] : 1);
  }
}

export class WebGpuBackend implements Backend {
  readonly device = 'webgpu' as const;
  /** A small buffer bound where a kernel's binding is unused in the chosen mode. */
  private readonly dummy: GPUBuffer[];

  constructor(readonly ctx: WebGpuContext) {
    this.dummy = [ctx.createBuffer(16), ctx.createBuffer(16)];
  }

  /** One storage is one buffer bound whole to a kernel, so the binding limit is the size limit. */
  get maxStorageBytes(): number {
    return Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.ctx.limits.maxBufferSize);
  }

  // ---- helpers ------------------------------------------------------------------------------------------
  private buf(s: Storage, op: string): GPUBuffer {
    if (!(s instanceof WebGpuStorage)) throw new Error(`webgpu ${op}: storage on device '${s.device}' given to the WebGPU backend`);
    if (s.disposed) throw new Error(`webgpu ${op}: storage was disposed`);
    return s.buffer;
  }

  private f32(s: Storage, op: string): GPUBuffer {
    if (s.dtype !== 'float32') throw new Error(`webgpu ${op}: expected a float32 storage, got ${s.dtype}`);
    return this.buf(s, op);
  }

  private i32(s: Storage, op: string): GPUBuffer {
    if (s.dtype !== 'int32') throw new Error(`webgpu ${op}: expected an int32 index storage, got ${s.dtype}`);
    return this.buf(s, op);
  }

  private alloc(length: number, dtype: DType, op: string): WebGpuStorage {
    if (dtype === 'float64') throw new Error(`webgpu ${op}: float64 is not supported on WebGPU (WGSL has no f64); use float32 or the CPU backend`);
    const words = isHalf(dtype) ? Math.ceil(length / 2) : length; // 16-bit values two per u32
    return new WebGpuStorage(this.ctx.createBuffer(Math.max(words, 1) * 4), dtype, length);
  }

  /** A 16-bit storage's buffer and its format code (for the kernels of ./kernels/half-decode.wgsl.ts). */
  private half(s: Storage, op: string): { buffer: GPUBuffer; format: number } {
    if (!isHalf(s.dtype)) throw new Error(`webgpu ${op}: expected a 16-bit storage, got ${s.dtype}`);
    return { buffer: this.buf(s, op), format: HALF_FORMATS[s.dtype] };
  }

  private run(name: string, wgsl: string, constants: Record<string, number> | undefined, buffers: GPUBuffer[], u: Uniforms, grid: [number, number, number]): void {
    const kernel: Kernel = { name, wgsl, constants };
    this.ctx.run(kernel, buffers, u.bytes(), grid);
  }

  private fillBits(out: WebGpuStorage, bits: number): void {
    this.run('fill_cast', FILL_CAST_WGSL, { MODE: FILL_CAST_MODES.fill }, [this.dummy[0], out.buffer], new Uniforms().u32(out.length).u32(bits >>> 0).u32(0).u32(0), grid1d(out.length));
  }

  // ---- memory -------------------------------------------------------------------------------------------
  upload(data: TypedArray): Storage {
    if (data instanceof Float64Array) throw new Error('webgpu upload: float64 is not supported on WebGPU (WGSL has no f64); convert to Float32Array');
    const dtype: DType = data instanceof Int32Array ? 'int32' : 'float32';
    // A fresh pooled buffer is referenced by no unsubmitted command, so a queue write needs no flush.
    return new WebGpuStorage(this.ctx.upload(data.length > 0 ? data : new Float32Array(1)), dtype, data.length);
  }

  /** 16-bit words stored two per u32 (word 2i in the low half of u32 i, as little-endian bytes lay them out). */
  uploadHalf(bits: Uint16Array, dtype: HalfDType): Storage {
    const words = new Uint32Array(Math.max(1, Math.ceil(bits.length / 2)));
    new Uint16Array(words.buffer, 0, bits.length).set(bits);
    return new WebGpuStorage(this.ctx.upload(words), dtype, bits.length);
  }

  async download(s: Storage): Promise<TypedArray> {
    const b = this.buf(s, 'download');
    if (isHalf(s.dtype)) {
      const bytes = await this.ctx.read(b, Math.ceil(s.length / 2) * 4);
      return halfToFloat32(s.dtype, new Uint16Array(bytes, 0, s.length), new Float32Array(s.length));
    }
    const bytes = await this.ctx.read(b, s.length * 4);
    return s.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  full(length: number, dtype: DType, value: number): Storage {
    const s = this.alloc(length, dtype, 'full');
    const bits = dtype === 'int32' ? new Uint32Array(Int32Array.of(value).buffer)[0] : new Uint32Array(Float32Array.of(value).buffer)[0];
    this.fillBits(s, bits);
    return s;
  }

  dispose(s: Storage): void {
    const w = s as WebGpuStorage;
    if (!(w instanceof WebGpuStorage) || w.disposed) return;
    w.disposed = true;
    this.ctx.release(w.buffer);
  }

  copyInto(dst: Storage, src: Storage): void {
    if (dst.length !== src.length || dst.dtype !== src.dtype) {
      throw new Error(`webgpu copyInto: ${src.dtype}[${src.length}] into ${dst.dtype}[${dst.length}]`);
    }
    const bytes = isHalf(src.dtype) ? Math.ceil(src.length / 2) * 4 : src.length * 4;
    if (src.length > 0) this.ctx.batcher.copy(this.buf(src, 'copyInto'), 0, this.buf(dst, 'copyInto'), 0, bytes);
  }

  copyRange(dst: Storage, dstOffset: number, src: Storage, srcOffset: number, length: number): void {
    checkCopyRange('webgpu copyRange', dst, dstOffset, src, srcOffset, length);
    // buffer copies move whole 4-byte words: a 16-bit storage packs two values per word
    const perWord = isHalf(src.dtype) ? 2 : 1;
    if (dstOffset % perWord !== 0 || srcOffset % perWord !== 0 || length % perWord !== 0) {
      throw new Error(`webgpu copyRange: ${src.dtype} ranges must start and end on even elements, got ${length} from ${srcOffset} to ${dstOffset}`);
    }
    const words = length / perWord;
    if (length > 0) {
      this.ctx.batcher.copy(this.buf(src, 'copyRange'), (srcOffset / perWord) * 4, this.buf(dst, 'copyRange'), (dstOffset / perWord) * 4, words * 4);
    }
  }

  cast(x: Storage, dtype: DType): Storage {
    if (isHalf(x.dtype) || isHalf(dtype)) return this.castHalf(x, dtype);
    const xb = this.buf(x, 'cast');
    const out = this.alloc(x.length, dtype, 'cast');
    if (x.dtype === dtype) {
      if (x.length > 0) this.ctx.batcher.copy(xb, 0, out.buffer, 0, x.length * 4);
    } else {
      const mode = dtype === 'int32' ? FILL_CAST_MODES.floatToInt : FILL_CAST_MODES.intToFloat;
      this.run('fill_cast', FILL_CAST_WGSL, { MODE: mode }, [xb, out.buffer], new Uniforms().u32(x.length).u32(0).u32(0).u32(0), grid1d(x.length));
    }
    return out;
  }

  /** Casts with a 16-bit side: unpack to float32 / pack from float32 (half-cast.wgsl.ts), via float32 otherwise. */
  private castHalf(x: Storage, dtype: DType): Storage {
    if (x.dtype === dtype) { // a copy: unpack and pack again (exact)
      const f = this.castHalf(x, 'float32');
      const out = this.castHalf(f, dtype);
      this.dispose(f);
      return out;
    }
    if (isHalf(x.dtype)) {
      const { buffer, format } = this.half(x, 'cast');
      const out = this.alloc(x.length, 'float32', 'cast');
      this.run('half_cast', HALF_CAST_WGSL, { MODE: HALF_CAST_MODES.unpack, HALF_FORMAT: format }, [buffer, out.buffer],
        new Uniforms().u32(x.length).u32(0).u32(0).u32(0), grid1d(x.length));
      if (dtype === 'float32') return out;
      const final = this.cast(out, dtype);
      this.dispose(out);
      return final;
    }
    if (x.dtype !== 'float32') {
      const f = this.cast(x, 'float32');
      const out = this.castHalf(f, dtype);
      this.dispose(f);
      return out;
    }
    const out = this.alloc(x.length, dtype, 'cast');
    this.run('half_cast', HALF_CAST_WGSL, { MODE: HALF_CAST_MODES.pack, HALF_FORMAT: HALF_FORMATS[dtype as HalfDType] },
      [this.buf(x, 'cast'), out.buffer], new Uniforms().u32(x.length).u32(0).u32(0).u32(0), grid1d(Math.ceil(x.length / 2)));
    return out;
  }

  // ---- elementwise --------------------------------------------------------------------------------------
  private unaryCode(code: number, x: Storage, a: number, b: number, op: string): Storage {
    const xb = this.f32(x, op);
    const out = this.alloc(x.length, 'float32', op);
    this.run('unary', UNARY_WGSL, { OP: code }, [xb, out.buffer], new Uniforms().u32(x.length).f32(a).f32(b).u32(INF_BITS), grid1d(x.length));
    return out;
  }

  unary(op: UnaryOp, x: Storage): Storage {
    const name: string = op;   // affine and powScalar share the kernel but take scalars: methods of their own
    if (name === 'affine' || name === 'powScalar') throw new Error(`webgpu unary: unknown op '${op}'`);
    return this.unaryCode(codeOf(UNARY_CODES, op, 'unary'), x, 0, 0, `unary ${op}`);
  }

  powScalar(x: Storage, p: number): Storage {
    return this.unaryCode(UNARY_CODES.powScalar, x, p, 0, 'powScalar');
  }

  affine(x: Storage, alpha: number, beta: number): Storage {
    return this.unaryCode(UNARY_CODES.affine, x, alpha, beta, 'affine');
  }

  binary(op: BinaryOp, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const code = codeOf(BINARY_CODES, op, 'binary');
    const n = sizeOf(outShape);
    const out = this.alloc(n, 'float32', `binary ${op}`);
    const u = new Uniforms().u32(n).u32(outShape.length).u32(0).u32(0);
    packDims(u, `binary ${op}`, outShape, broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape));
    this.run('binary', BINARY_WGSL, { OP: code }, [this.f32(a, op), this.f32(b, op), out.buffer], u, grid1d(n));
    return out;
  }

  where(cond: Storage, condShape: Shape, a: Storage, aShape: Shape, b: Storage, bShape: Shape, outShape: Shape): Storage {
    const n = sizeOf(outShape);
    const out = this.alloc(n, 'float32', 'where');
    const u = new Uniforms().u32(n).u32(outShape.length).u32(0).u32(0);
    packDims(u, 'where', outShape, broadcastStrides(condShape, outShape), broadcastStrides(aShape, outShape), broadcastStrides(bShape, outShape));
    this.run('where', WHERE_WGSL, undefined, [this.f32(cond, 'where'), this.f32(a, 'where'), this.f32(b, 'where'), out.buffer], u, grid1d(n));
    return out;
  }

  // ---- reductions ---------------------------------------------------------------------------------------
  private reduce(mode: number, x: Storage, rows: number, cols: number, op: string): { values: WebGpuStorage; argmax: WebGpuStorage | undefined } {
    const xb = this.f32(x, op);
    const values = this.alloc(rows, 'float32', op);
    const argmax = mode === REDUCE_MODES.max ? this.alloc(rows, 'int32', op) : undefined;
    const u = new Uniforms().u32(rows).u32(cols).u32(NEG_INF_BITS).u32(0);
    this.run('reduce_last', REDUCE_LAST_WGSL, { MODE: mode }, [xb, values.buffer, argmax?.buffer ?? this.dummy[0]], u, foldGroups(rows));
    return { values, argmax };
  }

  sumLast(x: Storage, rows: number, cols: number): Storage {
    return this.reduce(REDUCE_MODES.sum, x, rows, cols, 'sumLast').values;
  }

  maxLast(x: Storage, rows: number, cols: number): { values: Storage; argmax: Storage } {
    const r = this.reduce(REDUCE_MODES.max, x, rows, cols, 'maxLast');
    return { values: r.values, argmax: r.argmax! };
  }

  sumSquares(x: Storage): Storage {
    return this.reduce(REDUCE_MODES.sumSquares, x, 1, x.length, 'sumSquares').values;
  }

  scatterLast(g: Storage, idx: Storage, rows: number, cols: number): Storage {
    const out = this.alloc(rows * cols, 'float32', 'scatterLast');
    const u = new Uniforms().u32(rows).u32(cols).u32(0).u32(0);
    this.run('pick_scatter', PICK_SCATTER_WGSL, { SCATTER: 1 }, [this.f32(g, 'scatterLast'), this.i32(idx, 'scatterLast'), out.buffer], u, grid1d(rows * cols));
    return out;
  }

  pickLast(x: Storage, idx: Storage, rows: number, cols: number): Storage {
    const out = this.alloc(rows, 'float32', 'pickLast');
    const u = new Uniforms().u32(rows).u32(cols).u32(0).u32(0);
    this.run('pick_scatter', PICK_SCATTER_WGSL, { SCATTER: 0 }, [this.f32(x, 'pickLast'), this.i32(idx, 'pickLast'), out.buffer], u, grid1d(rows));
    return out;
  }

  private softmax(x: Storage, rows: number, cols: number, log: boolean): Storage {
    const op = log ? 'logSoftmaxLast' : 'softmaxLast';
    const out = this.alloc(rows * cols, 'float32', op);
    const u = new Uniforms().u32(rows).u32(cols).u32(0).u32(0);
    this.run('softmax', SOFTMAX_WGSL, { LOG: log ? 1 : 0 }, [this.f32(x, op), out.buffer], u, foldGroups(rows));
    return out;
  }

  softmaxLast(x: Storage, rows: number, cols: number): Storage {
    return this.softmax(x, rows, cols, false);
  }

  logSoftmaxLast(x: Storage, rows: number, cols: number): Storage {
    return this.softmax(x, rows, cols, true);
  }

  // ---- movement -----------------------------------------------------------------------------------------
  private stridedCopy(op: string, x: Storage, out: WebGpuStorage, iterShape: Shape, strides: number[], base: number, scatter: boolean): void {
    const n = sizeOf(iterShape);
    const u = new Uniforms().u32(n).u32(iterShape.length).u32(base).u32(0);
    packDims(u, op, iterShape, strides);
    this.run('strided_copy', STRIDED_COPY_WGSL, { SCATTER: scatter ? 1 : 0 }, [this.buf(x, op), out.buffer], u, grid1d(n));
  }

  permute(x: Storage, shape: Shape, perm: readonly number[]): Storage {
    const outShape = perm.map((p) => shape[p]);
    const st = stridesOf(shape);
    const out = this.alloc(x.length, x.dtype, 'permute');
    this.stridedCopy('permute', x, out, outShape, perm.map((p) => st[p]), 0, false);
    return out;
  }

  expand(x: Storage, shape: Shape, outShape: Shape): Storage {
    const out = this.alloc(sizeOf(outShape), x.dtype, 'expand');
    this.stridedCopy('expand', x, out, outShape, broadcastStrides(shape, outShape), 0, false);
    return out;
  }

  slice(x: Storage, shape: Shape, starts: readonly number[], outShape: Shape): Storage {
    const st = stridesOf(shape);
    const base = starts.reduce((acc, s, i) => acc + s * st[i], 0);
    const out = this.alloc(sizeOf(outShape), x.dtype, 'slice');
    this.stridedCopy('slice', x, out, outShape, st, base, false);
    return out;
  }

  pad(x: Storage, shape: Shape, starts: readonly number[], outShape: Shape): Storage {
    const st = stridesOf(outShape);
    const base = starts.reduce((acc, s, i) => acc + s * st[i], 0);
    const out = this.alloc(sizeOf(outShape), x.dtype, 'pad');
    this.fillBits(out, 0);
    this.stridedCopy('pad', x, out, shape, st, base, true);
    return out;
  }

  // ---- linear algebra -----------------------------------------------------------------------------------
  matmul(a: Storage, b: Storage, batch: number, M: number, K: number, N: number,
    transA: boolean, transB: boolean, aBatchStride: number, bBatchStride: number): Storage {
    const out = this.alloc(batch * M * N, 'float32', 'matmul');
    if (isHalf(b.dtype)) {
      // a 16-bit weight shared by the batch, read and decoded per element (matmul-half.wgsl.ts)
      if (bBatchStride !== 0 && batch > 1) throw new Error(`webgpu matmul: a 16-bit operand must be one weight shared by the batch (got ${batch} matrices)`);
      if (batch > MAX_GROUPS_PER_DIM) throw new Error(`webgpu matmul: batch ${batch} exceeds ${MAX_GROUPS_PER_DIM}`);
      const { buffer, format } = this.half(b, 'matmul');
      const u = new Uniforms().u32(M).u32(N).u32(K).u32(aBatchStride);
      if (batch * M * N > 0) {
        this.run('matmul_half', MATMUL_HALF_WGSL, { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0, HALF_FORMAT: format },
          [this.f32(a, 'matmul'), buffer, out.buffer], u, [Math.ceil(N / 64), Math.min(M, MAX_GROUPS_PER_DIM), batch]);
      }
      return out;
    }
    encodeMatmul(this.ctx, this.f32(a, 'matmul'), this.f32(b, 'matmul'), out.buffer, { batch, M, K, N, transA, transB, aBatchStride, bBatchStride });
    return out;
  }

  // ---- indexing -----------------------------------------------------------------------------------------
  gatherRows(table: Storage, V: number, D: number, ids: Storage, n: number): Storage {
    const out = this.alloc(n * D, 'float32', 'gatherRows');
    const u = new Uniforms().u32(n).u32(D).u32(V).u32(0);
    if (isHalf(table.dtype)) {
      const { buffer, format } = this.half(table, 'gatherRows');
      this.run('gather_half', GATHER_HALF_WGSL, { HALF_FORMAT: format }, [buffer, this.i32(ids, 'gatherRows'), out.buffer], u, grid1d(n * D));
      return out;
    }
    this.run('rows', ROWS_WGSL, { SCATTER: 0 }, [this.f32(table, 'gatherRows'), this.i32(ids, 'gatherRows'), out.buffer], u, grid1d(n * D));
    return out;
  }

  scatterAddRows(g: Storage, ids: Storage, n: number, D: number, V: number): Storage {
    const out = this.alloc(V * D, 'float32', 'scatterAddRows');
    this.fillBits(out, 0);
    const u = new Uniforms().u32(n).u32(D).u32(V).u32(0);
    this.run('rows', ROWS_WGSL, { SCATTER: 1 }, [this.f32(g, 'scatterAddRows'), this.i32(ids, 'scatterAddRows'), out.buffer], u, grid1d(n * D));
    return out;
  }

  segmentMax(x: Storage, seg: Storage, N: number, D: number, S: number): { values: Storage; argmax: Storage } {
    const xb = this.f32(x, 'segmentMax');
    const sb = this.i32(seg, 'segmentMax');
    const keys = this.alloc(S * D, 'int32', 'segmentMax');
    const argmax = this.alloc(S * D, 'int32', 'segmentMax');
    const values = this.alloc(S * D, 'float32', 'segmentMax');
    this.fillBits(keys, 0);
    this.fillBits(argmax, INT32_MAX);
    const u = () => new Uniforms().u32(N).u32(D).u32(S).u32(0);
    const bufs = [xb, sb, keys.buffer, argmax.buffer, values.buffer];
    this.run('segment_max', SEGMENT_MAX_WGSL, { MODE: SEGMENT_MAX_MODES.keys }, bufs, u(), grid1d(N * D));
    this.run('segment_max', SEGMENT_MAX_WGSL, { MODE: SEGMENT_MAX_MODES.firstArg }, bufs, u(), grid1d(N * D));
    this.run('segment_max', SEGMENT_MAX_WGSL, { MODE: SEGMENT_MAX_MODES.values }, bufs, u(), grid1d(S * D));
    this.dispose(keys);
    return { values, argmax };
  }

  segmentMaxBackward(g: Storage, argmax: Storage, S: number, D: number, N: number): Storage {
    const out = this.alloc(N * D, 'float32', 'segmentMaxBackward');
    this.fillBits(out, 0);
    const u = new Uniforms().u32(N).u32(D).u32(S).u32(0);
    const bufs = [this.f32(g, 'segmentMaxBackward'), this.dummy[0], this.dummy[1], this.i32(argmax, 'segmentMaxBackward'), out.buffer];
    this.run('segment_max', SEGMENT_MAX_WGSL, { MODE: SEGMENT_MAX_MODES.backward }, bufs, u, grid1d(S * D));
    return out;
  }

  // ---- fused layers -------------------------------------------------------------------------------------
  rmsNorm(x: Storage, w: Storage, rows: number, D: number, eps: number): { y: Storage; rstd: Storage } {
    const y = this.alloc(rows * D, 'float32', 'rmsNorm');
    const rstd = this.alloc(rows, 'float32', 'rmsNorm');
    const u = new Uniforms().u32(rows).u32(D).f32(eps).u32(0);
    this.run('rmsnorm', RMSNORM_WGSL, { MODE: RMSNORM_MODES.forward }, [this.f32(x, 'rmsNorm'), this.f32(w, 'rmsNorm'), this.dummy[0], y.buffer, rstd.buffer], u, foldGroups(rows));
    return { y, rstd };
  }

  rmsNormBackward(dy: Storage, x: Storage, w: Storage, rstd: Storage, rows: number, D: number): { dx: Storage; dw: Storage } {
    const op = 'rmsNormBackward';
    const dx = this.alloc(rows * D, 'float32', op);
    const dw = this.alloc(D, 'float32', op);
    const bufs = (out: GPUBuffer) => [this.f32(x, op), this.f32(w, op), this.f32(dy, op), out, this.f32(rstd, op)];
    const u = () => new Uniforms().u32(rows).u32(D).f32(0).u32(0);
    this.run('rmsnorm', RMSNORM_WGSL, { MODE: RMSNORM_MODES.dx }, bufs(dx.buffer), u(), foldGroups(rows));
    this.run('rmsnorm', RMSNORM_WGSL, { MODE: RMSNORM_MODES.dw }, bufs(dw.buffer), u(), foldGroups(Math.ceil(D / 64)));
    return { dx, dw };
  }

  rope(x: Storage, B: number, T: number, H: number, Dh: number, positions: Storage, theta: number, inverse: boolean): Storage {
    if (Dh % 2 !== 0) throw new Error(`webgpu rope: head dim ${Dh} must be even`);
    const half = Dh / 2;
    // omega_t = theta^(-2t/Dh), rounded to float32 as the CPU backend does.
    const omega = new Float32Array(Math.max(half, 1));
    for (let t = 0; t < half; t++) omega[t] = 1 / Math.pow(theta, (2 * t) / Dh);
    const omegaS = this.upload(omega) as WebGpuStorage;
    const out = this.alloc(x.length, 'float32', 'rope');
    const u = new Uniforms().u32(B).u32(T).u32(H).u32(Dh);
    this.run('rope', ROPE_WGSL, { INVERSE: inverse ? 1 : 0 }, [this.f32(x, 'rope'), this.i32(positions, 'rope'), omegaS.buffer, out.buffer], u, grid1d(B * T * H * half));
    this.dispose(omegaS);
    return out;
  }

  swiglu(gate: Storage, up: Storage): Storage {
    const op = 'swiglu';
    const n = gate.length;
    if (up.length !== n) throw new Error(`webgpu swiglu: gate has ${n} elements, up ${up.length}`);
    const out = this.alloc(n, 'float32', op);
    this.run(op, SWIGLU_WGSL, undefined, [this.f32(gate, op), this.f32(up, op), out.buffer], new Uniforms().u32(n), grid1d(n));
    return out;
  }

  swigluBackward(g: Storage, gate: Storage, up: Storage): { dGate: Storage; dUp: Storage } {
    const op = 'swigluBackward';
    const n = gate.length;
    if (up.length !== n || g.length !== n) throw new Error(`webgpu swigluBackward: g, gate and up have ${g.length}, ${n} and ${up.length} elements`);
    const dGate = this.alloc(n, 'float32', op), dUp = this.alloc(n, 'float32', op);
    this.run(op, SWIGLU_BACKWARD_WGSL, undefined, [this.f32(g, op), this.f32(gate, op), this.f32(up, op), dGate.buffer, dUp.buffer],
      new Uniforms().u32(n), grid1d(n));
    return { dGate, dUp };
  }

  attention(q: Storage, k: Storage, v: Storage, kvStart: Storage, kvEnd: Storage, dims: AttentionDims): { out: Storage; lse: Storage } {
    const op = 'attention';
    const out = this.alloc(dims.B * dims.Tq * dims.Hq * dims.D, 'float32', op);
    const lse = this.alloc(dims.B * dims.Hq * dims.Tq, 'float32', op);
    encodeAttention(this.ctx, this.f32(q, op), this.f32(k, op), this.f32(v, op), this.i32(kvStart, op), this.i32(kvEnd, op), out.buffer, lse.buffer, dims);
    return { out, lse };
  }

  attentionBackward(q: Storage, k: Storage, v: Storage, out: Storage, lse: Storage, dOut: Storage,
    kvStart: Storage, kvEnd: Storage, dims: AttentionDims): { dq: Storage; dk: Storage; dv: Storage } {
    const op = 'attentionBackward';
    const dq = this.alloc(q.length, 'float32', op);
    const dk = this.alloc(k.length, 'float32', op);
    const dv = this.alloc(v.length, 'float32', op);
    const delta = this.alloc(dims.B * dims.Hq * dims.Tq, 'float32', op);
    encodeAttentionBackward(
      this.ctx,
      { q: this.f32(q, op), k: this.f32(k, op), v: this.f32(v, op), out: this.f32(out, op), lse: this.f32(lse, op),
        dOut: this.f32(dOut, op), kvStart: this.i32(kvStart, op), kvEnd: this.i32(kvEnd, op) },
      { dq: dq.buffer, dk: dk.buffer, dv: dv.buffer, delta: delta.buffer },
      dims,
    );
    this.dispose(delta);
    return { dq, dk, dv };
  }

  // ---- optimizer ----------------------------------------------------------------------------------------
  adamwStep(p: Storage, g: Storage, m: Storage, v: Storage, h: AdamWHyper): void {
    const op = 'adamwStep';
    const u = new Uniforms()
      .u32(p.length).f32(h.lr).f32(h.beta1).f32(h.beta2)
      .f32(h.eps).f32(1 - h.lr * h.weightDecay).f32(1 - Math.pow(h.beta1, h.step)).f32(1 - Math.pow(h.beta2, h.step))
      .f32(h.gradScale).u32(0).u32(0).u32(0);
    this.run('adamw', ADAMW_WGSL, undefined, [this.f32(g, op), this.f32(p, op), this.f32(m, op), this.f32(v, op)], u, grid1d(p.length));
  }

  /** Release the device (the backend stays installed but unusable). */
  destroy(): void {
    this.ctx.destroy();
  }
}

let active: WebGpuBackend | undefined;

/**
 * Open a WebGPU device and install the WebGPU backend, so tensors can move to device 'webgpu'.
 * Idempotent. Throws a descriptive Error when no adapter exists (see gpu.ts).
 */
export async function initWebGpu(): Promise<WebGpuBackend> {
  if (!active) {
    active = new WebGpuBackend(await WebGpuContext.create());
    installBackend(active);
  }
  return active;
}

/** Destroy the device opened by initWebGpu (so Node can exit); a later initWebGpu opens a new one. */
export function destroyWebGpu(): void {
  active?.destroy();
  active = undefined;
}
