// Every way a weight's values change in place reaches the next CPU matmul. The CPU backend keeps packed copies of
// matmul weights (src/backend/cpu/kernels/wasm/packed-b-cache.ts) that are valid only while the weight's array is
// unchanged; each write below must go through a path that drops them (Backend.copyInto or adamwStep). Each case
// multiplies by W twice (the second product is served from the packed copy), changes W, and multiplies again:
// the result must have the bits of a product with a fresh Linear holding W's new values.
import { describe, expect, it } from 'vitest';
import { ops, Rng, Linear, AdamW, backward, Tensor } from '../../src/index.js';

const IN = 24, OUT = 40;

function product(layer: Linear, x: Tensor): Float32Array {
  return layer.forward(x).dataSync() as Float32Array; // [1, OUT]
}

/** The product with a new Linear whose weight holds `values` (a new array: never packed before). */
function freshProduct(values: Float32Array, x: Tensor): Float32Array {
  const layer = new Linear(IN, OUT, { rng: new Rng(99) });
  layer.weight = ops.tensor(values.slice(), [OUT, IN]);
  return product(layer, x);
}

function warmed(seed: number): { layer: Linear; x: Tensor } {
  const layer = new Linear(IN, OUT, { rng: new Rng(seed) });
  const x = ops.rand([1, IN], new Rng(seed + 1), -1, 1);
  product(layer, x);
  product(layer, x); // W is packed and cached now
  return { layer, x };
}

describe('in-place writes to a weight and the packed-weight cache', () => {
  it('loadStateDict with tensors or with host values', () => {
    for (const asTensor of [true, false]) {
      const { layer, x } = warmed(1);
      const next = ops.rand([OUT, IN], new Rng(7), -1, 1);
      const values = next.dataSync() as Float32Array;
      layer.loadStateDict(new Map([['weight', asTensor ? next : { shape: [OUT, IN], data: values }]]));
      expect(Buffer.from(product(layer, x).buffer).equals(Buffer.from(freshProduct(values, x).buffer)), `as tensor: ${asTensor}`).toBe(true);
    }
  });

  it('an AdamW step', () => {
    const { layer, x } = warmed(3);
    layer.weight.requiresGrad = true;
    backward(ops.sum(layer.forward(x)));
    new AdamW([layer.weight], { lr: 0.1, weightDecay: 0 }).step();
    const values = (layer.weight.dataSync() as Float32Array).slice();
    expect(Buffer.from(product(layer, x).buffer).equals(Buffer.from(freshProduct(values, x).buffer))).toBe(true);
  });
});
