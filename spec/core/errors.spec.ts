/**
 * Bad input gives an Error whose message names the op and the offending shapes, dtypes or values.
 */
import { describe, it, expect } from 'vitest';
import { ops, Tensor, Rng, backward, Linear, parameter, clipGradNorm, AdamW } from '../../src/index.js';

const f = (shape: number[]): Tensor => ops.zeros(shape);
const ids = (v: number[]): Tensor => ops.tensor(new Int32Array(v), [v.length]);

describe('clear errors', () => {
  it('incompatible shapes', () => {
    expect(() => ops.add(f([2, 3]), f([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    expect(() => ops.matmul(f([2, 3]), f([4, 5]))).toThrow(/matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\] \(3 vs 4\)/);
    expect(() => ops.matmul(f([3]), f([3, 3]))).toThrow(/matmul: both inputs need rank >= 2/);
    expect(() => ops.reshape(f([2, 3]), [4, 2])).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, 2\]/);
    expect(() => ops.concat([f([2, 3]), f([2, 4])], 0)).toThrow(/concat: shapes \[2, 3\], \[2, 4\] differ outside axis 0/);
    expect(() => ops.narrow(f([2, 3]), 1, 2, 2)).toThrow(/narrow: range \[2, 4\) is out of bounds for axis 1 of \[2, 3\]/);
    expect(() => ops.sum(f([2, 3]), 2)).toThrow(/sum: axis 2 is out of range for a tensor of rank 2/);
    expect(() => ops.rmsNorm(f([2, 3]), f([4]), 1e-5)).toThrow(/rmsNorm: weight \[4\] does not match the last axis of \[2, 3\]/);
    expect(() => ops.attention(f([1, 2, 2, 4]), f([1, 3, 2, 8]), f([1, 3, 2, 8]), { start: ids([0, 0]), end: ids([1, 2]) }))
      .toThrow(/attention: incompatible shapes q \[1, 2, 2, 4\], k \[1, 3, 2, 8\]/);
    expect(() => new Linear(4, 2, { rng: new Rng(0) }).forward(f([3, 5]))).toThrow(/Linear\(4 -> 2\): input has last dim 5/);
  });

  it('out-of-range indices', () => {
    expect(() => ops.embedding(f([5, 2]), ids([0, 5]))).toThrow(/embedding: index 5 at position 1 is out of range \[0, 5\)/);
    expect(() => ops.embedding(f([5, 2]), ids([-1]))).toThrow(/embedding: index -1 at position 0 is out of range/);
    expect(() => ops.crossEntropy(f([2, 4]), ids([1, 4]))).toThrow(/crossEntropy: target 4 at position 1 is out of range \[0, 4\)/);
    expect(() => ops.segmentMax(f([2, 2]), ids([0, 3]), 2)).toThrow(/segmentMax: segment id 3 at row 1 is out of range \[-1, 2\)/);
    expect(() => ops.attention(f([1, 2, 1, 4]), f([1, 3, 1, 4]), f([1, 3, 1, 4]), { start: ids([0, 0]), end: ids([1, 4]) }))
      .toThrow(/attention: key range \[0, 4\) of query 1 is outside \[0, 3\]/);
  });

  it('wrong dtypes', () => {
    expect(() => ops.exp(ids([1, 2]))).toThrow(/exp: expected a float tensor, got int32 \[2\]/);
    expect(() => ops.embedding(f([5, 2]), f([2]))).toThrow(/embedding: ids must be int32, got float32 \[2\]/);
    expect(() => ops.add(f([2]), ops.zeros([2], { dtype: 'float64' }))).toThrow(/add: dtype mismatch \(float32 vs float64\)/);
  });

  it('NaN where it must not occur, and misuse of the graph', () => {
    expect(() => ops.tensor([1, 2], [3])).toThrow(/tensor: 2 values do not fit shape \[3\]/);
    const x = ops.tensor([1, 2], undefined, { requiresGrad: true });
    expect(() => backward(ops.mul(x, 2))).toThrow(/backward: root has shape \[2\]; a non-scalar root needs an explicit seed gradient/);
    expect(() => backward(ops.sum(ops.zeros([2])))).toThrow(/backward: the tensor \[\] does not require grad/);
    const t = ops.zeros([2]);
    t.dispose();
    expect(() => ops.exp(t)).toThrow(/was disposed and cannot be used/);
    expect(() => t.dataSync()).toThrow(/disposed/);
  });

  it('NaN gradients and NaN hyper-parameters are refused by the optimizer path', async () => {
    const p = parameter(ops.tensor([1, 2]));
    p.name = 'layers.0.w';
    backward(ops.sum(ops.mul(p, ops.tensor([NaN, 1]))));
    await expect(clipGradNorm([p], 1)).rejects.toThrow(/clipGradNorm: the gradient of parameter layers\.0\.w \[2\] is not finite/);
    const opt = new AdamW([p]);
    expect(() => opt.step({ lr: NaN })).toThrow(/AdamW.step: learning rate must be a finite number >= 0, got NaN/);
  });
});
