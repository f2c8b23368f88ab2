/**
 * Weight initialisation, and building a model as shapes only.
 *
 * Layers draw their weights with `initWeight(shape, rng, std)`: a normal of standard deviation `std` truncated at
 * 3 std (the reference initialisation). Given the `ShapesOnly` generator instead of an Rng, nothing is drawn or
 * allocated: each weight is a placeholder tensor of the right shape that remembers its std and holds no values
 * (PyTorch calls this building on the "meta" device). A checkpoint loader builds a model this way, checks every
 * key against it and replaces each placeholder with the tensor it reads (src/blt/checkpoint.ts), so loading a
 * 4.5B-parameter model never allocates a float32 copy of it; `blt init` uses the stds to draw a random checkpoint
 * tensor by tensor. Small weights made with ops.ones (norm scales) are allocated as usual.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Storage } from '../backend/backend.js';
import type { Shape } from '../tensor/shape.js';
import { sizeOf, shapeToString } from '../tensor/shape.js';
import * as ops from '../ops/index.js';

/** A generator that draws nothing: weights made with it are placeholders (see the header). */
export class ShapesOnly extends Rng {
  constructor() {
    super(0);
  }
}

/** How a placeholder would have been drawn: truncated normal N(0, std²) cut at ±3 std. */
export interface InitSpec {
  std: number;
}

/** Storage of a placeholder: its length and init, and no values (reading them is an error naming the shape). */
export class PlaceholderStorage implements Storage {
  readonly device = 'cpu' as const;
  readonly dtype = 'float32' as const;
  constructor(readonly length: number, readonly init: InitSpec, private readonly shape: Shape) {}
  get data(): never {
    throw new Error(`tensor ${shapeToString(this.shape)} was built shapes-only (nn/init.ts ShapesOnly) and holds no values; ` +
      `load a checkpoint into the model first`);
  }
}

/** A weight of `shape` ~ truncated normal (std, cut at 3 std) from `rng`, or a placeholder when rng is ShapesOnly. */
export function initWeight(shape: Shape, rng: Rng, std: number): Tensor {
  if (rng instanceof ShapesOnly) return new Tensor(new PlaceholderStorage(sizeOf(shape), { std }, shape), shape);
  return ops.truncNormal(shape, rng, std);
}

/** The init of a placeholder tensor, or null for a tensor with values. */
export function placeholderInit(t: Tensor): InitSpec | null {
  const s = t.sharedStorage().storage;
  return s instanceof PlaceholderStorage ? s.init : null;
}
