/**
 * Scaled dot-product attention, multi-head, with grouped-query heads:
 *   Attn(Q, K, V) = softmax(scale * Q K^T + mask) V,   scale = 1/sqrt(Dh) by default
 *
 * Layouts (the natural ones after the q/k/v projections, no transposes needed):
 *   q [B, Tq, Hq, Dh], k and v [B, Tk, Hkv, Dh], output [B, Tq, Hq, Dh];
 *   query head h reads kv head floor(h / (Hq / Hkv)).
 *
 * The mask is one contiguous key range per query: query t of batch row b sees keys kvStart[b,t] <= j < kvEnd[b,t].
 * This one form covers everything BLT needs: causal (start 0, end t+1), sliding window (start t-W+1),
 * and the patch cross-attention masks (a byte's patch, or a patch's bytes, are contiguous). A query with an
 * empty range outputs 0.
 *
 * `attention` is the fused kernel (flash-style online softmax, backward recomputes probabilities from the saved
 * log-sum-exp); `attentionMasked` is the plain reference composed from matmul + softmax with a boolean mask.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { shapeToString } from '../tensor/shape.js';
import { checkFloat, checkInt, checkRank, checkSameDevice } from './check.js';
import { matmul } from './matmul.js';
import { softmax } from './softmax.js';
import { where, affine } from './elementwise.js';
import { expand } from './reduce.js';
import { permute, reshape } from './movement.js';

export interface KeyRanges {
  /** int32 [B, Tq]: first key each query may attend. */
  start: Tensor;
  /** int32 [B, Tq]: one past the last key. */
  end: Tensor;
}

function attentionDims(q: Tensor, k: Tensor, v: Tensor, op: string): { B: number; Tq: number; Tk: number; Hq: number; Hkv: number; D: number } {
  checkFloat(op, q, k, v);
  checkSameDevice(op, q, k, v);
  checkRank(op, q, 4, 'q'); checkRank(op, k, 4, 'k'); checkRank(op, v, 4, 'v');
  const [B, Tq, Hq, D] = q.shape;
  const [Bk, Tk, Hkv, Dk] = k.shape;
  const bad = Bk !== B || Dk !== D || v.shape.some((d, i) => d !== k.shape[i]) || Hq % Hkv !== 0;
  if (bad) {
    throw new Error(`${op}: incompatible shapes q ${shapeToString(q.shape)}, k ${shapeToString(k.shape)}, v ${shapeToString(v.shape)} (need q [B,Tq,Hq,D], k=v [B,Tk,Hkv,D], Hq divisible by Hkv)`);
  }
  return { B, Tq, Tk, Hq, Hkv, D };
}

// [doc:attention-op]
/** Fused attention with per-query key ranges. */
export function attention(q: Tensor, k: Tensor, v: Tensor, ranges: KeyRanges, scale?: number): Tensor {
  const d = attentionDims(q, k, v, 'attention');
  const { start, end } = ranges;
  checkInt('attention', 'ranges.start', start); checkInt('attention', 'ranges.end', end);
  checkSameDevice('attention', q, start, end);
  if (start.size !== d.B * d.Tq || end.size !== d.B * d.Tq) {
    throw new Error(`attention: key ranges must have shape [${d.B}, ${d.Tq}], got ${shapeToString(start.shape)} and ${shapeToString(end.shape)}`);
  }
  if (start.device === 'cpu') {
    const s = start.dataSync(), e = end.dataSync();
    for (let i = 0; i < s.length; i++) {
      if (s[i] < 0 || e[i] > d.Tk) throw new Error(`attention: key range [${s[i]}, ${e[i]}) of query ${i} is outside [0, ${d.Tk}]`);
    }
  }
  const dims = { ...d, scale: scale ?? 1 / Math.sqrt(d.D) };
  const be = q.backend;
  const { out, lse } = be.attention(q.storage, k.storage, v.storage, start.storage, end.storage, dims);
  const outT = new Tensor(out, q.shape), lseT = new Tensor(lse, [d.B, d.Hq, d.Tq]);
  return record('attention', outT.sharedStorage(), q.shape, [q, k, v], (g) => {
    const r = be.attentionBackward(q.storage, k.storage, v.storage, outT.storage, lseT.storage, g.storage,
      start.storage, end.storage, dims);
    return [new Tensor(r.dq, q.shape), new Tensor(r.dk, k.shape), new Tensor(r.dv, v.shape)];
  });
}

/**
 * Reference attention with a general boolean mask [B, Tq, Tk] (float 1 = may attend), composed from primitive
 * ops. Masked scores are set to -1e30 (not -Infinity) so a fully masked row gives a uniform distribution,
 * as eager PyTorch does with its float-minimum mask.
 */
export function attentionMasked(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, scale?: number): Tensor {
  const d = attentionDims(q, k, v, 'attentionMasked');
  const group = d.Hq / d.Hkv;
  const s = scale ?? 1 / Math.sqrt(d.D);
  const qh = permute(q, [0, 2, 1, 3]); // [B, Hq, Tq, D]
  // repeat each kv head `group` times: [B, Tk, Hkv, D] -> [B, Hkv, 1, Tk, D] -> [B, Hkv, group, Tk, D] -> [B, Hq, Tk, D]
  const rep = (t: Tensor): Tensor => reshape(
    expand(reshape(permute(t, [0, 2, 1, 3]), [d.B, d.Hkv, 1, d.Tk, d.D]), [d.B, d.Hkv, group, d.Tk, d.D]),
    [d.B, d.Hq, d.Tk, d.D]);
  const kh = rep(k), vh = rep(v);
  const scores = affine(matmul(qh, kh, { transB: true }), s, 0); // [B, Hq, Tq, Tk]
  const m = reshape(mask, [d.B, 1, d.Tq, d.Tk]);
  const p = softmax(where(m, scores, -1e30));
  return permute(matmul(p, vh), [0, 2, 1, 3]); // [B, Tq, Hq, D]
}
