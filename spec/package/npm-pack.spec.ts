/**
 * The project is a real npm package: `npm pack` builds it (the `prepare` script compiles to dist/), and the
 * tarball installs into an empty project where plain JavaScript can import it and train a step, through the
 * Node entry and through the browser entry (the `browser` export condition). The browser entry's import graph
 * reaches no node:* module and no other package.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

/** Every module specifier that compiled ESM file `file` imports (static, re-exported and dynamic). */
function specifiers(file: string): string[] {
  const js = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const re of [/\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of js.matchAll(re)) out.push(m[1]);
  }
  return out;
}

/** The files reachable from `entry` through relative imports, and every non-relative specifier met on the way. */
function importGraph(entry: string): { files: string[]; external: string[] } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const s of specifiers(f)) {
      if (s.startsWith('.')) todo.push(resolve(dirname(f), s));
      else external.add(s);
    }
  }
  return { files: [...seen], external: [...external].sort() };
}

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
      // y = sum(W W) = 7+10+15+22 = 54 ; d/dW sum(W W) = 1 W^T + W^T 1 (ones matrices)
      const res = JSON.parse(execFileSync('node', ['use.mjs'], { cwd: dir, encoding: 'utf8' }));
      expect(res).toEqual({ y: 54, g: [7, 11, 9, 13] });
      // the browser entry, chosen by the export condition, runs the same code (on one thread: no Web Workers here)
      const web = JSON.parse(execFileSync('node', ['--conditions=browser', 'use.mjs'], { cwd: dir, encoding: 'utf8' }));
      expect(web).toEqual({ y: 54, g: [7, 11, 9, 13] });
      const pkg = join(dir, 'node_modules', 'blt-ts');
      const browser = importGraph(join(pkg, 'dist/src/index.browser.js'));
      expect(browser.files.length).toBeGreaterThan(50);
      expect(browser.files.every(existsSync)).toBe(true);
      expect(browser.external).toEqual([]); // no node:*, no 'webgpu' (Dawn), nothing outside the package
      expect(browser.files.some((f) => f.endsWith('platform/node.js') || f.endsWith('io/node-files.js'))).toBe(false);
      // the Node entry reaches node:* modules, and Dawn only through a dynamic import
      const node = importGraph(join(pkg, 'dist/src/index.js'));
      expect(node.external).toContain('node:worker_threads');
      expect(node.external).toContain('webgpu');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
