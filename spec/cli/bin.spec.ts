// The compiled `blt` bin as a real process: the shebang entry point, exit codes on bad input, Ctrl-C
// (SIGINT) during training (a checkpoint is saved, the process exits 130, and --resume finishes the run), and
// the main job with a WebGPU adapter present (it used to abort there).
// The project is compiled once into a temporary folder (tsc emits even when other files have type errors);
// a link to node_modules lets the compiled code import its dependencies (Dawn's `webgpu`).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';

const repo = nodePath.resolve(__dirname, '../..');
let tmp = '';
let bin = '';

beforeAll(() => {
  tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-bin-'));
  const tsc = nodePath.join(repo, 'node_modules/typescript/bin/tsc');
  spawnSync(process.execPath, [tsc, '-p', nodePath.join(repo, 'tsconfig.build.json'), '--outDir', nodePath.join(tmp, 'dist')], { cwd: repo });
  bin = nodePath.join(tmp, 'dist/src/cli/main.js');
  fs.symlinkSync(nodePath.join(repo, 'node_modules'), nodePath.join(tmp, 'node_modules'), 'dir');
  fs.writeFileSync(nodePath.join(tmp, 'text.txt'), 'In the beginning God created the heaven and the earth. '.repeat(40));
}, 120_000);
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function blt(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the blt process', () => {
  it('starts with a node shebang', () => {
    expect(fs.readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
  it('exits 2 on bad arguments and 1 on a missing checkpoint, with a message on stderr', () => {
    let r = blt('train', '--steps', 'many');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--steps needs a number, got 'many'/);
    r = blt('nonsense');
    expect(r.code).toBe(2);
    r = blt('patch', nodePath.join(tmp, 'no-such-ckpt'), 'hi');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no-such-ckpt' does not exist/);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace for a user error
  });
  it('Ctrl-C saves a checkpoint and exits 130; --resume completes the run', async () => {
    const out = nodePath.join(tmp, 'run');
    const args = ['train', '--data', nodePath.join(tmp, 'text.txt'), '--out', out, '--steps', '100000', '--entropy-steps', '2',
      '--batch-size', '1', '--seq-len', '16', '--checkpoint-every', '0'];
    const child = spawn(process.execPath, [bin, ...args], { cwd: tmp });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/BLT step/.test(stderr) && !child.killed) child.kill('SIGINT'); // interrupt once the BLT phase runs
      });
      child.on('exit', (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupt: finishing the current step and saving a checkpoint/);
    const state = nodePath.join(out, 'trainer_state.safetensors');
    expect(fs.existsSync(state)).toBe(true);
    // resume with a reachable step count (options other than --steps must match)
    const r = blt(...args.map((a) => (a === '100000' ? '4' : a)), '--resume', '--quiet');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/held-out bits\/byte: BLT/);
  }, 60_000);
});

// With an adapter (CI installs SwiftShader and sets VK_ICD_FILENAMES) the demo probes it, finds a CPU emulation,
// closes the device and trains on the CPU. It used to abort right after the first training step: closing the
// device also dropped Dawn's instance, whose finalizer then freed native state Dawn still used.
const adapterExpected = Boolean(process.env.CI || process.env.VK_ICD_FILENAMES);

describe.runIf(adapterExpected)('the blt process with a WebGPU adapter present', () => {
  it('runs the main job (a short `blt demo`) to the end', () => {
    const out = nodePath.join(tmp, 'demo');
    const r = spawnSync(process.execPath, [bin, 'demo', '--steps', '2', '--entropy-steps', '2', '--batch-size', '2',
      '--seq-len', '32', '--out', out, '--data', nodePath.join(repo, 'data/corpus')], { cwd: tmp, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/device: (webgpu|cpu \(the WebGPU adapter is )/); // the adapter was found
    expect(fs.existsSync(nodePath.join(out, 'report.html'))).toBe(true);
  }, 120_000);

  it('survives garbage collection after a WebGPU device was opened and closed', () => {
    const entry = nodePath.join(tmp, 'dist/src/index.js'), webgpu = nodePath.join(tmp, 'dist/src/backend/webgpu/index.js');
    const script = `await import(${JSON.stringify(entry)}); // the Node entry sets Dawn as WebGPU's way to the GPU
      const { initWebGpu, destroyWebGpu } = await import(${JSON.stringify(webgpu)});
      for (let round = 0; round < 2; round++) {
        await initWebGpu();
        destroyWebGpu();
        globalThis.gc();
        const junk = Array.from({ length: 50 }, () => new Float64Array(1 << 16));
        await new Promise((r) => setTimeout(r, 20 + junk.length));
        globalThis.gc();
      }
      console.log('healthy');`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { cwd: tmp, encoding: 'utf8' });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('healthy');
  }, 60_000);
});
