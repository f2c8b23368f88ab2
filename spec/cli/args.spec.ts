// The hand-written argument parser: values, flags, positionals, and a clear UsageError for every mistake.
import { describe, expect, it } from 'vitest';
import { parseArgs, usage, UsageError, type CommandSpec } from '../../src/cli/args.js';

const SPEC: CommandSpec = {
  name: 'demo-cmd',
  summary: 'a test command',
  positionals: [{ name: 'dir', required: true, help: 'a folder' }, { name: 'text', required: false, help: 'some text' }],
  options: {
    steps: { type: 'int', help: 'steps', default: 10, min: 1 },
    lr: { type: 'number', help: 'learning rate', default: 0.1 },
    device: { type: 'string', help: 'device', default: 'cpu', choices: ['cpu', 'webgpu'] },
    resume: { type: 'bool', help: 'resume' },
    out: { type: 'string', help: 'output' },
  },
};

describe('parseArgs', () => {
  it('reads --k v, --k=v, flags, defaults and positionals', () => {
    const r = parseArgs(['d', '--steps', '5', '--lr=0.5', '--resume', 'hello world', '--device', 'webgpu'], SPEC);
    expect(r.positionals).toEqual(['d', 'hello world']);
    expect(r.opts).toMatchObject({ steps: 5, lr: 0.5, resume: true, device: 'webgpu', out: undefined });
    expect(parseArgs(['d'], SPEC).opts).toMatchObject({ steps: 10, lr: 0.1, device: 'cpu' });
  });
  it('accepts negative numbers as values and -- to end options', () => {
    expect(parseArgs(['d', '--lr', '-1e-3'], SPEC).opts.lr).toBe(-1e-3);
    expect(parseArgs(['--', '--not-an-option'], SPEC).positionals).toEqual(['--not-an-option']);
  });
  it.each([
    [['d', '--bogus'], /unknown option '--bogus'/],
    [['d', '--steps'], /--steps needs a value/],
    [['d', '--steps', '--lr', '1'], /--steps needs a value/],
    [['d', '--steps', 'abc'], /--steps needs a number, got 'abc'/],
    [['d', '--steps', '2.5'], /--steps needs an integer, got '2.5'/],
    [['d', '--steps', '0'], /--steps must be ≥ 1, got 0/],
    [['d', '--device', 'tpu'], /--device must be one of cpu, webgpu, got 'tpu'/],
    [['d', '--resume=maybe'], /--resume is a flag/],
    [[], /missing <dir>/],
    [['a', 'b', 'c'], /unexpected argument 'c'/],
    [['d', '-x'], /unknown option '-x'/],
  ])('%j -> UsageError %s', (argv, msg) => {
    expect(() => parseArgs(argv as string[], SPEC)).toThrow(UsageError);
    expect(() => parseArgs(argv as string[], SPEC)).toThrow(msg);
  });
  it('--help skips the required-argument check', () => {
    expect(parseArgs(['--help'], SPEC).help).toBe(true);
  });
  it('usage lists every option with its default', () => {
    const u = usage(SPEC);
    expect(u).toMatch(/usage: blt demo-cmd <dir> \[text\] \[options\]/);
    for (const k of Object.keys(SPEC.options)) expect(u).toContain(`--${k}`);
    expect(u).toContain('(default 10)');
  });
});
