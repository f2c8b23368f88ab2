// Progress output: a redrawn bar on a terminal, plain lines (every n steps, the first and the last) elsewhere.
import { describe, expect, it } from 'vitest';
import { Progress, type StepRecord } from '../../src/train/progress.js';

function rec(step: number): StepRecord {
  return { phase: 'blt', step, loss: 2.0794, bpb: 3, gradNorm: 0.5, lr: 1e-3, bytesPerSec: 1234.4, elapsedSec: step + 1 };
}

function sink(isTTY: boolean): { out: string[]; stream: { write(s: string): boolean; isTTY: boolean } } {
  const out: string[] = [];
  return { out, stream: { write: (s: string) => { out.push(s); return true; }, isTTY } };
}

describe('Progress', () => {
  it('draws one bar line on a TTY with step, loss, bits/byte, bytes/s and ETA', () => {
    const s = sink(true);
    const p = new Progress('BLT', 4, { stream: s.stream });
    for (let i = 0; i < 4; i++) p.update(rec(i), 0);
    p.finish();
    expect(s.out.length).toBe(5); // 4 redraws + the final newline
    expect(s.out[1]).toMatch(/^\r\x1b\[2KBLT █+░+ 2\/4 {2}loss 2\.0794 {2}bpb 3\.000 {2}1234 B\/s {2}ETA 2s$/);
    expect(s.out[4]).toBe('\n');
  });
  it('prints plain lines on a pipe: the first step, every n-th and the last', () => {
    const s = sink(false);
    const p = new Progress('entropy model', 7, { stream: s.stream, every: 3 });
    for (let i = 0; i < 7; i++) p.update(rec(i), 0);
    expect(s.out.map((l) => /step (\d+)\/7/.exec(l)![1])).toEqual(['1', '3', '6', '7']);
    expect(s.out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
  });
  it('counts units of work (bytes read by the entropy model): a bar on a TTY, a line per tenth elsewhere', () => {
    const tty = sink(true);
    const bar = new Progress('entropy model', 1000, { stream: tty.stream });
    bar.advance(250);
    bar.finish();
    expect(tty.out[0]).toMatch(/^\r\x1b\[2Kentropy model █{6}░{18} 250\/1000 B {2}\d+ B\/s {2}ETA \S+$/);
    const pipe = sink(false);
    const lines = new Progress('entropy model', 1000, { stream: pipe.stream });
    for (let d = 50; d <= 1000; d += 50) lines.advance(d);
    expect(pipe.out.map((l) => /(\d+)\/1000/.exec(l)![1])).toEqual(['50', '100', '200', '300', '400', '500', '600', '700', '800', '900', '1000']);
  });
  it('is silent when quiet', () => {
    const s = sink(true);
    const p = new Progress('x', 2, { stream: s.stream, quiet: true });
    p.update(rec(0), 0);
    p.log('hello');
    expect(s.out).toEqual([]);
  });
});
