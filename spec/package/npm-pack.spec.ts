/**
 * The project is a real npm package: `npm pack` builds it (the `prepare` script compiles to dist/), and the
 * tarball installs into an empty project where plain JavaScript can import it and train a step.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

describe('npm package', () => {
  it('packs, installs into an empty project and works from plain JavaScript', () => {
    const dir = mkdtempSync(join(tmpdir(), 'blt-pack-'));
    try {
      const out = execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: root, encoding: 'utf8' });
      const tarball = out.trim().split('\n').pop()!;
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module' }));
      execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', join(dir, tarball)], { cwd: dir, encoding: 'utf8' });
      writeFileSync(join(dir, 'use.mjs'), `
        import { ops, backward } from 'blt-ts';
        const w = ops.tensor([[1, 2], [3, 4]], undefined, { requiresGrad: true });
        const y = ops.sum(ops.matmul(w, w));
        backward(y);
        console.log(JSON.stringify({ y: y.item(), g: Array.from(w.grad.dataSync()) }));
      `);
      const res = JSON.parse(execFileSync('node', ['use.mjs'], { cwd: dir, encoding: 'utf8' }));
      // y = sum(W W) = 7+10+15+22 = 54 ; d/dW sum(W W) = 1 W^T + W^T 1 (ones matrices)
      expect(res.y).toBe(54);
      expect(res.g).toEqual([7, 11, 9, 13]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
