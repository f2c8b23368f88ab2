// devices.spec.ts — moving tensors and modules between 'cpu' and 'webgpu', and the errors for mixing them.
// Copies are byte copies (queue writes and buffer copies, no arithmetic), so round trips are bit-exact for
// every float32 pattern (NaN payloads, ±0, ±Inf, subnormals) and every int32. Ops never copy implicitly:
// an op given tensors on two devices throws an Error naming the op and both devices.

import { describe, expect, it } from 'vitest';
import * as ops from '../../../src/ops/index.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { scope } from '../../../src/tensor/scope.js';
import { moduleToCpu } from '../../../src/nn/module.js';
import { Blt } from '../../../src/blt/blt.js';
import { tinyConfig } from '../../../src/blt/config/shapes.js';
import { causalRanges } from '../../../src/nn/transformer.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';

useWebGpuBackend(); // the installed backend for this file (device "webgpu")

/** Every float32 bit pattern class: zeros, subnormals, normals, extremes, infinities, NaNs with payloads. */
function specialF32(): Float32Array {
  const bits = Uint32Array.from([
    0x00000000, 0x80000000, 0x00000001, 0x807fffff, 0x00800000, 0x3f800000, 0xbf800001, 0x7f7fffff, 0xff7fffff,
    0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc12345, 0x3eaaaaab, 0x4b800001,
  ]);
  return new Float32Array(bits.buffer);
}
const bitsOf = (a: Float32Array | Int32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe.runIf(RUN_WEBGPU)("Tensor.to('webgpu') and back", () => {
  it('round trips float32 and int32 tensors bit-exactly, for every shape kind', async () => {
    const cases: [Float32Array | Int32Array, number[]][] = [
      [specialF32(), [4, 4]],
      [Int32Array.from([0, -1, 1, 2147483647, -2147483648, 259, -100]), [7]],
      [Float32Array.of(3.25), []],                        // a scalar
      [new Float32Array(0), [2, 0, 3]],                   // empty
      [Float32Array.from({ length: 3 * 5 * 7 }, (_, i) => Math.sin(i) * 1e3), [3, 5, 7]],
    ];
    for (const [data, shape] of cases) {
      const cpu = ops.tensor(data, shape);
      const gpu = await cpu.to('webgpu');
      expect(gpu.device).toBe('webgpu');
      expect(gpu.shape).toEqual(shape);
      expect(gpu.dtype).toBe(cpu.dtype);
      expect(gpu).not.toBe(cpu);
      const back = await gpu.to('cpu');
      expect(back.device).toBe('cpu');
      expect(back.shape).toEqual(shape);
      expect(back.dtype).toBe(cpu.dtype);
      expect(bitsOf(back.dataSync() as Float32Array | Int32Array)).toEqual(bitsOf(data));
      expect(bitsOf(await gpu.data() as Float32Array | Int32Array)).toEqual(bitsOf(data));
      expect(await back.to('cpu')).toBe(back); // same device: no copy
      expect(await gpu.to('webgpu')).toBe(gpu);
    }
  });

  it('to() is differentiable: a webgpu leaf read on the cpu gets its gradient back on webgpu', async () => {
    const x = ops.tensor([1, -2, 3, 0.5], [2, 2], { device: 'webgpu', requiresGrad: true });
    const onCpu = await x.to('cpu');
    const loss = ops.sum(ops.mul(onCpu, onCpu)); // d/dx = 2x
    ops.backward(loss);
    expect(x.grad!.device).toBe('webgpu');
    expect(Array.from(await x.grad!.data())).toEqual([2, -4, 6, 1]);
  });

  it('a cpu leaf copied to webgpu refuses to back-propagate synchronously, with an explanation', async () => {
    const x = ops.tensor([1, 2], [2], { requiresGrad: true });
    const loss = ops.sum(await x.to('webgpu'));
    expect(() => ops.backward(loss)).toThrow(/gradient of a CPU->webgpu copy must be read back asynchronously/);
  });

  it('float64 cannot go to webgpu, and host reads of webgpu tensors must be async: clear errors', async () => {
    const f64 = ops.tensor(Float64Array.of(1, 2), [2]);
    await expect(f64.to('webgpu')).rejects.toThrow(/float64 is not supported on WebGPU/);
    const g = ops.tensor([1, 2, 3], [3], { device: 'webgpu' });
    expect(() => g.dataSync()).toThrow(/is on 'webgpu'; use 'await t\.data\(\)'/);
    expect(() => ops.tensor([7], [1], { device: 'webgpu' }).item()).toThrow(/await t\.data\(\)/);
    expect(String(g)).toBe('Tensor(shape=[3], dtype=float32, device=webgpu)');
    g.dispose();
    expect(() => g.storage).toThrow(/was disposed/);
    await expect(g.data()).rejects.toThrow(/was disposed/);
  });
});

describe.runIf(RUN_WEBGPU)('mixed devices', () => {
  it('every multi-input op refuses a cpu/webgpu mix, naming the op and both devices', () => {
    const c = (shape: number[]) => ops.full(shape, 0.5);
    const g = (shape: number[]) => ops.full(shape, 0.5, { device: 'webgpu' });
    const ci = (data: number[]) => ops.tensor(Int32Array.from(data), [data.length]);
    const gi = (data: number[]) => ops.tensor(Int32Array.from(data), [data.length], { device: 'webgpu' });
    const q = g([1, 2, 2, 4]);
    const cases: [string, () => unknown][] = [
      ['add', () => ops.add(c([2, 3]), g([2, 3]))],
      ['sub', () => ops.sub(g([2, 3]), c([3]))],
      ['mul', () => ops.mul(c([1]), g([2, 3]))],
      ['div', () => ops.div(g([2]), c([2]))],
      ['maximum', () => ops.maximum(c([2]), g([2]))],
      ['where', () => ops.where(c([2]), g([2]), g([2]))],
      ['matmul', () => ops.matmul(g([2, 3]), c([3, 4]))],
      ['concat', () => ops.concat([g([2]), c([2])])],
      ['embedding', () => ops.embedding(g([5, 3]), ci([0, 4]))],
      ['pickLast', () => ops.pickLast(c([2, 3]), gi([0, 1]))],
      ['segmentMax', () => ops.segmentMax(g([2, 3]), ci([0, 0]), 1)],
      ['crossEntropy', () => ops.crossEntropy(g([2, 5]), ci([0, 4]))],
      ['rmsNorm', () => ops.rmsNorm(g([2, 3]), c([3]), 1e-5)],
      ['rope', () => ops.rope(q, ci([0, 1]), 10000)],
      ['attention', () => ops.attention(q, c([1, 2, 2, 4]), q, causalRanges(1, 2, null, 'webgpu'))],
      ['attention', () => ops.attention(q, q, q, causalRanges(1, 2, null, 'cpu'))],
    ];
    for (const [op, call] of cases) {
      expect(() => scope(call), op).toThrow(new RegExp(`^${op}: inputs are on different devices \\(.*(cpu.*webgpu|webgpu.*cpu).*move them with \\.to\\(\\) first`));
    }
  });

  it('a BLT on webgpu rejects a device tensor of ids (hashing and patching run on the host)', () => {
    const model = new Blt(tinyConfig(), { seed: 0 }).to('webgpu');
    const ids = ops.tensor(Int32Array.of(1, 72, 105), [1, 3], { device: 'webgpu' });
    expect(() => model.forwardWithPatches(ids, [[1, 1, 1]])).toThrow(/must be a CPU tensor .*got 'webgpu'/);
  });
});

describe.runIf(RUN_WEBGPU)('Module.to and moduleToCpu', () => {
  it('move every tensor of a BLT to webgpu and back bit-exactly, keeping names, shapes and trainability', async () => {
    const model = new Blt(tinyConfig(), { seed: 4 });
    const before = model.namedTensors().map(([n, t]) => [n, [...t.shape], t.requiresGrad, bitsOf(t.dataSync() as Float32Array)] as const);
    const oldTensor = model.lm_head.weight;
    model.to('webgpu');
    expect(oldTensor.disposed).toBe(true);
    const onGpu = model.namedTensors();
    expect(onGpu.every(([, t]) => t.device === 'webgpu' && t.kept)).toBe(true);
    expect(() => model.to('cpu')).toThrow(/needs 'await moduleToCpu\(module\)'/);
    await moduleToCpu(model);
    const after = model.namedTensors().map(([n, t]) => [n, [...t.shape], t.requiresGrad, bitsOf(t.dataSync() as Float32Array)] as const);
    expect(after).toEqual(before);
    expect(onGpu.every(([, t]) => t.disposed)).toBe(true); // the GPU copies were released
    expect(model.namedTensors().every(([, t]) => t instanceof Tensor && t.device === 'cpu')).toBe(true);
  });
});
