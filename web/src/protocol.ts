// The messages between the page (main.ts, the UI thread) and its compute worker (worker.ts, where the library
// runs so the page never freezes, and where the CPU backend may block while its own workers compute).
//
// Every request carries an id; the worker answers with exactly one `result` or `error` for that id, and may send
// `progress` and `token` events for it before that.
import type { PatchRule } from '../../src/blt/patching/patch-lengths.js';

export interface PickedEntry { path: string; file: File }

export type Request =
  | { kind: 'init' }
  | { kind: 'openFolder'; entries?: PickedEntry[]; handle?: FileSystemDirectoryHandle }
  | { kind: 'useDemo' }
  | { kind: 'entropies'; text: string }
  | { kind: 'walkthrough'; text: string }
  | { kind: 'generate'; prompt: string; maxNewBytes: number; temperature: number; topK: number; topP: number; seed: number }
  | { kind: 'stop' }
  | { kind: 'bench'; sizes: 'quick' | 'full' }
  | { kind: 'properties' };

export interface ModelInfo {
  source: string;
  parameters: number;
  threshold: number;
  patchingMode: string;
  maxPatchLength: number | null;
  /** the model's patching rule for the bytes of a text (Blt.patchRule with the offline convention), for the playground */
  rule: PatchRule;
  hidden: { encoder: number; global: number; decoder: number; entropy: number };
}

export interface InitInfo {
  model: ModelInfo;
  cpuThreads: number;
  crossOriginIsolated: boolean;
  /** the property checks the page can run (spec/properties/checks.ts PAGE_CHECKS) */
  checks: { name: string; group: string }[];
  webgpu: { ok: true; adapter: string; limits: Record<string, number>; cpuDriver: boolean } | { ok: false; reason: string };
}

export interface EntropiesResult { bytes: Uint8Array; entropies: Float32Array }

export interface Stage {
  key: string;
  title: string;
  shape: number[];
  /** a few leading values, to show what the numbers look like */
  sample: number[];
  note: string;
}

export interface WalkthroughResult { stages: Stage[]; patchLengths: number[]; top: { byte: string; p: number }[] }

export interface BenchRow {
  op: 'matmul' | 'attention';
  device: 'cpu' | 'webgpu';
  size: string;
  /** the n of an n×n×n matmul, or T of attention */
  n: number;
  flops: number;
  medianMs: number;
  gflops: number;
}

export interface BenchResult { rows: BenchRow[]; cpuThreads: number; adapter: string | null; userAgent: string; date: string }

export interface PropertyOutcome { name: string; group: string; state: 'pass' | 'fail' | 'skipped'; ms: number; detail: string }

export type Reply =
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'error'; message: string }
  | { id: number; type: 'progress'; done: number; total: number; label?: string }
  | { id: number; type: 'token'; text: string; bytes: number }
  | { id: number; type: 'property'; outcome: PropertyOutcome };
