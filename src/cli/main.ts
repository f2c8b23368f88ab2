#!/usr/bin/env node
/**
 * The `blt` command line: train, eval, patch, generate, check-golden, check-train-golden, convert, flops, init, bench, demo.
 * Exit codes: 0 success, 1 failure (bad file, checkpoint that does not fit, failed check), 2 bad arguments,
 * 130 interrupted by Ctrl-C (after saving a checkpoint).
 */
import '../index.js'; // the Node entry: installs the CPU backend (worker_threads) and Dawn as WebGPU's way in
import fs from 'node:fs';
import nodePath from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs, usage, UsageError, type CommandSpec, type ParsedOptions } from './args.js';
import { initDevice, parseDevice, releaseDevice } from '../train/device.js';
import type { Device } from '../tensor/dtype.js';
import type { BltConfig } from '../blt/config/types.js';
import { tinyConfig, smallConfig } from '../blt/config/shapes.js';
import { loadBltConfigFile } from '../blt/config/file.js';
import type { Blt } from '../blt/blt.js';
import { bltFlopsPerByte } from '../blt/flops.js';
import { loadCheckpoint } from '../train/checkpoint-io.js';
import { trainBlt } from '../train/trainer.js';
import { evalBatches, loadCorpus, type ByteBatch } from '../train/data.js';
import { heldOutBpb } from '../train/evaluate.js';
import { patchingView } from '../train/patching-view.js';
import { Progress } from '../train/progress.js';
import { generate } from '../blt/generate.js';
import { writeRandomCheckpoint } from '../blt/random-checkpoint.js';
import { enableRelaxedSimd } from '../backend/cpu/kernels/wasm/node-flags.js';
import { checkTrainGolden } from '../train/golden-train.js';
import { checkGolden } from '../blt/golden.js';
import { checkMetaGolden, isMetaGoldenSet } from '../blt/golden-meta.js';
import { convertCheckpoint } from '../blt/packaging/convert.js';
import { entropyPlotSvg } from '../report/entropy-plot.js';
import { ansiPatches, patchPieces } from '../report/patches-text.js';
import { writeFileAtomic } from '../io/atomic.js';
import * as ops from '../ops/index.js';
import { runDemo, DEMO_SPEC, bundledCorpus } from './demo.js';
import { sharedPath } from '../io/shared-dir.js';

const DEVICE_OPT = { type: 'string', help: 'cpu or webgpu', default: 'cpu', choices: ['cpu', 'webgpu'] } as const;
const HASH_TABLES_OPT = {
  type: 'string', default: 'auto', choices: ['auto', 'memory', 'disk'],
  help: 'hash n-gram tables: in memory, or left in the checkpoint and read row by row (auto: on disk above 1 GiB)',
} as const;

/** Loads a checkpoint for inference: --hash-tables decides where the hash table lives; the decision is printed on stderr. */
function loadForInference(dir: string, dev: Device, o: ParsedOptions): Promise<Blt> {
  return loadCheckpoint(dir, dev, { hashTables: o['hash-tables'] as 'auto' | 'memory' | 'disk', log: (m) => console.error(m) });
}

const TRAIN: CommandSpec = {
  name: 'train',
  summary: 'Train an entropy model, choose the entropy threshold for a target patch size, then train a BLT patched with it.',
  positionals: [],
  options: {
    data: { type: 'string', help: 'training text: a file, a folder (recursive) or a glob', default: 'data/corpus' },
    out: { type: 'string', help: 'checkpoint folder (config.json, model.safetensors, trainer_state.safetensors)', default: 'out/blt' },
    preset: { type: 'string', help: 'model shapes', default: 'tiny', choices: ['tiny', 'small'] },
    config: { type: 'string', help: 'model shapes from a HF BLT config.json (overrides --preset)' },
    device: DEVICE_OPT,
    seed: { type: 'int', help: 'seed of the initialisation and the data order', default: 0, min: 0 },
    steps: { type: 'int', help: 'BLT training steps', default: 200, min: 1 },
    'entropy-steps': { type: 'int', help: 'entropy-model training steps', default: 200, min: 1 },
    'batch-size': { type: 'int', help: 'rows per batch', default: 8, min: 1 },
    'seq-len': { type: 'int', help: 'bytes per row', default: 128, min: 2 },
    lr: { type: 'number', help: 'BLT peak learning rate', default: 3e-3, min: 0 },
    'entropy-lr': { type: 'number', help: 'entropy-model peak learning rate', default: 3e-3, min: 0 },
    warmup: { type: 'int', help: 'warm-up steps (at most a tenth of each phase)', default: 20, min: 0 },
    clip: { type: 'number', help: 'global gradient-norm clip', default: 1.0, min: 0 },
    'weight-decay': { type: 'number', help: 'AdamW decoupled weight decay', default: 0.1, min: 0 },
    'patch-size': { type: 'number', help: 'target average patch size in bytes', default: 4, min: 1 },
    'held-out': { type: 'number', help: 'held-out fraction of every document', default: 0.1, min: 0 },
    'checkpoint-every': { type: 'int', help: 'save every N steps (0: at the end only)', default: 50, min: 0 },
    resume: { type: 'bool', help: 'continue the run saved in --out exactly where it stopped' },
    'stop-after': { type: 'int', help: 'stop (with a checkpoint) after N BLT steps', min: 1 },
    baseline: { type: 'bool', help: 'also train the byte-level baseline with the same budget' },
    quiet: { type: 'bool', help: 'no progress output' },
  },
};

const EVAL: CommandSpec = {
  name: 'eval',
  summary: 'Bits per byte (paper eq. 18) of a checkpoint on a text, with entropy patching, and its bytes per patch.',
  positionals: [{ name: 'checkpoint', required: true, help: 'checkpoint folder (config.json + model.safetensors)' }],
  options: {
    data: { type: 'string', help: 'text to score: a file, a folder or a glob', default: 'data/corpus' },
    'seq-len': { type: 'int', help: 'bytes per row', default: 128, min: 2 },
    'batch-size': { type: 'int', help: 'rows per batch', default: 8, min: 1 },
    'max-bytes': { type: 'int', help: 'score at most this many bytes', default: 65536, min: 2 },
    device: DEVICE_OPT,
    'hash-tables': HASH_TABLES_OPT,
  },
};

const PATCH: CommandSpec = {
  name: 'patch',
  summary: 'Show how a checkpoint\'s entropy model patches a text: coloured patches in the terminal and an SVG of per-byte entropy with the threshold and patch boundaries.',
  positionals: [
    { name: 'checkpoint', required: true, help: 'checkpoint folder' },
    { name: 'text', required: false, help: 'the text (or use --file)' },
  ],
  options: {
    file: { type: 'string', help: 'read the text from this file' },
    svg: { type: 'string', help: 'write the entropy plot here', default: 'patches.svg' },
    threshold: { type: 'number', help: 'entropy threshold in nats (default: the checkpoint\'s)' },
    'no-color': { type: 'bool', help: 'mark patches with | instead of colours' },
    device: DEVICE_OPT,
    'hash-tables': HASH_TABLES_OPT,
  },
};

const GENERATE: CommandSpec = {
  name: 'generate',
  summary: 'Continue a prompt with a checkpoint, byte by byte (src/blt/generate.ts: the global model runs only when a patch closes).',
  positionals: [
    { name: 'checkpoint', required: true, help: 'checkpoint folder' },
    { name: 'prompt', required: true, help: 'text to continue' },
  ],
  options: {
    'max-bytes': { type: 'int', help: 'bytes to generate', default: 64, min: 0 },
    temperature: { type: 'number', help: 'sampling temperature; 0 = greedy unless --top-k/--top-p are given (then 1)', default: 0, min: 0 },
    'top-k': { type: 'int', help: 'sample among the k most likely bytes', min: 1 },
    'top-p': { type: 'number', help: 'nucleus sampling mass in (0, 1]', min: 0 },
    seed: { type: 'int', help: 'sampling seed', default: 0, min: 0 },
    device: DEVICE_OPT,
    'hash-tables': HASH_TABLES_OPT,
  },
};

const CHECK_GOLDEN: CommandSpec = {
  name: 'check-golden',
  summary: 'Compare the forward pass with a golden set: Hugging Face\'s outputs (shared/golden) or Meta\'s own code in every packaging it saves (shared/golden-meta), detected from the folder.',
  positionals: [{ name: 'dir', required: false, help: 'golden folder (default ../shared/golden beside the repository; ../shared/golden-meta for Meta\'s set)' }],
  options: { device: DEVICE_OPT },
};

const CHECK_TRAIN_GOLDEN: CommandSpec = {
  name: 'check-train-golden',
  summary: 'Replay the 12 Hugging Face training steps of shared/golden-train and run its checks A-G.',
  positionals: [{ name: 'dir', required: false, help: 'golden-train folder (default ../shared/golden-train beside the repository)' }],
  options: { device: DEVICE_OPT },
};

const CONVERT: CommandSpec = {
  name: 'convert',
  summary: 'Convert a BLT checkpoint in any packaging (Hugging Face single or sharded, Meta Hub, Meta original .pth) to the Hugging Face or Meta Hub layout, streaming tensor by tensor.',
  positionals: [
    { name: 'src', required: true, help: 'checkpoint folder to read (packaging detected from its files)' },
    { name: 'dst', required: true, help: 'folder to write (must be empty or absent unless --force)' },
  ],
  options: {
    to: { type: 'string', help: 'output layout: hf (config.json + safetensors) or meta (Meta Hub: {"args"} config, Meta key names, entropy_model/)', choices: ['hf', 'meta'] },
    dtype: { type: 'string', help: 'weight dtype of the output (default: keep each tensor\'s dtype)', choices: ['bf16', 'f32'] },
    force: { type: 'bool', help: 'replace a non-empty dst' },
    'max-shard-mb': { type: 'int', help: 'hf: shard the weights above this many megabytes (10^6 bytes)', default: 5000, min: 1 },
    'entropy-model': { type: 'string', help: 'Meta packagings: take the entropy model from this folder (params.json + consolidated.pth, or config.json + model.safetensors)' },
  },
};

const FLOPS: CommandSpec = {
  name: 'flops',
  summary: 'Forward FLOPs per byte of a BLT config at an average patch size (paper §4.5, eq. 13).',
  positionals: [],
  options: {
    preset: { type: 'string', help: 'model shapes', default: 'tiny', choices: ['tiny', 'small'] },
    config: { type: 'string', help: 'a HF BLT config.json (overrides --preset)' },
    'patch-size': { type: 'number', help: 'average patch size n_p in bytes', default: 4, min: 1 },
    context: { type: 'int', help: 'sequence length in bytes', default: 8192, min: 1 },
  },
};

const INIT: CommandSpec = {
  name: 'init',
  summary: 'Write a random checkpoint of any config (e.g. HF\'s BLT-1B defaults), tensor by tensor, seeded: for tests and benchmarks at real scale.',
  positionals: [],
  options: {
    config: { type: 'string', help: 'a HF BLT config.json (required; fields it omits take HF\'s BLT-1B defaults)' },
    dtype: { type: 'string', help: 'weights dtype in the file', default: 'bf16', choices: ['bf16', 'f32'] },
    out: { type: 'string', help: 'checkpoint folder to write (required): config.json + model.safetensors, or shards + index' },
    seed: { type: 'int', help: 'seed of the random weights', default: 0, min: 0 },
    'shard-size': { type: 'number', help: 'shard above this many GB (HF\'s default 5)', default: 5, min: 0 },
  },
};

const BENCH: CommandSpec = {
  name: 'bench',
  summary: 'Run the benchmarks (bench/run.ts).',
  positionals: [],
  options: {
    quick: { type: 'bool', help: 'small sizes only' },
    json: { type: 'string', help: 'also write the rows as JSON to this file' },
  },
};

/** A command: its name, options and help (CommandSpec), and the function that runs it (returns the exit code). */
interface Command {
  spec: CommandSpec;
  run: (positionals: string[], opts: ParsedOptions) => Promise<number> | number;
}

/** Every command, in the order of the help. To add one, write its CommandSpec and function and add one line here. */
const COMMANDS: Record<string, Command> = {
  train: { spec: TRAIN, run: (_p, o) => cmdTrain(o) },
  eval: { spec: EVAL, run: cmdEval },
  patch: { spec: PATCH, run: cmdPatch },
  generate: { spec: GENERATE, run: cmdGenerate },
  'check-golden': { spec: CHECK_GOLDEN, run: cmdCheckGolden },
  'check-train-golden': { spec: CHECK_TRAIN_GOLDEN, run: cmdCheckTrainGolden },
  convert: { spec: CONVERT, run: cmdConvert },
  flops: { spec: FLOPS, run: (_p, o) => cmdFlops(o) },
  init: { spec: INIT, run: (_p, o) => cmdInit(o) },
  bench: { spec: BENCH, run: (_p, o) => cmdBench(o) },
  demo: { spec: DEMO_SPEC, run: (_p, o) => runDemo(o) },
};

function mainHelp(): string {
  return ['usage: blt <command> [options]   (blt <command> --help for details)', '',
    'A Byte Latent Transformer in TypeScript: patches bytes by entropy, trains and runs on CPU or WebGPU.', '',
    ...Object.values(COMMANDS).map(({ spec: c }) => `  ${c.name.padEnd(20)} ${firstSentence(c.summary)}`), '',
    '`npm run main` runs `blt demo`.'].join('\n');
}

/** The first sentence of a summary, without its full stop ("e.g." and "i.e." end no sentence). */
function firstSentence(summary: string): string {
  return summary.split(/(?<!\b(?:e\.g|i\.e))\.\s+(?=[A-Z])/)[0].replace(/\.$/, '');
}

/** --data: the default 'data/corpus' falls back to the corpus shipped with the package when the cwd has none. */
function dataSource(o: ParsedOptions): string {
  const d = String(o.data);
  return d === 'data/corpus' && !fs.existsSync(d) ? bundledCorpus() : d;
}

/** An error the user caused (missing file, unfit checkpoint): printed without a stack trace, exit 1. */
class CliError extends Error {}

async function modelConfig(o: ParsedOptions): Promise<BltConfig> {
  if (typeof o.config === 'string') {
    if (!fs.existsSync(o.config)) throw new CliError(`config file '${o.config}' does not exist`);
    return loadBltConfigFile(o.config, { useHfDefaults: true });
  }
  return o.preset === 'small' ? smallConfig() : tinyConfig();
}

async function device(o: ParsedOptions): Promise<Device> {
  const d = parseDevice(String(o.device ?? 'cpu'));
  await initDevice(d);
  return d;
}

/**
 * Ctrl-C: the first asks training to stop after the current step (with a checkpoint); a second one quits.
 * Returns the flag and a function that removes the handler again.
 */
function installStop(): { stop: { requested: boolean }; remove: () => void } {
  const stop = { requested: false };
  const onSigint = (): void => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    process.stderr.write('\ninterrupt: finishing the current step and saving a checkpoint (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  return { stop, remove: () => { process.off('SIGINT', onSigint); } };
}

async function cmdTrain(o: ParsedOptions): Promise<number> {
  const dev = await device(o);
  const held = o['held-out'] as number;
  if (!(held > 0 && held < 1)) throw new UsageError(`train: --held-out must be in (0, 1), got ${held}`);
  const corpus = loadCorpus(dataSource(o));
  const { stop, remove } = installStop();
  const r = await trainBlt({
    data: corpus, out: String(o.out), config: await modelConfig(o), device: dev, seed: o.seed as number,
    steps: o.steps as number, entropySteps: o['entropy-steps'] as number, batchSize: o['batch-size'] as number,
    seqLen: o['seq-len'] as number, lr: o.lr as number, entropyLr: o['entropy-lr'] as number, warmup: o.warmup as number,
    clip: o.clip as number, weightDecay: o['weight-decay'] as number, targetPatchSize: o['patch-size'] as number,
    heldOutFraction: held, checkpointEvery: o['checkpoint-every'] as number, resume: o.resume === true,
    stopAfter: o['stop-after'] as number | undefined, baseline: o.baseline === true,
    progress: { quiet: o.quiet === true }, stop,
  }).finally(remove);
  if (r.interrupted) {
    console.log(`stopped after ${r.stepsDone} BLT steps; checkpoint saved in ${r.outDir} (continue with --resume)`);
    return stop.requested ? 130 : 0;
  }
  console.log(`threshold ${r.threshold.toFixed(4)} nats; ${r.trainPatchSize.toFixed(2)} bytes/patch (train), ${r.heldOutPatchSize.toFixed(2)} (held out)`);
  console.log(`held-out bits/byte: BLT ${r.bltBpb!.toFixed(4)}, entropy model ${r.entropyBpb!.toFixed(4)}` +
    (r.baseline ? `, byte-level baseline ${r.baseline.bpb.toFixed(4)}` : ''));
  console.log(`checkpoint: ${r.outDir}`);
  return 0;
}

async function cmdEval(p: string[], o: ParsedOptions): Promise<number> {
  const dev = await device(o);
  const model = await loadForInference(p[0], dev, o);
  const batches = evalBatches(loadCorpus(dataSource(o)), o['batch-size'] as number, o['seq-len'] as number, o['max-bytes'] as number);
  const th = model.config.patching.threshold;
  let patches = 0;
  const r = await heldOutBpb(batches, dev,
    (_ids, lengths: Int32Array[], b: ByteBatch) => model.forwardWithPatches(ops.tensor(b.inputs, [b.B, b.T]), lengths).logits,
    async (_ids, b) => {
      const rows = await model.patchLengthsFor(ops.tensor(b.inputs, [b.B, b.T]), { convention: 'N-offline' });
      for (const r of rows) patches += r.length;
      return rows;
    });
  console.log(`bits/byte ${r.bpb.toFixed(4)} over ${r.bytes} bytes; ${(r.bytes / patches).toFixed(2)} bytes/patch (θ = ${th.toFixed(4)})`);
  return 0;
}

/** Texts longer than this many bytes get a progress bar in `blt patch`. */
const LONG_TEXT = 1 << 15;
/** `blt patch` plots at most this many bytes. */
const PLOT_BYTES = 4096;

async function cmdPatch(p: string[], o: ParsedOptions): Promise<number> {
  let text: string | Uint8Array;
  if (typeof o.file === 'string') {
    if (!fs.existsSync(o.file)) throw new CliError(`patch: file '${o.file}' does not exist`);
    text = new Uint8Array(fs.readFileSync(o.file));
  } else if (p[1] !== undefined) text = p[1];
  else throw new UsageError('patch: give the text as an argument or with --file');
  if (text.length === 0) throw new UsageError('patch: the text is empty');
  const dev = await device(o);
  const model = await loadForInference(p[0], dev, o);
  // a progress bar (stderr) once the entropy model needs more than a moment
  const bar = text.length > LONG_TEXT ? new Progress('entropy model', text.length + 1) : null;
  const v = await patchingView(model, text, { threshold: o.threshold as number | undefined, onProgress: bar ? (done) => bar.advance(done) : undefined });
  bar?.finish();
  const color = o['no-color'] !== true && Boolean(process.stdout.isTTY);
  console.log(ansiPatches(patchPieces(v.bytes, v.byteLengths), color));
  console.log(`${v.bytes.length} bytes → ${v.byteLengths.length} patches (${(v.bytes.length / v.byteLengths.length).toFixed(2)} bytes/patch), θ = ${v.threshold.toFixed(4)} nats`);
  const svg = String(o.svg), n = Math.min(v.bytes.length, PLOT_BYTES); // 14 px per byte: plot the start of a long text
  writeFileAtomic(svg, entropyPlotSvg({ bytes: v.bytes.subarray(0, n), entropies: v.entropies.subarray(0, n),
    starts: v.starts.slice(0, n), threshold: v.threshold,
    title: `next-byte entropy and patch boundaries${n < v.bytes.length ? ` (the first ${n} of ${v.bytes.length} bytes)` : ''}` }));
  console.log(`entropy plot${n < v.bytes.length ? ` of the first ${n} bytes` : ''}: ${nodePath.resolve(svg)}`);
  return 0;
}

async function cmdGenerate(p: string[], o: ParsedOptions): Promise<number> {
  const topP = o['top-p'] as number | undefined;
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new UsageError(`generate: --top-p must be in (0, 1], got ${topP}`);
  const dev = await device(o);
  const model = await loadForInference(p[0], dev, o);
  const temperature = o.temperature as number;
  const topK = o['top-k'] as number | undefined;
  const out = await generate(model, p[1], {
    maxNewBytes: o['max-bytes'] as number, seed: o.seed as number,
    sampling: temperature === 0 && topK === undefined && topP === undefined ? { greedy: true }
      : { temperature: temperature === 0 ? 1 : temperature, topK, topP },
  });
  console.log(p[1] + out.text);
  return 0;
}

function needDir(dir: string, what: string): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new CliError(`${what}: folder '${dir}' does not exist`);
}

async function cmdCheckGolden(p: string[], o: ParsedOptions): Promise<number> {
  const dir = p[0] ?? sharedPath('golden');
  needDir(dir, 'check-golden');
  const dev = await device(o);
  const r = isMetaGoldenSet(dir) ? await checkMetaGolden(dir, { device: dev, print: true }) : await checkGolden(dir, { device: dev, print: true });
  return r.ok ? 0 : 1;
}

async function cmdCheckTrainGolden(p: string[], o: ParsedOptions): Promise<number> {
  const dir = p[0] ?? sharedPath('golden-train');
  needDir(dir, 'check-train-golden');
  const dev = await device(o);
  const r = await checkTrainGolden(dir, { device: dev });
  return r.ok ? 0 : 1;
}

async function cmdConvert(p: string[], o: ParsedOptions): Promise<number> {
  if (o.to !== 'hf' && o.to !== 'meta') throw new UsageError('convert: --to hf or --to meta is required');
  const t0 = Date.now();
  const ck = await convertCheckpoint(p[0], p[1], {
    to: o.to, dtype: o.dtype as 'bf16' | 'f32' | undefined, force: o.force === true,
    maxShardBytes: (o['max-shard-mb'] as number) * 1e6, entropyModel: o['entropy-model'] as string | undefined,
  });
  console.log(`converted ${ck.packaging} checkpoint ${p[0]} (${ck.tensors.size} tensors) to ${o.to} in ${p[1]} ` +
    `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return 0;
}

async function cmdFlops(o: ParsedOptions): Promise<number> {
  const cfg = await modelConfig(o);
  const np = o['patch-size'] as number;
  const f = bltFlopsPerByte(cfg, { patchSize: np, contextBytes: o.context as number });
  const fmt = (v: number): string => v.toExponential(3);
  console.log(`forward FLOPs per byte at ${np} bytes/patch, ${String(o.context)}-byte context:`);
  for (const [k, v] of Object.entries(f)) console.log(`  ${k.padEnd(14)} ${fmt(v)}`);
  console.log(`  training ≈ 3 × forward = ${fmt(3 * f.total)} per byte`);
  return 0;
}

async function cmdInit(o: ParsedOptions): Promise<number> {
  if (typeof o.config !== 'string') throw new UsageError('init: --config FILE is required');
  if (typeof o.out !== 'string') throw new UsageError('init: --out DIR is required');
  const cfg = await modelConfig(o);
  const dtype = o.dtype === 'f32' ? 'float32' : 'bfloat16';
  const t0 = performance.now();
  const r = await writeRandomCheckpoint(cfg, String(o.out), {
    dtype, seed: o.seed as number, maxShardBytes: (o['shard-size'] as number) * 1e9,
  });
  console.log(`${r.parameters >= 1e8 ? `${(r.parameters / 1e9).toFixed(3)}B` : r.parameters.toLocaleString('en-US')} parameters (${dtype}) in ${r.files.length} file(s) in ${String(o.out)} ` +
    `(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return 0;
}

function cmdBench(o: ParsedOptions): number {
  const here = nodePath.dirname(fileURLToPath(import.meta.url));
  const entry = nodePath.resolve(here, '../../bench/run.js');
  if (!fs.existsSync(entry)) throw new CliError(`bench: ${entry} not found (run \`npm run build\` first)`);
  const args = [entry, ...(o.quick ? ['--quick'] : []), ...(typeof o.json === 'string' ? ['--json', o.json] : [])];
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  return r.status ?? 1;
}

export async function main(argv: string[]): Promise<number> {
  await enableRelaxedSimd(); // before any CPU kernel module is built (src/backend/cpu/kernels/wasm/node-flags.ts)
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`blt: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  const spec = command.spec;
  try {
    const { positionals: p, opts: o, help } = parseArgs(rest, spec);
    if (help) { console.log(usage(spec)); return 0; }
    try {
      return await command.run(p, o);
    } finally {
      if (o.device === 'webgpu' || name === 'demo') await releaseDevice('webgpu').catch(() => {});
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`blt ${e.message}\n\n${usage(spec)}`);
      return 2;
    }
    console.error(`blt ${name}: ${(e as Error).message}`);
    if (process.env.BLT_DEBUG) console.error((e as Error).stack);
    return 1;
  }
}


// Run when executed as the `blt` bin (not when imported by tests).
const invoked = process.argv[1] ? fs.realpathSync(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
