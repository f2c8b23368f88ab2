/**
 * Moving tensors between devices. Explicit only: ops refuse inputs on different devices.
 * `to` is differentiable: the gradient travels back to the source device.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { getBackend } from '../backend/backend.js';
import type { Device } from '../tensor/dtype.js';

/**
 * Copies x to `device`. Reading from WebGPU to the CPU is asynchronous, so use `await toDevice(x, 'cpu')`
 * (or `await x.data()`); uploads to the GPU are synchronous.
 */
export async function toDevice(x: Tensor, device: Device): Promise<Tensor> {
  if (x.device === device) return x;
  const host = await x.data();
  return upload(x, host, device);
}

/** Synchronous move for CPU -> device (uploads). */
export function toDeviceSync(x: Tensor, device: Device): Tensor {
  if (x.device === device) return x;
  if (x.device !== 'cpu') {
    throw new Error(`toDeviceSync: cannot read a '${x.device}' tensor synchronously; use 'await toDevice(x, "${device}")'`);
  }
  return upload(x, x.dataSync(), device);
}

function upload(x: Tensor, host: ArrayLike<number> & Iterable<number>, device: Device): Tensor {
  const storage = getBackend(device).upload(host as Float32Array);
  return record('to', storage, x.shape, [x], (g) => {
    if (g.device === 'cpu' || x.device !== 'cpu') return [toDeviceSync(g, x.device)];
    throw new Error(`to: the gradient of a CPU->${device} copy must be read back asynchronously; keep parameters on the device they train on`);
  });
}
