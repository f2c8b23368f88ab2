// gpu.ts — the only place that knows how to get hold of WebGPU in this runtime.
//
// In a browser the entry point is `navigator.gpu`. In Node there is no navigator: the Node entry
// (src/index.ts) gives `setGpuLoader` a function that loads Dawn's binding (the npm package `webgpu`,
// src/platform/node.ts), so this file never imports it and a browser bundle never sees it.
// Everything else in src/backend/webgpu/ only talks to the standard GPUDevice API.
//
// On a machine without a GPU, Dawn needs a software Vulkan driver; SwiftShader (Debian: chromium-common)
// works when Node runs with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.

/** Buffer usage flags. The numbers are fixed by the WebGPU spec; Node has no `GPUBufferUsage` global. */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;

/** `GPUMapMode.READ`, again spelled out because Node has no global for it. */
export const MAP_MODE_READ = 0x0001;

/** The limits our kernels need; we request min(adapter, need) so device creation never fails on them. */
const WANTED_LIMITS = {
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxStorageBufferBindingSize: 1 << 30,
  maxBufferSize: 1 << 30,
  maxStorageBuffersPerShaderStage: 10,
} as const;

export interface GpuHandle {
  adapter: GPUAdapter;
  device: GPUDevice;
  /** e.g. "google swiftshader: SwiftShader driver 5.0.0" */
  adapterDescription: string;
  hasTimestampQuery: boolean;
  /** Releases the device so the Node process can exit (Dawn's instance is kept, see src/platform/node.ts). */
  destroy(): void;
}

const ENV_HINT =
  'On a machine without a GPU install SwiftShader (apt-get install libvulkan1 chromium-common) and run Node with ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp';

/** The runtime's WebGPU entry point where there is no navigator.gpu (Node: Dawn), set by the package entry. */
let loadGpu: { name: string; load: () => Promise<GPU> } | undefined;

/** Tells WebGPU how to reach a GPU where `navigator.gpu` is absent (the Node entry passes Dawn's loader). */
export function setGpuLoader(name: string, load: () => Promise<GPU>): void {
  loadGpu = { name, load };
}

/** Find the GPU entry point: navigator.gpu in a browser, else the loader the package entry set (Dawn in Node). */
async function findGpu(tried: string[]): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) {
    tried.push('navigator.gpu');
    return nav.gpu;
  }
  tried.push('navigator.gpu (absent)');
  if (!loadGpu) {
    tried.push("no other WebGPU entry point (in Node, import the package entry 'blt-ts' / src/index.ts, which sets Dawn's)");
    return undefined;
  }
  try {
    const gpu = await loadGpu.load();
    tried.push(loadGpu.name);
    return gpu;
  } catch (err) {
    tried.push(`${loadGpu.name} failed to load: ${(err as Error).message}`);
    return undefined;
  }
}

/** Whether a WebGPU adapter is available (asks for one; opens no device). */
export async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = await findGpu([]);
  return gpu !== undefined && (await gpu.requestAdapter({ powerPreference: 'high-performance' })) !== null;
}

/**
 * Request an adapter and a device. Throws an Error naming everything that was tried when no adapter exists.
 */
export async function requestGpu(): Promise<GpuHandle> {
  const tried: string[] = [];
  const gpu = await findGpu(tried);
  const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
  if (!gpu || !adapter) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const icd = env?.VK_ICD_FILENAMES ?? '(unset)';
    throw new Error(
      `webgpu: no GPU adapter found. Tried: ${tried.join('; ')}. VK_ICD_FILENAMES=${icd}. ${ENV_HINT}`,
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const [name, want] of Object.entries(WANTED_LIMITS)) {
    const has = (adapter.limits as unknown as Record<string, number>)[name];
    requiredLimits[name] = Math.min(has, want);
  }
  const hasTimestampQuery = adapter.features.has('timestamp-query');
  const device = await adapter.requestDevice({
    requiredLimits,
    requiredFeatures: hasTimestampQuery ? ['timestamp-query'] : [],
  });
  const info = adapter.info;
  // browsers may leave description and device empty (fingerprinting); then the name has no ': ...' part
  const detail = info.description || info.device;
  const adapterDescription = `${info.vendor} ${info.architecture}`.trim() + (detail ? `: ${detail}` : '');
  let destroyed = false;
  return {
    adapter,
    device,
    adapterDescription,
    hasTimestampQuery,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      device.destroy(); // what lets Node exit; the Dawn instance stays (src/platform/node.ts)
    },
  };
}
