// matmul.ts — host side of the batched matmul kernels: validates sizes, packs uniforms, dispatches.
//
// out[b] (M x N) = op(A_b) @ op(B_b), op(X) = X^T when trans; A_b = A[b * aBatchStride ...] (stride 0
// broadcasts one matrix over the batch), stored [M, K] or [K, M] (transA); B_b stored [K, N] or [N, K].
// `out` is dense [batch, M, N]. Same contract as Backend.matmul in src/backend/backend.ts.

import type { WebGpuContext } from '../context.js';
import type { Kernel } from '../pipelines.js';
import { MAX_GROUPS_PER_DIM } from '../dispatch.js';
import { Uniforms } from '../uniforms.js';
import { MATMUL_NAIVE_WGSL } from './matmul-naive.wgsl.js';
import { MATMUL_TILED_WGSL } from './matmul-tiled.wgsl.js';
import { MATMUL_VEC4_WGSL } from './matmul-vec4.wgsl.js';

export interface MatmulShape {
  batch: number;
  M: number;
  K: number;
  N: number;
  transA: boolean;
  transB: boolean;
  /** Elements between consecutive A matrices (0 = the same A for every batch entry). */
  aBatchStride: number;
  bBatchStride: number;
}

/** The kernels: the backend uses tiled or vec4 (chooseMatmulVariant); naive only when asked for (tests, benchmarks). */
export type MatmulVariant = 'tiled' | 'naive' | 'vec4';

const SOURCES: Record<MatmulVariant, string> = { naive: MATMUL_NAIVE_WGSL, tiled: MATMUL_TILED_WGSL, vec4: MATMUL_VEC4_WGSL };
/** Output [rows, columns] per workgroup (the grid is ceil(N / columns) x ceil(M / rows) x batch). */
const TILE: Record<MatmulVariant, [number, number]> = { naive: [16, 16], tiled: [64, 64], vec4: [64, 64] };

function kernel(variant: MatmulVariant, s: MatmulShape): Kernel {
  return {
    name: `matmul_${variant}`,
    wgsl: SOURCES[variant],
    constants: { TRANS_A: s.transA ? 1 : 0, TRANS_B: s.transB ? 1 : 0 },
  };
}

/** Whether the vec4 kernel applies: every dimension it reads as vec4 is a multiple of 4. */
export function vec4Ok(s: MatmulShape): boolean {
  return s.K % 4 === 0 && s.N % 4 === 0 && (!s.transA || s.M % 4 === 0) && s.aBatchStride % 4 === 0 && s.bBatchStride % 4 === 0;
}

/**
 * The kernel the backend uses: on CPU Vulkan drivers (SwiftShader, llvmpipe) the barrier-free vec4 kernel
 * when the shape allows it (measured 1.5-4x faster than the tiled kernel on SwiftShader); otherwise the
 * shared-memory tiled kernel, the standard choice on GPUs.
 */
export function chooseMatmulVariant(ctx: WebGpuContext, s: MatmulShape): MatmulVariant {
  return ctx.isCpuDriver && vec4Ok(s) ? 'vec4' : 'tiled';
}

/** Record out = op(A) @ op(B) into `out` (which must hold batch * M * N floats). */
export function encodeMatmul(
  ctx: WebGpuContext,
  a: GPUBuffer,
  b: GPUBuffer,
  out: GPUBuffer,
  s: MatmulShape,
  variant: MatmulVariant = chooseMatmulVariant(ctx, s),
): void {
  const { batch, M, K, N } = s;
  for (const [name, v] of Object.entries({ batch, M, K, N, aBatchStride: s.aBatchStride, bBatchStride: s.bBatchStride })) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`webgpu matmul: ${name} must be a non-negative integer, got ${v}`);
  }
  if (batch > MAX_GROUPS_PER_DIM) throw new Error(`webgpu matmul: batch ${batch} exceeds ${MAX_GROUPS_PER_DIM}`);
  const needA = (batch - 1) * s.aBatchStride + M * K;
  const needB = (batch - 1) * s.bBatchStride + K * N;
  if (batch > 0 && (a.size < needA * 4 || b.size < needB * 4 || out.size < batch * M * N * 4)) {
    throw new Error(`webgpu matmul: buffers too small for batch=${batch} M=${M} K=${K} N=${N}`);
  }
  if (variant === 'vec4' && !vec4Ok(s)) {
    throw new Error(`webgpu matmul: the vec4 kernel needs K, N (and M if transA) and batch strides divisible by 4; got M=${M} K=${K} N=${N}`);
  }
  const u = new Uniforms().u32(M).u32(N).u32(K).u32(batch).u32(s.aBatchStride).u32(s.bBatchStride).u32(M * N).u32(0);
  const [tileRows, tileCols] = TILE[variant];
  ctx.run(kernel(variant, s), [a, b, out], u.bytes(), [Math.ceil(N / tileCols), Math.ceil(M / tileRows), batch]);
}

/** FLOPs of a matmul (for GFLOP/s reports): 2 * batch * M * N * K. */
export function matmulFlops(s: Pick<MatmulShape, 'batch' | 'M' | 'N' | 'K'>): number {
  return 2 * s.batch * s.M * s.N * s.K;
}
