// pipelines.ts — compile each WGSL kernel once per set of `override` constants and keep the pipeline.
//
// Shader compilation is the slow part of WebGPU start-up (Dawn compiles a pipeline when it is created, and a
// first model step may need dozens), so nothing may compile per call.
// The cache key is the kernel name plus its override constants; the WGSL text itself is fixed per name
// (kernels that need a compile-time array size put it in the name, e.g. "attention_fwd_d64").

/** A compute kernel: WGSL source with one entry point `main`, plus its override constants. */
export interface Kernel {
  /** Unique per WGSL text; used as the cache key and as the label in Dawn's error messages. */
  name: string;
  wgsl: string;
  constants?: Record<string, number>;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly sources = new Map<string, string>();

  constructor(private readonly device: GPUDevice) {}

  private key(kernel: Kernel): string {
    const c = kernel.constants ?? {};
    const parts = Object.keys(c)
      .sort()
      .map((k) => `${k}=${c[k]}`);
    return `${kernel.name}|${parts.join(',')}`;
  }

  private module(kernel: Kernel): GPUShaderModule {
    const seen = this.sources.get(kernel.name);
    if (seen !== undefined && seen !== kernel.wgsl) {
      throw new Error(`PipelineCache: two different WGSL sources share the kernel name '${kernel.name}'`);
    }
    let module = this.modules.get(kernel.name);
    if (!module) {
      module = this.device.createShaderModule({ label: kernel.name, code: kernel.wgsl });
      this.modules.set(kernel.name, module);
      this.sources.set(kernel.name, kernel.wgsl);
    }
    return module;
  }

  /** The pipeline for `kernel`, compiled on first use. */
  get(kernel: Kernel): GPUComputePipeline {
    const key = this.key(kernel);
    let pipeline = this.pipelines.get(key);
    if (!pipeline) {
      pipeline = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(kernel), entryPoint: 'main', constants: kernel.constants ?? {} },
      });
      this.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  /** Compile ahead of time (in parallel inside Dawn); rejects with the compiler's message on bad WGSL. */
  async warmup(kernels: Kernel[]): Promise<void> {
    await Promise.all(
      kernels.map(async (kernel) => {
        const key = this.key(kernel);
        if (this.pipelines.has(key)) return;
        const pipeline = await this.device.createComputePipelineAsync({
          label: key,
          layout: 'auto',
          compute: { module: this.module(kernel), entryPoint: 'main', constants: kernel.constants ?? {} },
        });
        this.pipelines.set(key, pipeline);
      }),
    );
  }

  get size(): number {
    return this.pipelines.size;
  }
}
