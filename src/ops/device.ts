/**
 * Moving tensors between devices. Explicit only: ops refuse inputs on different devices.
 * `to` is differentiable: the gradient travels back to the source device.
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { getBackend } from '../backend/backend.js';
import { isHalf, type Device } from '../tensor/dtype.js';
import { float32ToHalf } from '../tensor/half.js';

/**
 * Copies x to `device`. Reading from WebGPU to the CPU is asynchronous, so use `await toDevice(x, 'cpu')`
 * (or `await x.data()`); uploads to the GPU are synchronous.
 */
export async function toDevice(x: Tensor, device: Device): Promise<Tensor> {
  if (x.device === device) return x;
  if (x.device === 'cpu') return toDeviceSync(x, device);
  const host = await x.data(); // a 16-bit tensor comes back as its float32 values, re-encoded exactly by upload
  return upload(x, host, device);
}

/** Synchronous move for CPU -> device (uploads). */
export function toDeviceSync(x: Tensor, device: Device): Tensor {
  if (x.device === device) return x;
  if (x.device !== 'cpu') {
    throw new Error(`toDeviceSync: cannot read a '${x.device}' tensor synchronously; use 'await toDevice(x, "${device}")'`);
  }
  return upload(x, isHalf(x.dtype) ? x.halfBits() : x.dataSync(), device);
}

/** x's values (or, for a 16-bit x, its words or its float32 values) as new storage on `device`, recorded as 'to'. */
function upload(x: Tensor, host: Float32Array | Float64Array | Int32Array | Uint16Array, device: Device): Tensor {
  const be = getBackend(device);
  const storage = !isHalf(x.dtype) ? be.upload(host as Float32Array)
    : be.uploadHalf(host instanceof Uint16Array ? host : float32ToHalf(x.dtype, host), x.dtype);
  return record('to', storage, x.shape, [x], (g) => {
    if (g.device === 'cpu' || x.device !== 'cpu') return [toDeviceSync(g, x.device)];
    throw new Error(`to: the gradient of a CPU->${device} copy must be read back asynchronously; keep parameters on the device they train on`);
  });
}
