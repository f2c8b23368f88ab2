// The `blt` command line, run in-process through main(argv): exit codes and messages on bad input
// (0 ok, 1 failure such as a missing or unfit checkpoint, 2 bad arguments), and the commands on a micro model.
import { describe, expect, it, beforeAll, afterAll, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { main } from '../../src/cli/main.js';
import { trainBlt } from '../../src/train/trainer.js';
import { corpusFromTexts } from '../../src/train/data.js';
import { microConfig, TEXTS } from '../train/fixtures.js';

let root = '';
let ckpt = '';

/** Runs main(argv), returning the exit code and everything printed. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

beforeAll(async () => {
  root = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-cli-'));
  ckpt = nodePath.join(root, 'ckpt');
  await trainBlt({
    data: corpusFromTexts(TEXTS), out: ckpt, config: microConfig(), steps: 2, entropySteps: 2, batchSize: 2, seqLen: 24,
    targetPatchSize: 3, heldOutFraction: 0.2, evalBytes: 48, progress: { quiet: true }, log: () => {},
  });
  fs.writeFileSync(nodePath.join(root, 'text.txt'), TEXTS.join('\n'));
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('blt: bad input', () => {
  it('no command prints the help and exits 2; --help exits 0', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/usage: blt <command>/);
    for (const c of ['train', 'eval', 'patch', 'generate', 'check-golden', 'check-train-golden', 'convert', 'flops', 'init', 'bench', 'demo']) {
      const line = r.out.split('\n').find((l) => l.startsWith(`  ${c} `));
      expect(line, c).toBeDefined();
      // each command's line is its summary's whole first sentence (it was once cut at "e.g.")
      expect(line!.split('(').length, line).toBe(line!.split(')').length);
    }
    expect((await run('--help')).code).toBe(0);
    expect((await run('train', '--help')).out).toMatch(/--entropy-steps/);
  });
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['train', '--bogus'], /unknown option '--bogus'/],
    [['train', '--steps', 'abc'], /--steps needs a number, got 'abc'/],
    [['train', '--device', 'tpu'], /--device must be one of cpu, webgpu/],
    [['train', '--held-out', '1.5'], /--held-out must be in \(0, 1\)/],
    [['eval'], /missing <checkpoint>/],
    [['generate', 'x'], /missing <prompt>/],
    [['generate', 'x', 'y', '--top-p', '2'], /--top-p must be in \(0, 1\]/],
    [['flops', '--patch-size', '0'], /--patch-size must be ≥ 1/],
    [['patch', 'x', 'y', 'z'], /unexpected argument 'z'/],
  ])('%j exits 2 with %s', async (argv, msg) => {
    const r = await run(...(argv as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(msg);
  });
  it('missing files and folders exit 1 naming the path', async () => {
    const missing = nodePath.join(root, 'nope');
    for (const argv of [['eval', missing], ['patch', missing, 'hi'], ['generate', missing, 'hi'], ['check-golden', missing],
      ['check-train-golden', missing], ['train', '--data', missing, '--out', nodePath.join(root, 'o')], ['flops', '--config', missing]]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err, argv.join(' ')).toContain(missing);
    }
    const r = await run('patch', ckpt, '--file', missing);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/does not exist/);
  });
  it('a folder without config.json, and a checkpoint that does not fit its config, exit 1', async () => {
    const empty = nodePath.join(root, 'empty');
    fs.mkdirSync(empty);
    let r = await run('eval', empty);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/config\.json is missing/);
    const bad = nodePath.join(root, 'bad');
    fs.mkdirSync(bad);
    fs.copyFileSync(nodePath.join(ckpt, 'model.safetensors'), nodePath.join(bad, 'model.safetensors'));
    const cfg = JSON.parse(fs.readFileSync(nodePath.join(ckpt, 'config.json'), 'utf8'));
    cfg.encoder_hash_byte_group_vocab = 65; // the hash table in the weights has 64 rows per n-gram size
    fs.writeFileSync(nodePath.join(bad, 'config.json'), JSON.stringify(cfg));
    r = await run('generate', bad, 'hi', '--max-bytes', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot be loaded.*encoder_hash_tok_embedding/s);
  });
  it('train --resume without a previous run exits 1', async () => {
    const r = await run('train', '--data', nodePath.join(root, 'text.txt'), '--out', nodePath.join(root, 'fresh'), '--resume', '--quiet');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nothing to resume/);
  });
});

describe('blt: commands on a micro checkpoint', () => {
  it('patch prints the patches and writes the entropy SVG', async () => {
    const svg = nodePath.join(root, 'p.svg');
    const r = await run('patch', ckpt, 'Les hommes naissent libres.', '--svg', svg, '--no-color');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\d+ bytes → \d+ patches/);
    expect(r.out.split('\n')[0].replace(/\|/g, '')).toBe('Les hommes naissent libres.');
    expect(fs.readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*θ = [\s\S]*<\/svg>$/);
  });
  it('eval prints bits per byte and bytes per patch', async () => {
    const r = await run('eval', ckpt, '--data', nodePath.join(root, 'text.txt'), '--seq-len', '32', '--max-bytes', '128');
    expect(r.code).toBe(0);
    const bpb = Number(/bits\/byte ([\d.]+)/.exec(r.out)![1]);
    expect(bpb).toBeGreaterThan(0);
    expect(bpb).toBeLessThan(10);
    expect(r.out).toMatch(/over 128 bytes/);
  });
  it('generate continues the prompt (greedy and top-k sampling)', async () => {
    const g = await run('generate', ckpt, 'In the', '--max-bytes', '3');
    expect(g.code).toBe(0);
    expect(g.out.startsWith('In the')).toBe(true);
    const s = await run('generate', ckpt, 'In the', '--max-bytes', '3', '--temperature', '1', '--top-k', '5', '--seed', '7');
    expect(s.code).toBe(0);
  });
  it('flops prints the per-byte breakdown', async () => {
    const r = await run('flops', '--patch-size', '8');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/total\s+\d\.\d+e\+\d/);
  });
});

describe('blt demo', () => {
  it('runs end to end on the bundled corpus (2 steps each) and writes the HTML report', async () => {
    const out = nodePath.join(root, 'demo');
    const r = await run('demo', '--device', 'cpu', '--steps', '2', '--entropy-steps', '2', '--batch-size', '2', '--seq-len', '32', '--out', out, '--quiet');
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out.trim().split('\n').pop()!) as { bltBpb: number; baselineBpb: number; bytesPerPatch: number; report: string };
    for (const v of [summary.bltBpb, summary.baselineBpb]) { expect(v).toBeGreaterThan(0); expect(v).toBeLessThan(10); }
    expect(summary.bytesPerPatch).toBeGreaterThan(1);
    const html = fs.readFileSync(summary.report, 'utf8');
    expect(html).toContain('held-out bits/byte, BLT');
    expect(html.match(/<svg/g)!.length).toBe(1 + 4); // loss curves + one entropy plot per sample sentence
    expect(fs.existsSync(nodePath.join(out, 'model.safetensors'))).toBe(true);
    expect(fs.existsSync(nodePath.join(out, 'baseline', 'model.safetensors'))).toBe(true);
  }, 60_000);
});

describe('blt init', () => {
  it('writes a seeded random checkpoint of a partial HF config, sharded, that loads and generates', async () => {
    const cfgFile = nodePath.join(root, 'partial.json');
    // a partial config: every omitted field takes HF's BLT-1B default (useHfDefaults), shrunk where given
    fs.writeFileSync(cfgFile, JSON.stringify({
      encoder_hash_byte_group_vocab: 50, encoder_hash_byte_group_size: [3, 4],
      encoder_config: { hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, hidden_size_global: 64 },
      decoder_config: { hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, num_hidden_layers: 1, hidden_size_global: 64 },
      global_config: { hidden_size: 64, num_attention_heads: 2, intermediate_size: 128, num_hidden_layers: 1 },
      patcher_config: { hidden_size: 32, num_attention_heads: 2, intermediate_size: 64, num_hidden_layers: 1 },
    }));
    const a = nodePath.join(root, 'init-a'), b = nodePath.join(root, 'init-b'), c = nodePath.join(root, 'init-c');
    const r = await run('init', '--config', cfgFile, '--dtype', 'bf16', '--out', a, '--seed', '3', '--shard-size', '0.00003');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/(^|\s)[1-9][\d,]* parameters \(bfloat16\) in \d+ file\(s\)/); // a count a reader can use (it once said 0.000B)
    expect(fs.existsSync(nodePath.join(a, 'model.safetensors.index.json'))).toBe(true);
    expect((await run('init', '--config', cfgFile, '--out', b, '--seed', '3')).code).toBe(0); // one file
    expect((await run('init', '--config', cfgFile, '--out', c, '--seed', '4')).code).toBe(0);
    const { loadBltCheckpoint } = await import('../../src/blt/checkpoint.js');
    const [ma, mb, mc] = await Promise.all([a, b, c].map((d) => loadBltCheckpoint(d)));
    const wa = await ma.lm_head.weight.data(), wb = await mb.lm_head.weight.data(), wc = await mc.lm_head.weight.data();
    expect(ma.lm_head.weight.dtype).toBe('bfloat16');
    expect(Array.from(wa)).toEqual(Array.from(wb)); // same seed: same values, whatever the sharding
    expect(Array.from(wa)).not.toEqual(Array.from(wc));
    // the model's own init: truncated normal with std d^-1/2 (here dD = 32), norm scales 1
    const std = Math.sqrt(Array.from(wa).reduce((s, x) => s + x * x, 0) / wa.length);
    expect(std).toBeGreaterThan(0.9 * 0.986 * 32 ** -0.5);
    expect(std).toBeLessThan(1.1 * 0.986 * 32 ** -0.5);
    expect(wa.every((x) => Math.abs(x) <= 3.01 * 32 ** -0.5)).toBe(true);
    expect(Array.from(await ma.model.local_decoder.norm.weight.data()).every((x) => x === 1)).toBe(true);
    const g = await run('generate', a, 'my name is', '--max-bytes', '3');
    expect(g.code, g.err).toBe(0);
    expect(g.out.startsWith('my name is')).toBe(true);
    expect((await run('init', '--out', a)).code).toBe(2); // --config is required
  });
});
