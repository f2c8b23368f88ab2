// Benchmark entry point: `npm run bench` (builds, then runs dist/bench/run.js).
//   --quick        small sizes only (for CI; a few seconds)
//   --json FILE    also write the rows (and a machine description) as JSON to FILE
// Prints one table per section. Numbers are never asserted anywhere: shared CI machines are too noisy.

import '../src/index.js'; // the Node entry: installs the CPU backend (worker_threads) and Dawn
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { benchCpu, cpuInfo, type BenchRow } from './cpu.js';
import { benchWebGpu } from './webgpu.js';
import { enableRelaxedSimd } from '../src/backend/cpu/kernels/wasm/node-flags.js';
import { benchBltTrain, PYTORCH_CPU_BYTES_PER_SECOND, BATCH, SEQ } from './blt-train.js';
import { benchScale } from './scale.js';
import { benchGenerate } from './generate.js';
import { benchPatch } from './patch.js';

interface Section {
  name: string;
  run: (opts: { quick: boolean; with1b: boolean }) => Promise<BenchRow[]>;
  /** run only with --only NAME (heavy: the scale section writes and reads a 9.3 GB checkpoint) */
  onlyWhenAsked?: boolean;
}

// One entry per benchmark section, run in order. A section that cannot run (no WebGPU adapter) says why and
// the others still run.
const sections: Section[] = [
  { name: 'cpu', run: benchCpu },
  { name: 'webgpu', run: benchWebGpu },
  { name: 'train', run: benchTrain },
  { name: 'generate', run: benchGenerate },
  { name: 'patch', run: benchPatch },
  { name: 'scale', run: benchScale, onlyWhenAsked: true },
];

/**
 * One BLT training step (forward, backward, clip, AdamW) of ../shared/bench/blt-small at batch 4 x 512 bytes
 * (bench/blt-train.ts), on the CPU and on WebGPU when an adapter is present. bytes/s = 2048 / median step.
 * Quick mode times 1 step after the warm-up (a step takes ~30 s on SwiftShader).
 */
async function benchTrain(opts: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const steps = opts.quick ? 1 : 5;
  for (const device of ['cpu', 'webgpu'] as const) {
    let r;
    try {
      r = await benchBltTrain({ device, steps });
    } catch (e) {
      if (device === 'cpu') throw e;
      console.log(`train step on webgpu: not run: ${(e as Error).message}`);
      continue;
    }
    const ms = [...r.stepMs].sort((a, b) => a - b)[Math.floor(r.stepMs.length / 2)];
    rows.push({
      section: 'train step (blt-small, 4x512 bytes)', variant: device, shape: `${BATCH}x${SEQ}`, ms, flops: 0, gflops: 0,
      threads: device === 'cpu' ? cpuInfo().threads : 1,
      bytesPerSecond: r.bytesPerSecond,
    });
    console.log(`train step ${device}: ${r.bytesPerSecond.toFixed(0)} bytes/s `
      + `(${(r.bytesPerSecond / PYTORCH_CPU_BYTES_PER_SECOND).toFixed(2)}x PyTorch CPU's ${PYTORCH_CPU_BYTES_PER_SECOND})`);
  }
  return rows;
}

/**
 * fp32 peak (TFLOP/s, dense, no tensor cores) of the GPUs the benchmark knows by adapter name, for the
 * "% of fp32 peak" column; --peak-tflops overrides it. From NVIDIA's data sheets: H100 SXM and H200 SXM 67,
 * H100 PCIe 51, H200 NVL 60.
 */
const GPU_FP32_PEAK_TFLOPS: [RegExp, number][] = [
  [/H200.*NVL/i, 60], [/H200/i, 67], [/H100.*PCIe/i, 51], [/H100/i, 67],
];

interface Args {
  quick: boolean;
  json: string | null;
  /** fp32 peak of the GPU in TFLOP/s, to report the fraction of peak the matmul reaches (see GPU_FP32_PEAK_TFLOPS). */
  peakTflops: number | null;
  only: string | null;
  /** also the BLT-1B-shaped generation case (writes a ~9 GB checkpoint with `blt init`) */
  with1b: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, json: null, peakTflops: null, only: null, with1b: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') a.quick = true;
    else if (argv[i] === '--with-1b') a.with1b = true;
    else if (argv[i] === '--json') {
      a.json = argv[++i] ?? null;
      if (!a.json) throw new Error('bench: --json needs a file name');
    } else if (argv[i] === '--peak-tflops') {
      a.peakTflops = Number(argv[++i]);
      if (!(a.peakTflops > 0)) throw new Error(`bench: --peak-tflops needs a positive number, got ${argv[i]}`);
    } else if (argv[i] === '--only') {
      a.only = argv[++i] ?? null;
      if (!a.only || !sections.some((s) => s.name === a.only)) {
        throw new Error(`bench: --only needs one of ${sections.map((s) => s.name).join(', ')}`);
      }
    } else throw new Error(`bench: unknown argument ${argv[i]} (expected --quick, --json FILE, --peak-tflops N, --only SECTION, --with-1b)`);
  }
  return a;
}

/**
 * The CPU vs WebGPU table: for each matmul size and attention length measured on both devices, the best
 * variant of each and their ratio (WebGPU / CPU). Both columns come from this one run.
 */
function printDeviceComparison(rows: BenchRow[], peakTflops: number | null): void {
  const best = (section: string, shape: string, pred: (r: BenchRow) => boolean = () => true): BenchRow | undefined =>
    rows.filter((r) => r.section === section && r.shape === shape && pred(r)).sort((x, y) => y.gflops - x.gflops)[0];
  const table: Record<string, string | number>[] = [];
  const shapes = [...new Set(rows.filter((r) => r.section === 'webgpu matmul').map((r) => r.shape))];
  for (const shape of shapes) {
    const c = best('cpu matmul', shape, (r) => !r.variant.startsWith('tfjs')), g = best('webgpu matmul', shape);
    if (!g) continue;
    table.push({
      op: 'matmul', shape, 'cpu GFLOP/s': c ? +c.gflops.toFixed(2) : '-', 'webgpu GFLOP/s': +g.gflops.toFixed(2),
      'webgpu/cpu': c ? +(g.gflops / c.gflops).toFixed(2) : '-',
      ...(peakTflops ? { '% of fp32 peak': +((100 * g.gflops) / (peakTflops * 1000)).toFixed(1) } : {}),
    });
  }
  for (const dir of ['forward', 'backward']) {
    const attShapes = [...new Set(rows.filter((r) => r.section === 'webgpu attention' && r.variant === dir).map((r) => r.shape))];
    for (const shape of attShapes) {
      // the CPU's fastest plain `forward` / `backward` row (1 thread or threaded), not `forward+backward`
      const same = new RegExp(`^wasm (relaxed-simd|simd) ${dir} x\\d+$`);
      const c = best('cpu attention', shape, (r) => same.test(r.variant)), g = best('webgpu attention', shape, (r) => r.variant === dir);
      if (!g) continue;
      table.push({
        op: `attention ${dir}`, shape, 'cpu ms': c ? +c.ms.toFixed(2) : '-', 'webgpu ms': +g.ms.toFixed(2),
        'webgpu/cpu': c ? +(c.ms / g.ms).toFixed(2) : '-',
      });
    }
  }
  const tc = rows.find((r) => r.section.startsWith('train step') && r.variant === 'cpu');
  const tg = rows.find((r) => r.section.startsWith('train step') && r.variant === 'webgpu');
  if (tc && tg) {
    table.push({
      op: 'BLT train step', shape: tc.shape, 'cpu bytes/s': Math.round(tc.bytesPerSecond!),
      'webgpu bytes/s': Math.round(tg.bytesPerSecond!), 'webgpu/cpu': +(tg.bytesPerSecond! / tc.bytesPerSecond!).toFixed(2),
    });
  }
  if (table.length === 0) return;
  console.log('\n## CPU vs WebGPU (speed-up = webgpu/cpu, from this run)');
  console.table(table);
}

function printTable(rows: BenchRow[]): void {
  const bySection = new Map<string, BenchRow[]>();
  for (const r of rows) bySection.set(r.section, [...(bySection.get(r.section) ?? []), r]);
  for (const [section, list] of bySection) {
    console.log(`\n## ${section}`);
    console.table(list.map((r) => ({
      shape: r.shape,
      variant: r.variant,
      threads: r.threads,
      'ms (median)': Number(r.ms.toFixed(3)),
      'GFLOP/s': Number(r.gflops.toFixed(2)),
      ...(r.denseGflops !== undefined ? { 'dense-equiv GFLOP/s': Number(r.denseGflops.toFixed(2)) } : {}),
      ...(r.bytesPerSecond !== undefined ? { 'bytes/s': Math.round(r.bytesPerSecond) } : {}),
    })));
  }
}

/** The ratio table against TensorFlow.js's wasm backend (XNNPACK, SIMD, one thread), measured in this run. */
function printComparison(rows: BenchRow[]): void {
  const find = (section: string, shape: string, re: RegExp): BenchRow | undefined =>
    rows.filter((r) => r.section === section && r.shape === shape && re.test(r.variant)).sort((x, y) => x.ms - y.ms)[0];
  const table: Record<string, string | number>[] = [];
  for (const n of [256, 512, 1024]) {
    const shape = `${n}x${n}x${n}`;
    const peer = find('cpu matmul', shape, /^tfjs-wasm/);
    if (!peer) continue;
    for (const re of [/^wasm .* 1 thread$/, /^wasm .* x\d+$/]) {
      const ours = find('cpu matmul', shape, re);
      if (ours) table.push({ op: `matmul ${n}`, ours: `${ours.variant}`, 'ours ms': +ours.ms.toFixed(2), 'tfjs-wasm ms': +peer.ms.toFixed(2), 'speed-up': +(peer.ms / ours.ms).toFixed(2) });
    }
  }
  for (const T of [256, 512, 1024]) {
    const shape = `T=${T} H=4 D=64 causal`;
    const peer = find('cpu attention', shape, /^tfjs-wasm/);
    if (!peer) continue;
    for (const re of [/^wasm .* forward x1$/, /^wasm .* forward x([2-9]|\d\d+)$/]) {
      const ours = find('cpu attention', shape, re);
      if (ours) table.push({ op: `attention fwd T=${T}`, ours: ours.variant, 'ours ms': +ours.ms.toFixed(2), 'tfjs-wasm ms': +peer.ms.toFixed(2), 'speed-up': +(peer.ms / ours.ms).toFixed(2) });
    }
  }
  if (table.length === 0) return;
  console.log('\n## vs TensorFlow.js wasm backend (XNNPACK, SIMD, 1 thread; attention in tfjs ops), same run, rounds interleaved');
  console.table(table);
}

async function main(): Promise<void> {
  const { quick, json, peakTflops, only, with1b } = parseArgs(process.argv.slice(2));
  await enableRelaxedSimd(); // before any kernel module is built (see src/backend/cpu/kernels/wasm/node-flags.ts)
  const info = cpuInfo();
  console.log(`# blt-ts benchmarks${quick ? ' (quick)' : ''}: ${info.cpu}, ${info.cores} cores, Node ${info.node}`);
  const rows: BenchRow[] = [];
  for (const section of sections) {
    if (only ? section.name !== only : section.onlyWhenAsked) continue;
    try {
      rows.push(...(await section.run({ quick, with1b })));
    } catch (e) {
      console.log(`\n## ${section.name}: not run: ${(e as Error).message}`);
    }
  }
  printTable(rows);
  printComparison(rows);
  const adapter = (rows.find((r) => 'device' in r) as { device?: string } | undefined)?.device ?? '';
  printDeviceComparison(rows, peakTflops ?? GPU_FP32_PEAK_TFLOPS.find(([re]) => re.test(adapter))?.[1] ?? null);
  if (json) {
    mkdirSync(dirname(json), { recursive: true });
    writeFileSync(json, JSON.stringify({ machine: info, date: new Date().toISOString(), quick, rows }, null, 2));
    console.log(`\nwrote ${rows.length} rows to ${json}`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
