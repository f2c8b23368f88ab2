/**
 * Basic layers: Linear (weight [out, in] as in PyTorch, y = x W^T + b), Embedding, RMSNorm, and the
 * SwiGLU feed-forward (Shazeer 2020, as in Llama). Field names follow Hugging Face so state-dict keys match checkpoints.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module, parameter } from './module.js';
import { initWeight } from './init.js';
import * as ops from '../ops/index.js';

export interface InitOptions {
  rng?: Rng;
  /** Standard deviation of the (truncated at 3 std) normal init; default in^-1/2 (Meta's init). */
  std?: number;
}

export class Linear extends Module {
  weight: Tensor;
  bias?: Tensor;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: InitOptions & { bias?: boolean } = {}) {
    super();
    const rng = opts.rng ?? new Rng(0);
    this.weight = parameter(initWeight([outFeatures, inFeatures], rng, opts.std ?? inFeatures ** -0.5)); // [out, in]
    if (opts.bias) this.bias = parameter(ops.zeros([outFeatures]));
  }

  /** x [..., in] -> [..., out] */
  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(`Linear(${this.inFeatures} -> ${this.outFeatures}): input has last dim ${x.shape[x.rank - 1]} (shape [${x.shape}])`);
    }
    const lead = x.shape.slice(0, -1);
    const x2 = ops.reshape(x, [-1, this.inFeatures]);                   // [N, in]
    let y = ops.matmul(x2, this.weight, { transB: true });              // [N, out] = x W^T
    if (this.bias) y = ops.add(y, this.bias);
    return ops.reshape(y, [...lead, this.outFeatures]);                 // [..., out]
  }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly dim: number, opts: InitOptions = {}) {
    super();
    this.weight = parameter(initWeight([numEmbeddings, dim], opts.rng ?? new Rng(0), opts.std ?? dim ** -0.5)); // [V, D]
  }

  /** ids int32 [...] -> [..., D] */
  forward(ids: Tensor): Tensor {
    return ops.embedding(this.weight, ids);
  }
}

export class RMSNorm extends Module {
  weight: Tensor;
  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = parameter(ops.ones([dim]));
  }

  forward(x: Tensor): Tensor {
    return ops.rmsNorm(x, this.weight, this.eps);
  }
}

// [doc:swiglu]
/** SwiGLU feed-forward: FFN(x) = W2 (SiLU(W1 x) ⊙ W3 x); HF names gate=W1, up=W3, down=W2. */
export class SwiGLU extends Module {
  gate_proj: Linear;
  up_proj: Linear;
  down_proj: Linear;
  constructor(dim: number, hidden: number, opts: InitOptions = {}) {
    super();
    this.gate_proj = new Linear(dim, hidden, opts);
    this.up_proj = new Linear(dim, hidden, opts);
    this.down_proj = new Linear(hidden, dim, { ...opts, std: opts.std === undefined ? undefined : hidden ** -0.5 });
  }

  forward(x: Tensor): Tensor {
    return this.down_proj.forward(ops.swiglu(this.gate_proj.forward(x), this.up_proj.forward(x)));
  }
}
