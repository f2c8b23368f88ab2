// The compiled `blt` bin as a real process: the shebang entry point, exit codes on bad input, and Ctrl-C
// (SIGINT) during training: a checkpoint is saved, the process exits 130, and --resume finishes the run.
// The project is compiled once into a temporary folder (tsc emits even when other files have type errors).
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
