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
  // Queue every sum of squares first and read them back together: one GPU round trip instead of one per tensor.
  const withGrad = params.filter((p) => p.grad !== null);
  const sums = withGrad.map((p) => getBackend(p.device).sumSquares(p.grad!.storage));
  const values = await Promise.all(sums.map((s, i) => getBackend(withGrad[i].device).download(s)));
  sums.forEach((s, i) => getBackend(withGrad[i].device).dispose(s));
  let total = 0;
  for (const [i, p] of withGrad.entries()) {
    const sq = values[i][0];
    // A NaN or infinite gradient must stop training, not silently poison every weight through AdamW.
    if (!Number.isFinite(sq)) {
      throw new Error(`clipGradNorm: the gradient of parameter ${p.name ?? `#${params.indexOf(p)}`} [${p.shape}] is not finite (sum of squares ${sq})`);
    }
    total += sq; // in parameter order, so the norm does not depend on read-back timing
  }
  const norm = Math.sqrt(total);
  return { norm, coef: Math.min(1, maxNorm / (norm + 1e-6)) };
}
