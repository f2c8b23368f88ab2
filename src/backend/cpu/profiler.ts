// Profiling mode of the CPU backend (BLT_CPU_PROFILE=1): every kernel call timed by name.
//
// profiled(backend) returns the same backend with each kernel wrapped in a timer that adds its wall time, call
// count and (matmul only) FLOPs to cpuProfile. createCpuBackend (cpu-backend.ts) returns the wrapped backend when
// asked to (the Node entry does when BLT_CPU_PROFILE=1); bench/blt-train.ts prints cpuProfile.table() after the
// timed steps.

import type { AttentionDims, Backend } from '../backend.js';

interface ProfileEntry { ms: number; calls: number; flops: number }

/**
 * Accumulated wall time, call count and (matmul only) FLOPs per kernel name; only filled when `enabled`.
 * Kernel names are refined by op or size (see profileKey), and `byKind` sums them back to one row per kernel.
 */
export const cpuProfile = {
  /** Whether the installed backend was created with `profile: true` (the Node entry: BLT_CPU_PROFILE=1). */
  enabled: false,
  entries: new Map<string, ProfileEntry>(),
  reset(): void { this.entries.clear(); },
  add(name: string, ms: number, flops: number): void {
    const e = this.entries.get(name);
    if (e) { e.ms += ms; e.calls++; e.flops += flops; } else this.entries.set(name, { ms, calls: 1, flops });
  },
  /** One entry per kernel (the refined names summed: 'matmul 2048x128x128' -> 'matmul'). */
  byKind(): Map<string, ProfileEntry> {
    const out = new Map<string, ProfileEntry>();
    for (const [name, e] of this.entries) {
      const kind = name.split(' ')[0] === 'unary' || name.split(' ')[0] === 'binary' ? name : name.split(' ')[0];
      const k = out.get(kind) ?? { ms: 0, calls: 0, flops: 0 };
      out.set(kind, { ms: k.ms + e.ms, calls: k.calls + e.calls, flops: k.flops + e.flops });
    }
    return out;
  },
  /** A text table by total time, per step (`steps` = how many steps the profile covers). */
  table(steps = 1, top = 40, entries?: Map<string, ProfileEntry>): string {
    const rows = [...(entries ?? cpuProfile.entries)].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((s, [, e]) => s + e.ms, 0);
    const lines = [`${'kernel'.padEnd(36)} ${'ms/step'.padStart(9)} ${'%'.padStart(6)} ${'calls/step'.padStart(11)} ${'GFLOP/s'.padStart(8)}`];
    for (const [name, e] of rows.slice(0, top)) {
      const gflops = e.flops > 0 ? (e.flops / e.ms / 1e6).toFixed(2) : '';
      lines.push(`${name.padEnd(36)} ${(e.ms / steps).toFixed(1).padStart(9)} ${((100 * e.ms) / total).toFixed(1).padStart(6)} ${(e.calls / steps).toFixed(0).padStart(11)} ${gflops.padStart(8)}`);
    }
    lines.push(`${'all kernels'.padEnd(36)} ${(total / steps).toFixed(1).padStart(9)}`);
    return lines.join('\n');
  },
};

/** The profile key of a call: the kernel name, refined by its op or problem size where that separates costs. */
function profileKey(kernel: string, args: unknown[]): string {
  if (kernel === 'unary' || kernel === 'binary') return `${kernel} ${String(args[0])}`;
  if (kernel === 'matmul') {
    const [, , batch, M, K, N, tA, tB] = args as [unknown, unknown, number, number, number, number, boolean, boolean];
    return `matmul ${batch > 1 ? `${batch}x` : ''}${M}x${K}x${N}${tA ? ' tA' : ''}${tB ? ' tB' : ''}`;
  }
  if (kernel === 'attention' || kernel === 'attentionBackward') {
    const d = args[kernel === 'attention' ? 5 : 8] as AttentionDims;
    return `${kernel} Tq=${d.Tq} Tk=${d.Tk} H=${d.Hq}`;
  }
  return kernel;
}

/** The backend with every kernel call timed into cpuProfile (same results, a little slower). */
export function profiled(be: Backend): Backend {
  const out: Record<string, unknown> = { device: be.device, maxStorageBytes: be.maxStorageBytes };
  for (const [name, fn] of Object.entries(be)) {
    if (typeof fn !== 'function') continue;
    out[name] = (...args: unknown[]): unknown => {
      const t0 = performance.now();
      const r = (fn as (...a: unknown[]) => unknown).apply(be, args);
      const flops = name === 'matmul' ? 2 * (args[2] as number) * (args[3] as number) * (args[4] as number) * (args[5] as number) : 0;
      cpuProfile.add(profileKey(name, args), performance.now() - t0, flops);
      return r;
    };
  }
  return out as unknown as Backend;
}
