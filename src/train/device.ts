/**
 * Device selection for training and the CLI: the CPU backend is installed by the package entry (src/index.ts,
 * which the CLI imports first); `webgpu` needs the WebGPU backend initialised (src/backend/webgpu: an adapter,
 * i.e. a GPU, or SwiftShader on CPU-only machines). Dawn is loaded only when WebGPU is asked for.
 */
import type { Device } from '../tensor/dtype.js';

export function parseDevice(s: string): Device {
  if (s === 'cpu' || s === 'webgpu') return s;
  throw new Error(`unknown device '${s}' (expected 'cpu' or 'webgpu')`);
}

/** Makes `device` usable and describes it; throws a clear Error when WebGPU has no adapter. */
export async function initDevice(device: Device): Promise<string> {
  if (device === 'cpu') return 'cpu';
  const { initWebGpu } = await import('../backend/webgpu/index.js');
  try {
    return (await initWebGpu()).ctx.adapterDescription;
  } catch (e) {
    throw new Error(`--device webgpu: no WebGPU adapter (${(e as Error).message})`);
  }
}

/** Closes the WebGPU device if one was opened (so Node can exit). */
export async function releaseDevice(device: Device): Promise<void> {
  if (device !== 'webgpu') return;
  const { destroyWebGpu } = await import('../backend/webgpu/index.js');
  destroyWebGpu();
}
