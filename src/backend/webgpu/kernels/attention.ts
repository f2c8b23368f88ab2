// attention.ts — host side of the fused attention kernels (forward, and the three-kernel backward).
//
// Layouts: q [B, Tq, Hq, D], k/v [B, Tk, Hkv, D], out [B, Tq, Hq, D], lse [B, Hq, Tq], kvStart/kvEnd int32
// [B, Tq]. Same contract as Backend.attention / attentionBackward in src/backend/backend.ts.

import type { WebGpuContext } from '../context.js';
import { foldGroups, MAX_GROUPS_PER_DIM } from '../dispatch.js';
import { Uniforms } from '../uniforms.js';
import { ATTENTION_MAX_HEAD_DIM, attentionForwardWgsl } from './attention-forward.wgsl.js';
import { ATTENTION_DELTA_WGSL, DELTA_ROWS_PER_GROUP } from './attention-backward-delta.wgsl.js';
import { attentionDqWgsl } from './attention-backward-dq.wgsl.js';
import { attentionDkDvWgsl } from './attention-backward-dkdv.wgsl.js';

export interface AttentionShape {
  B: number; Tq: number; Tk: number; Hq: number; Hkv: number; D: number; scale: number;
}

const NEG_INF_BITS = 0xff800000;

function check(op: string, s: AttentionShape): void {
  for (const name of ['B', 'Tq', 'Tk', 'Hq', 'Hkv', 'D'] as const) {
    if (!Number.isInteger(s[name]) || s[name] < 0) throw new Error(`${op}: ${name} must be a non-negative integer, got ${s[name]}`);
  }
  if (s.Hkv === 0 || s.Hq % s.Hkv !== 0) throw new Error(`${op}: Hq=${s.Hq} must be a multiple of Hkv=${s.Hkv}`);
  if (s.D < 1 || s.D > ATTENTION_MAX_HEAD_DIM) throw new Error(`${op}: head dim D=${s.D} must be in 1..${ATTENTION_MAX_HEAD_DIM}`);
  if (!Number.isFinite(s.scale)) throw new Error(`${op}: scale ${s.scale} is not finite`);
  if (s.B > MAX_GROUPS_PER_DIM || s.Hq > MAX_GROUPS_PER_DIM) throw new Error(`${op}: B=${s.B} or Hq=${s.Hq} exceeds ${MAX_GROUPS_PER_DIM}`);
}

function params(s: AttentionShape, third: number): ArrayBuffer {
  return new Uniforms().u32(s.B).u32(s.Tq).u32(s.Tk).u32(s.Hq).u32(s.Hkv).f32(s.scale).u32(third).u32(0).bytes();
}

/** Record the forward: writes out [B, Tq, Hq, D] and lse [B, Hq, Tq]. */
export function encodeAttention(
  ctx: WebGpuContext,
  q: GPUBuffer, k: GPUBuffer, v: GPUBuffer, kvStart: GPUBuffer, kvEnd: GPUBuffer,
  out: GPUBuffer, lse: GPUBuffer, s: AttentionShape,
): void {
  check('webgpu attention', s);
  ctx.run(
    { name: `attention_fwd_d${s.D}`, wgsl: attentionForwardWgsl(s.D) },
    [q, k, v, kvStart, kvEnd, out, lse],
    params(s, NEG_INF_BITS),
    [Math.ceil(s.Tq / 64), s.Hq, s.B],
  );
}

/**
 * Record the backward. `delta` is scratch of B * Hq * Tq floats; writes dq [B, Tq, Hq, D] and
 * dk, dv [B, Tk, Hkv, D] (summed over the query heads that share a kv head).
 */
export function encodeAttentionBackward(
  ctx: WebGpuContext,
  t: { q: GPUBuffer; k: GPUBuffer; v: GPUBuffer; out: GPUBuffer; lse: GPUBuffer; dOut: GPUBuffer; kvStart: GPUBuffer; kvEnd: GPUBuffer },
  grads: { dq: GPUBuffer; dk: GPUBuffer; dv: GPUBuffer; delta: GPUBuffer },
  s: AttentionShape,
): void {
  check('webgpu attentionBackward', s);
  encodeAttentionDelta(ctx, t.out, t.dOut, grads.delta, s);
  const common = [t.q, t.k, t.v, t.dOut, t.lse, grads.delta, t.kvStart, t.kvEnd];
  ctx.run({ name: `attention_bwd_dq_d${s.D}`, wgsl: attentionDqWgsl(s.D) }, [...common, grads.dq], params(s, 0), [
    Math.ceil(s.Tq / 64), s.Hq, s.B,
  ]);
  ctx.run({ name: `attention_bwd_dkdv_d${s.D}`, wgsl: attentionDkDvWgsl(s.D) }, [...common, grads.dk, grads.dv], params(s, 0), [
    Math.ceil(s.Tk / 64), s.Hkv, s.B,
  ]);
}

/** Record Delta[b, h, t] = dOut[b, t, h, :] . out[b, t, h, :] (layout [B, Hq, Tq]); a 1-D folded launch. */
export function encodeAttentionDelta(
  ctx: WebGpuContext, out: GPUBuffer, dOut: GPUBuffer, delta: GPUBuffer, s: Pick<AttentionShape, 'B' | 'Tq' | 'Hq' | 'D'>,
): void {
  const rows = s.B * s.Tq * s.Hq;
  ctx.run(
    { name: 'attention_bwd_delta', wgsl: ATTENTION_DELTA_WGSL },
    [out, dOut, delta],
    new Uniforms().u32(s.B).u32(s.Tq).u32(s.Hq).u32(s.D).bytes(),
    foldGroups(Math.ceil(rows / DELTA_ROWS_PER_GROUP)),
  );
}

/**
 * FLOPs of the forward for GFLOP/s reports, counting only visible (query, key) pairs: 4 D per pair
 * (q.k and p v). The backward is counted as 2.5x this (FlashAttention-2 convention).
 */
export function attentionFlops(visiblePairs: number, Hq: number, D: number): number {
  return 4 * D * visiblePairs * Hq;
}
