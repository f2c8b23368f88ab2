/**
 * Autograd engine behaviour: fan-out accumulation, deep graphs (iterative topological sort), noGrad, detach,
 * zeroGrad, graph release, seeds for non-scalar roots, and memory scopes.
 */
import { describe, it, expect } from 'vitest';
import { ops, backward, noGrad, scope, keep, Tensor } from '../../src/index.js';

describe('autograd', () => {
  it('accumulates gradients where a tensor is used twice (diamond)', () => {
    const x = ops.tensor([3], undefined, { requiresGrad: true, dtype: 'float64' });
    const y = ops.add(ops.mul(x, x), ops.mul(x, 2)); // y = x^2 + 2x, dy/dx = 2x + 2 = 8
    backward(ops.sum(y));
    expect(x.grad!.item()).toBe(8);
  });

  it('handles 1000-op deep chains and 100-layer residual graphs without recursion', () => {
    const x = ops.tensor([0.5], undefined, { requiresGrad: true, dtype: 'float64' });
    let h = x;
    for (let i = 0; i < 1000; i++) h = ops.mul(h, 1.001);
    backward(ops.sum(h));
    expect(Math.abs(x.grad!.item() - 1.001 ** 1000)).toBeLessThan(1e-9);

    const w = ops.tensor([[0.01, 0], [0, 0.01]], undefined, { requiresGrad: true, dtype: 'float64' });
    let r: Tensor = ops.tensor([[1, 2]], undefined, { dtype: 'float64' });
    for (let l = 0; l < 100; l++) r = ops.add(r, ops.tanh(ops.matmul(r, w))); // residual stack: 2^100 paths
    backward(ops.sum(r));
    expect(Number.isFinite(w.grad!.dataSync()[0])).toBe(true);
  });

  it('accumulates across backward calls until zeroGrad, and releases the graph', () => {
    const x = ops.tensor([2], undefined, { requiresGrad: true, dtype: 'float64' });
    const y = ops.sum(ops.mul(x, x));
    backward(y);
    expect(y.node).toBeNull(); // released
    backward(ops.sum(ops.mul(x, x)));
    expect(x.grad!.item()).toBe(8);
    x.grad = null;
    backward(ops.sum(ops.mul(x, 3)));
    expect(x.grad!.item()).toBe(3);
  });

  it('noGrad and detach build no graph', () => {
    const x = ops.tensor([1, 2], undefined, { requiresGrad: true });
    const y = noGrad(() => ops.mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.node).toBeNull();
    const d = ops.mul(x, 2).detach();
    expect(d.requiresGrad).toBe(false);
    const z = ops.add(ops.mul(d, x), 0);
    backward(ops.sum(z));
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 4]); // d/dx (d * x) with d constant = d
  });

  it('non-scalar roots take an explicit seed', () => {
    const x = ops.tensor([1, 2, 3], undefined, { requiresGrad: true });
    backward(ops.mul(x, x), ops.tensor([1, 0, 2]));
    expect(Array.from(x.grad!.dataSync())).toEqual([2, 0, 12]);
  });

  it('unused inputs get no gradient; inputs without requiresGrad are skipped', () => {
    const a = ops.tensor([1], undefined, { requiresGrad: true });
    const b = ops.tensor([1], undefined, { requiresGrad: true });
    const c = ops.tensor([5]);
    backward(ops.sum(ops.mul(a, c)));
    expect(a.grad!.item()).toBe(5);
    expect(b.grad).toBeNull();
    expect(c.grad).toBeNull();
  });

  it('scope disposes intermediates, keeps returned and kept tensors, and reshape views share storage safely', () => {
    const kept = keep(ops.ones([2]));
    let inner: Tensor | null = null;
    const out = scope(() => {
      inner = ops.exp(kept);
      const v = ops.reshape(inner, [2, 1]);
      return { v };
    });
    expect(inner!.disposed).toBe(true);
    expect(out.v.disposed).toBe(false);
    expect(Array.from(out.v.dataSync()).map((x) => +x.toFixed(4))).toEqual([2.7183, 2.7183]); // storage still alive
    expect(kept.disposed).toBe(false);
  });

  it('pretty printing shows shape and dtype', () => {
    const s = ops.tensor([[1, 2.5], [3, 4]]).toString();
    expect(s).toContain('shape=[2, 2], dtype=float32, device=cpu');
    expect(s).toContain('[[1, 2.500],\n [3, 4]]');
  });
});
