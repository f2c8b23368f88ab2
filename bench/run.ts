// Benchmark entry point: `npm run bench` (builds, then runs dist/bench/run.js).
//   --quick        small sizes only (for CI; a few seconds)
//   --json FILE    also write the rows (and a machine description) as JSON to FILE
// Prints one table per section. Numbers are never asserted anywhere: shared CI machines are too noisy.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { benchCpu, cpuInfo, type BenchRow } from './cpu.js';

interface Section {
  name: string;
  run: (opts: { quick: boolean }) => Promise<BenchRow[]>;
}

// One entry per benchmark section, run in order.
// WebGPU: add `{ name: 'webgpu', run: benchWebGpu }` here (from bench/webgpu.ts, returning BenchRow[] with
// section names like 'webgpu matmul'); the table printing and --json output below need no change.
const sections: Section[] = [
  { name: 'cpu', run: benchCpu },
];

// Published pure-JS CPU figures (TensorFlow.js CPU backend, one core) we compare against.
const TFJS_MATMUL_512_GFLOPS = 0.61;
const TFJS_ATTENTION_T1024_GFLOPS = 0.32;

function parseArgs(argv: string[]): { quick: boolean; json: string | null } {
  let quick = false;
  let json: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--quick') quick = true;
    else if (argv[i] === '--json') {
      json = argv[++i] ?? null;
      if (!json) throw new Error('bench: --json needs a file name');
    } else throw new Error(`bench: unknown argument ${argv[i]} (expected --quick, --json FILE)`);
  }
  return { quick, json };
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
    })));
  }
}

function printComparison(rows: BenchRow[]): void {
  const mm = rows.find((r) => r.section === 'cpu matmul' && r.variant === 'fast 1 thread' && r.shape === '512x512x512');
  const mmT = rows.find((r) => r.section === 'cpu matmul' && r.variant.startsWith('threaded') && r.shape === '512x512x512');
  const att = rows.find((r) => r.section === 'cpu attention' && r.variant === 'forward' && r.shape.startsWith('T=1024 '));
  const attT = rows.find((r) => r.section === 'cpu attention' && r.variant.startsWith('forward threaded')
    && r.shape.startsWith('T=1024 '));
  if (!mm && !att) return;
  console.log('\n## vs TensorFlow.js pure-JS CPU backend (one core)');
  const vs = (r: BenchRow, tfjs: number) => `${r.gflops.toFixed(2)} GFLOP/s = ${(r.gflops / tfjs).toFixed(1)}x tfjs (${tfjs})`;
  if (mm) console.log(`matmul 512, 1 thread: ${vs(mm, TFJS_MATMUL_512_GFLOPS)}`);
  if (mmT) console.log(`matmul 512, ${mmT.threads} threads: ${vs(mmT, TFJS_MATMUL_512_GFLOPS)}`);
  for (const r of [att, attT]) {
    if (!r) continue;
    console.log(`attention forward T=1024, ${r.threads} thread(s): ${vs(r, TFJS_ATTENTION_T1024_GFLOPS)} `
      + `(allowed causal pairs only; dense-equivalent ${r.denseGflops?.toFixed(2)} GFLOP/s)`);
  }
}

async function main(): Promise<void> {
  const { quick, json } = parseArgs(process.argv.slice(2));
  const info = cpuInfo();
  console.log(`# blt-ts benchmarks${quick ? ' (quick)' : ''}: ${info.cpu}, ${info.cores} cores, Node ${info.node}`);
  const rows: BenchRow[] = [];
  for (const section of sections) rows.push(...(await section.run({ quick })));
  printTable(rows);
  printComparison(rows);
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
