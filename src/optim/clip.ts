/**
 * Global gradient-norm clipping, as torch.nn.utils.clip_grad_norm_:
 *   total = sqrt(sum over all parameters and elements of g^2)
 *   coef  = min(1, maxNorm / (total + 1e-6))
 * Returns the coefficient instead of rescaling in place; pass it to AdamW.step({ gradScale: coef }).
 */
import type { Tensor } from '../tensor/tensor.js';
import { getBackend } from '../backend/backend.js';

// [doc:clip]
export async function clipGradNorm(params: Tensor[], maxNorm: number): Promise<{ norm: number; coef: number }> {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be a positive number, got ${maxNorm}`);
  let total = 0;
  for (const [i, p] of params.entries()) {
    if (p.grad === null) continue;
    const be = getBackend(p.device);
    const s = be.sumSquares(p.grad.storage);
    const sq = (await be.download(s))[0];
    be.dispose(s);
    // A NaN or infinite gradient must stop training, not silently poison every weight through AdamW.
    if (!Number.isFinite(sq)) {
      throw new Error(`clipGradNorm: the gradient of parameter ${p.name ?? `#${i}`} [${p.shape}] is not finite (sum of squares ${sq})`);
    }
    total += sq;
  }
  const norm = Math.sqrt(total);
  return { norm, coef: Math.min(1, maxNorm / (norm + 1e-6)) };
}
