/**
 * Finite-difference gradient checking in float64.
 *
 * For inputs x_1..x_k and a function f, the scalar probe L = sum(f(x) * R) with a fixed random R makes every
 * output element matter. The analytic gradient (backward) is compared with central differences
 *   dL/dx_i ≈ (L(x + h e_i) - L(x - h e_i)) / (2h).
 * Error model (float64, h = 1e-5): truncation error ~ h^2 |L'''| / 6 ≈ 1e-10 for our O(1) test functions;
 * rounding error ~ eps64 |L| / h ≈ 2e-16 * 10 / 1e-5 = 2e-10. Hence atol 1e-6 + rtol 1e-5 leaves a margin of
 * ~1000x while any wrong backward formula (errors of order |g|) fails.
 */
import { Tensor } from '../../src/tensor/tensor.js';
import * as ops from '../../src/ops/index.js';
import { backward } from '../../src/ops/index.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import type { Rng } from '../../src/tensor/random.js';

export interface GradcheckResult {
  maxAbsErr: number;
  worst: string;
}

export function randomTensor64(shape: number[], rng: Rng, lo = -2, hi = 2): Tensor {
  return ops.rand(shape, rng, lo, hi, { dtype: 'float64', requiresGrad: true });
}

export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], rng: Rng, h = 1e-5, atol = 1e-6, rtol = 1e-5): GradcheckResult {
  for (const x of inputs) { x.grad = null; }
  const out = f(...inputs);
  const R = ops.rand(out.shape as number[], rng, -1, 1, { dtype: 'float64' });
  const probe = (): number => noGrad(() => ops.sum(ops.mul(f(...inputs), R)).item());
  backward(ops.sum(ops.mul(out, R)));
  let maxAbsErr = 0;
  let worst = '';
  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    const data = x.dataSync() as Float64Array;
    const g = x.grad === null ? new Float64Array(data.length) : x.grad.dataSync();
    for (let i = 0; i < data.length; i++) {
      const old = data[i];
      data[i] = old + h; const lp = probe();
      data[i] = old - h; const lm = probe();
      data[i] = old;
      const num = (lp - lm) / (2 * h);
      const err = Math.abs(num - g[i]);
      if (err > atol + rtol * Math.abs(num)) {
        throw new Error(`gradcheck: input ${k} [${x.shape}] element ${i}: analytic ${g[i]} vs numeric ${num}`);
      }
      if (err > maxAbsErr) { maxAbsErr = err; worst = `input ${k} element ${i}`; }
    }
  });
  return { maxAbsErr, worst };
}
