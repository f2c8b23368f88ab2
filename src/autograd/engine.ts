/**
 * Reverse-mode automatic differentiation.
 *
 * Every op that may need a gradient calls `record(...)`, which attaches a GradNode to its output: the inputs
 * and a closure computing their gradients from the output's gradient (written next to the op's forward, as
 * micrograd does). `backward(loss)`:
 *   1. orders the graph topologically with an explicit stack (no recursion, so 100-layer graphs are fine);
 *   2. walks it from the loss to the leaves, calling each node's closure exactly once, *summing* gradients
 *      where a tensor feeds several ops (the multivariate chain rule);
 *   3. adds each leaf's total into `leaf.grad` (accumulating across calls, like PyTorch; see zeroGrad);
 *   4. releases the graph (nodes are dropped, so saved tensors can be freed).
 */
import { Tensor, type SharedStorage } from '../tensor/tensor.js';
import type { Storage } from '../backend/backend.js';
import type { Shape } from '../tensor/shape.js';
import { sameShape, shapeToString } from '../tensor/shape.js';
import { isGradEnabled, noGrad } from './grad-mode.js';
import { keep } from '../tensor/scope.js';

// [doc:record]
/**
 * Wraps an op's output storage in a Tensor and, if grad mode is on and some input requires grad,
 * attaches the node that knows how to send gradients back to the inputs.
 */
export function record(op: string, storage: Storage | SharedStorage, shape: Shape, inputs: Tensor[],
  backward: (gradOut: Tensor) => (Tensor | null)[]): Tensor {
  const needsGrad = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const out = new Tensor(storage, shape, needsGrad);
  if (needsGrad) out.node = { op, inputs, backward };
  return out;
}

// [doc:backward]
/**
 * Back-propagates from `root`. A non-scalar root needs an explicit seed gradient of the same shape.
 * `add` is injected (instead of imported) to keep this file free of op imports.
 */
export function backward(root: Tensor, seed: Tensor | null, add: (a: Tensor, b: Tensor) => Tensor,
  onesLike: (t: Tensor) => Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(`backward: the tensor ${shapeToString(root.shape)} does not require grad (no parameter with requiresGrad reaches it)`);
  }
  if (seed === null && root.size !== 1) {
    throw new Error(`backward: root has shape ${shapeToString(root.shape)}; a non-scalar root needs an explicit seed gradient`);
  }
  if (seed !== null && !sameShape(seed.shape, root.shape)) {
    throw new Error(`backward: seed shape ${shapeToString(seed.shape)} differs from root shape ${shapeToString(root.shape)}`);
  }

  // 1. Topological order by iterative depth-first search (post-order).
  const order: Tensor[] = [];
  const visited = new Set<number>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root.id);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i];
      if (child.requiresGrad && !visited.has(child.id)) {
        visited.add(child.id);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }

  noGrad(() => {
    // 2. Reverse order: every consumer of a tensor is processed before the tensor itself.
    const grads = new Map<number, Tensor>();
    grads.set(root.id, seed ?? onesLike(root));
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const g = grads.get(t.id);
      if (g === undefined) continue;
      const node = t.node;
      if (node === null) {
        // 3. A leaf: accumulate into .grad.
        // (a fresh Tensor over g's storage: g itself may be disposed by the caller's scope)
        const old = t.grad;
        t.grad = keep(old === null ? g.withShape(g.shape) : add(old, g));
        old?.dispose();
        continue;
      }
      const inGrads = node.backward(g);
      node.inputs.forEach((inp, j) => {
        const gi = inGrads[j];
        if (!inp.requiresGrad || gi === null || gi === undefined) return;
        if (!sameShape(gi.shape, inp.shape)) {
          throw new Error(`backward: op '${node.op}' produced a gradient of shape ${shapeToString(gi.shape)} for an input of shape ${shapeToString(inp.shape)}`);
        }
        const prev = grads.get(inp.id);
        grads.set(inp.id, prev === undefined ? gi : add(prev, gi));
      });
    }
    // 4. Release the graph.
    for (const t of order) t.node = null;
  });
}
