/**
 * AdamW (Loshchilov & Hutter) exactly as PyTorch's torch.optim.AdamW, the optimizer of the BLT paper (§4.8):
 *   p <- p (1 - lr wd)                                  decoupled weight decay, first, with this step's lr
 *   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
 *   p <- p - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 * applied densely to every element (rows with a zero gradient still decay and follow their momentum).
 * Defaults: beta1 0.9, beta2 0.95, eps 1e-8, weight decay 0.1.
 */
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/scope.js';
import { getBackend } from '../backend/backend.js';
import { shapeToString } from '../tensor/shape.js';
import { isHalf } from '../tensor/dtype.js';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  lr: number;
  /** Number of steps taken (t in the bias correction is stepCount after increment). */
  stepCount = 0;
  readonly m: Tensor[];
  readonly v: Tensor[];

  constructor(readonly params: Tensor[], opts: AdamWOptions = {}) {
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.95;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0.1;
    for (const p of params) {
      if (isHalf(p.dtype)) {
        throw new Error(`AdamW: parameter ${p.name ? `'${p.name}' ` : ''}${shapeToString(p.shape)} is ${p.dtype} (16-bit storage); ` +
          `a training step needs float32 parameters: load the checkpoint as float32 (dtype: 'float32') or cast the model first`);
      }
    }
    const zerosLike = (p: Tensor): Tensor => keep(new Tensor(getBackend(p.device).full(p.size, p.dtype, 0), p.shape));
    this.m = params.map(zerosLike);
    this.v = params.map(zerosLike);
  }

  // [doc:adamw-step]
  /**
   * One update. `gradScale` multiplies every gradient first (the clip coefficient from clipGradNorm).
   * A parameter without a gradient is an error: in BLT every trained tensor receives one (possibly zero).
   */
  step(opts: { lr?: number; gradScale?: number } = {}): void {
    const lr = opts.lr ?? this.lr;
    const gradScale = opts.gradScale ?? 1;
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`AdamW.step: learning rate must be a finite number >= 0, got ${lr}`);
    if (!Number.isFinite(gradScale)) throw new Error(`AdamW.step: gradScale must be finite, got ${gradScale}`);
    this.stepCount++;
    this.params.forEach((p, i) => {
      if (p.grad === null) throw new Error(`AdamW.step: parameter ${p.name ?? i} ${shapeToString(p.shape)} has no gradient (call backward first)`);
      getBackend(p.device).adamwStep(p.storage, p.grad.storage, this.m[i].storage, this.v[i].storage, {
        lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay,
        step: this.stepCount, gradScale,
      });
    });
  }

  zeroGrad(): void {
    for (const p of this.params) { p.grad?.dispose(); p.grad = null; }
  }
}
