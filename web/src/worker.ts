// The page's compute worker: the library runs here, so the page stays responsive, and (on a cross-origin
// isolated page) the CPU backend may block in Atomics.wait while its own workers compute. Requests and replies
// are described in protocol.ts. Everything here is the library's public API (`blt-ts`, the browser entry).
import {
  blt, getBackend, getCpuThreads, initWebGpu, joinPath, memoryFiles, noGrad, ops, readPickedFiles, readPickedFolder, scope,
  startCpuThreads, type Backend, type CheckpointFiles, type Tensor, type WebGpuBackend,
} from 'blt-ts';
import { PAGE_CHECKS } from '../../spec/properties/checks.js';
import type { BenchResult, BenchRow, InitInfo, ModelInfo, PropertyOutcome, Reply, Request, Stage, WalkthroughResult } from './protocol';

type Blt = InstanceType<typeof blt.Blt>;

let model: Blt | null = null;
let demo: { config: Uint8Array; weights: Uint8Array } | null = null;
let modelSource = '';
let gpu: WebGpuBackend | null = null;
let gpuAdapter = '';
let stopRequested = false;

const post = (r: Reply): void => (self as unknown as Worker).postMessage(r);

/** Lets the worker's event loop run (so a 'stop' message is seen) between steps of long work. */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

function modelInfo(m: Blt): ModelInfo {
  const c = m.config;
  return {
    source: modelSource,
    parameters: m.numel(false),
    threshold: c.patching.threshold,
    patchingMode: c.patching.mode + (c.patching.monotonicity ? ' (monotonic)' : ''),
    maxPatchLength: c.patching.maxPatchLength,
    rule: m.patchRule({ convention: 'N-offline' }),
    hidden: { encoder: c.encoder.hiddenSize, global: c.global.hiddenSize, decoder: c.decoder.hiddenSize, entropy: c.patcher.hiddenSize },
  };
}

function needModel(): Blt {
  if (!model) throw new Error('no model is loaded yet');
  return model;
}

function loadDemo(): Blt {
  if (!demo) throw new Error('the demo model was not received');
  const files = memoryFiles({ 'demo-model/config.json': demo.config, 'demo-model/model.safetensors': demo.weights });
  modelSource = 'demo model (data/demo-model)';
  return blt.loadAnyCheckpoint(files, 'demo-model');
}

async function init(config: ArrayBuffer, weights: ArrayBuffer): Promise<InitInfo> {
  demo = { config: new Uint8Array(config), weights: new Uint8Array(weights) };
  model = loadDemo();
  const cpuThreads = await startCpuThreads();
  let webgpu: InitInfo['webgpu'];
  try {
    const nav = (self as unknown as { navigator: { gpu?: GPU } }).navigator;
    if (!nav.gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
    const adapter = await nav.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error('the browser offers no WebGPU adapter (no suitable GPU, or WebGPU is turned off)');
    const limits: Record<string, number> = {};
    for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage']) {
      limits[k] = (adapter.limits as unknown as Record<string, number>)[k];
    }
    gpu = await initWebGpu();
    gpuAdapter = gpu.ctx.adapterDescription;
    webgpu = { ok: true, adapter: gpuAdapter, limits, cpuDriver: gpu.ctx.isCpuDriver };
  } catch (e) {
    webgpu = { ok: false, reason: (e as Error).message };
  }
  const checks = PAGE_CHECKS.map((c) => ({ name: c.name, group: c.group }));
  return { model: modelInfo(model), cpuThreads, crossOriginIsolated: self.crossOriginIsolated === true, checks, webgpu };
}

async function openFolder(req: Extract<Request, { kind: 'openFolder' }>): Promise<ModelInfo> {
  const picked = req.handle
    ? await readPickedFolder(req.handle as unknown as Parameters<typeof readPickedFolder>[0])
    : await readPickedFiles((req.entries ?? []).map((e) => ({ name: e.path, webkitRelativePath: e.path, arrayBuffer: () => e.file.arrayBuffer() })));
  const dir = checkpointDir(picked.files, picked.dir);
  const loaded = blt.loadAnyCheckpoint(picked.files, dir);
  model = loaded;
  modelSource = `folder '${dir}'`;
  return modelInfo(loaded);
}

/**
 * The checkpoint folder in what was picked: the folder itself, else the one subfolder that is a checkpoint
 * (Meta's original release keeps blt_1b/ and entropy_model/ side by side, so one picks their parent).
 */
function checkpointDir(files: CheckpointFiles, dir: string): string {
  try {
    blt.detectPackaging(files, dir);
    return dir;
  } catch (e) {
    const found = files.list(dir).map((name) => joinPath(dir, name)).filter((sub) => {
      try { blt.detectPackaging(files, sub); return !sub.endsWith('/entropy_model'); } catch { return false; }
    });
    if (found.length === 1) return found[0];
    throw e;
  }
}

/** H(x_i) for every position of BOS + bytes (the byte at position i+1 has entropy ent[i], eq. 1). */
async function entropies(text: string): Promise<{ bytes: Uint8Array; entropies: Float32Array }> {
  const m = needModel();
  const bytes = new TextEncoder().encode(text);
  if (bytes.length === 0) return { bytes, entropies: new Float32Array(0) };
  if (bytes.length > 4096) throw new Error(`the text has ${bytes.length} bytes; the playground takes at most 4096`);
  const ids = blt.encode(bytes, { addBos: true, addEos: false });
  return { bytes, entropies: await m.computeEntropies([Array.from(ids)]) }; // [1, N]
}

function preview(t: Tensor, n = 6): number[] {
  return Array.from((t.dataSync() as Float32Array).subarray(0, n), (v) => Math.round(v * 1000) / 1000);
}

async function walkthrough(text: string): Promise<WalkthroughResult> {
  const m = needModel();
  const bytes = new TextEncoder().encode(text);
  if (bytes.length === 0) throw new Error('type some text first');
  if (bytes.length > 512) throw new Error(`the text has ${bytes.length} bytes; the walk-through takes at most 512`);
  const ids = blt.encode(bytes, { addBos: true, addEos: false });
  const N = ids.length, c = m.config;
  const ent = await m.computeEntropies([Array.from(ids)]); // [1, N], on the host
  return scope(() => noGrad(() => {
    const lengths = m.patchLengthsOf([Array.from(ids)], ent)[0];
    const { logits, intermediates: inter } = m.forwardWithPatches([ids], [lengths], { intermediates: true });
    const P = lengths.length;
    const hash = c.hash.groupSizes.map((n) => `n=${n}: ${Array.from(blt.hashNgramIds(ids, n, 0, c.hash.vocab).subarray(0, 6)).join(', ')}…`);
    const get = (k: string): Tensor => {
      const t = inter!.get(k);
      if (!t) throw new Error(`the model recorded no intermediate '${k}'`);
      return t;
    };
    const last = ops.softmax(ops.narrow(logits, 1, N - 1, 1)).dataSync();
    const top = Array.from(last.keys()).sort((a, b) => last[b] - last[a]).slice(0, 8)
      .map((id) => ({ byte: id >= 4 ? showByte(id - 4) : ['<pad>', '<bos>', '<eos>', '<unk>'][id] ?? String(id), p: last[id] }));
    const stages: Stage[] = [
      { key: 'ids', title: 'Bytes → token ids', shape: [1, N], sample: Array.from(ids.slice(0, 8)), note: `${bytes.length} UTF-8 bytes, each id = byte + 4, after BOS = 1` },
      { key: 'entropy', title: 'Entropy model → patches', shape: [1, N], sample: Array.from(ent.subarray(0, 6), (v) => Math.round(v * 1000) / 1000), note: `${P} patches of lengths ${Array.from(lengths).join(', ')} (the first is BOS alone)` },
      { key: 'hash', title: 'Hash n-gram ids → embeddings', shape: [...get('hash.embeds').shape], sample: preview(get('hash.embeds')), note: `hash ids of the first table per n: ${hash.join('; ')}` },
      { key: 'encoder', title: 'Local encoder → byte states h', shape: [...get('encoder.hidden').shape], sample: preview(get('encoder.hidden')), note: `${c.encoder.numLayers} layer(s) of width ${c.encoder.hiddenSize}, each byte attending to the bytes before it` },
      { key: 'patches', title: 'Cross-attention → patch vectors', shape: [...get('encoder.patches').shape], sample: preview(get('encoder.patches')), note: `${c.crossAttnK} queries of width ${c.encoder.hiddenSize} per patch, each attending only to its own bytes` },
      { key: 'global', title: 'Global transformer over patches', shape: [...get('global.out').shape], sample: preview(get('global.out')), note: `${c.global.numLayers} layers of width ${c.global.hiddenSize}: ${P} steps for ${N} bytes` },
      { key: 'decoder', title: 'Local decoder → byte states', shape: [...get('decoder.out').shape], sample: preview(get('decoder.out')), note: `${c.decoder.numLayers} layers; byte i reads patch d(i) = p(i+1) − 1` },
      { key: 'logits', title: 'Next-byte distribution', shape: [...logits.shape], sample: preview(logits), note: 'softmax of the last row: the model\'s guess for the byte after the text' },
    ];
    return { stages, patchLengths: Array.from(lengths), top };
  }));
}

function showByte(b: number): string {
  if (b === 0x20) return '␣';
  if (b === 0x0a) return '↵';
  if (b >= 0x21 && b < 0x7f) return String.fromCharCode(b);
  return `0x${b.toString(16).padStart(2, '0')}`;
}

async function generate(id: number, req: Extract<Request, { kind: 'generate' }>): Promise<{ text: string; bytes: number; ms: number; stopped: boolean; globalCalls: number }> {
  const m = needModel();
  stopRequested = false;
  const sampling = req.temperature === 0 ? { greedy: true } : {
    temperature: req.temperature, topK: req.topK > 0 ? req.topK : undefined, topP: req.topP < 1 ? req.topP : undefined,
  };
  const decoder = new TextDecoder('utf-8');
  let n = 0;
  const t0 = performance.now();
  const r = await blt.generate(m, req.prompt, {
    maxNewBytes: req.maxNewBytes, sampling, seed: req.seed,
    onToken: async (tok) => {
      if (tok >= 4) {
        n++;
        // stream: decode what is complete so far; a multi-byte character waits for its last byte
        post({ id, type: 'token', text: decoder.decode(Uint8Array.of(tok - 4), { stream: true }), bytes: n });
      }
      await yieldToEvents();
      return !stopRequested;
    },
  });
  post({ id, type: 'token', text: decoder.decode(), bytes: n });
  return { text: r.text, bytes: r.bytes.length, ms: performance.now() - t0, stopped: stopRequested, globalCalls: r.global.calls };
}

// ---- benchmarks ---------------------------------------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 0.37 + seed) * 0.5;
  return a;
}

/** Median ms of `reps` timed runs of `call` (outputs disposed), after one warm-up run; GPU work is awaited. */
async function timeKernel(be: Backend, call: () => unknown[], reps: number): Promise<number> {
  const sync = async (): Promise<void> => { if (be.device === 'webgpu') await (be as WebGpuBackend).ctx.sync(); };
  for (const s of call()) be.dispose(s as never);
  await sync();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const outs = call();
    await sync();
    times.push(performance.now() - t0);
    for (const s of outs) be.dispose(s as never);
    await yieldToEvents();
  }
  return median(times);
}

async function bench(id: number, sizes: 'quick' | 'full'): Promise<BenchResult> {
  const devices: ('cpu' | 'webgpu')[] = gpu ? ['cpu', 'webgpu'] : ['cpu'];
  const ns = sizes === 'quick' ? [64, 128, 256] : [64, 128, 256, 512, 1024];
  const ts = sizes === 'quick' ? [64, 128, 256] : [128, 256, 512, 1024];
  const H = 4, D = 64;
  const total = devices.length * (ns.length + ts.length);
  const rows: BenchRow[] = [];
  let done = 0;
  for (const device of devices) {
    const be = getBackend(device);
    for (const n of ns) {
      post({ id, type: 'progress', done, total, label: `${device} matmul ${n}×${n}×${n}` });
      const a = be.upload(filled(n * n, 1)), b = be.upload(filled(n * n, 2));
      const flops = 2 * n * n * n;
      const reps = Math.max(3, Math.min(20, Math.round(2e9 / flops)));
      const ms = await timeKernel(be, () => [be.matmul(a, b, 1, n, n, n, false, false, 0, 0)], reps);
      be.dispose(a); be.dispose(b);
      rows.push({ op: 'matmul', device, size: `${n}×${n}×${n}`, n, flops, medianMs: ms, gflops: flops / ms / 1e6 });
      done++;
    }
    for (const T of ts) {
      post({ id, type: 'progress', done, total, label: `${device} attention T=${T}` });
      const x = (seed: number): ReturnType<Backend['upload']> => be.upload(filled(T * H * D, seed));
      const q = x(3), k = x(4), v = x(5);
      const start = be.upload(new Int32Array(T)), end = be.upload(Int32Array.from({ length: T }, (_, t) => t + 1));
      const dims = { B: 1, Tq: T, Tk: T, Hq: H, Hkv: H, D, scale: 1 / Math.sqrt(D) };
      const flops = 4 * D * H * (T * (T + 1)) / 2; // 4·D per allowed (query, key) pair and head, causal
      const reps = Math.max(3, Math.min(20, Math.round(1e9 / flops)));
      const ms = await timeKernel(be, () => { const r = be.attention(q, k, v, start, end, dims); return [r.out, r.lse]; }, reps);
      for (const s of [q, k, v, start, end]) be.dispose(s);
      rows.push({ op: 'attention', device, size: `T=${T}, ${H} heads, d=${D}`, n: T, flops, medianMs: ms, gflops: flops / ms / 1e6 });
      done++;
    }
  }
  post({ id, type: 'progress', done, total });
  return { rows, cpuThreads: getCpuThreads(), adapter: gpu ? gpuAdapter : null, userAgent: navigator.userAgent, date: new Date().toISOString() };
}

// ---- property checks ----------------------------------------------------------------------------------------

async function properties(id: number): Promise<{ passed: number; failed: number; skipped: number }> {
  const count = { passed: 0, failed: 0, skipped: 0 };
  let done = 0;
  for (const check of PAGE_CHECKS) {
    const t0 = performance.now();
    let outcome: PropertyOutcome;
    if (check.device === 'webgpu' && !gpu) {
      outcome = { name: check.name, group: check.group, state: 'skipped', ms: 0, detail: 'needs WebGPU, which this browser does not offer' };
      count.skipped++;
    } else {
      try {
        await check.run({ ctx: gpu?.ctx, numRuns: 8 });
        outcome = { name: check.name, group: check.group, state: 'pass', ms: performance.now() - t0, detail: '' };
        count.passed++;
      } catch (e) {
        outcome = { name: check.name, group: check.group, state: 'fail', ms: performance.now() - t0, detail: (e as Error).message };
        count.failed++;
      }
    }
    post({ id, type: 'property', outcome });
    post({ id, type: 'progress', done: ++done, total: PAGE_CHECKS.length });
    await yieldToEvents();
  }
  return count;
}

// ---- dispatch -------------------------------------------------------------------------------------------------

self.onmessage = async (e: MessageEvent<{ id: number; req: Request; config?: ArrayBuffer; weights?: ArrayBuffer }>) => {
  const { id, req } = e.data;
  if (req.kind === 'stop') { stopRequested = true; post({ id, type: 'result', value: null }); return; }
  try {
    let value: unknown;
    switch (req.kind) {
      case 'init': value = await init(e.data.config!, e.data.weights!); break;
      case 'openFolder': value = await openFolder(req); break;
      case 'useDemo': model = loadDemo(); value = modelInfo(model); break;
      case 'entropies': value = await entropies(req.text); break;
      case 'walkthrough': value = await walkthrough(req.text); break;
      case 'generate': value = await generate(id, req); break;
      case 'bench': value = await bench(id, req.sizes); break;
      case 'properties': value = await properties(id); break;
    }
    post({ id, type: 'result', value });
  } catch (err) {
    post({ id, type: 'error', message: (err as Error).message ?? String(err) });
  }
};
