// ops-imports.spec.ts — src/ops reads bottom-up: no import cycle between its files, and each file imports only
// from check.ts and from files listed before it in src/ops/index.ts.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const OPS_DIR = fileURLToPath(new URL('../../src/ops/', import.meta.url));

/** The sibling files ('./x.js' -> 'x') a source text imports or re-exports, type-only imports included. */
function localImports(source: string): string[] {
  const found = [...source.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+'\.\/([\w-]+)\.js'/gm)].map((m) => m[1]);
  return [...new Set(found)];
}

/** The import graph of src/ops: file name (without .ts) -> the sibling files it imports. */
function opsGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of readdirSync(OPS_DIR).filter((f) => f.endsWith('.ts'))) {
    graph.set(file.slice(0, -3), localImports(readFileSync(join(OPS_DIR, file), 'utf8')));
  }
  return graph;
}

/** A cycle as a path [a, b, ..., a], or null. Depth-first search colouring nodes on the stack. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('src/ops import structure', () => {
  it('the cycle finder finds a cycle and accepts a layered graph', () => {
    expect(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['a']]]))).toEqual(['a', 'a']);
    expect(findCycle(new Map([['top', ['mid', 'low']], ['mid', ['low']], ['low', []]]))).toBeNull();
    expect(localImports("import { a } from './x.js';\nimport type { B } from './y.js';\nexport * from './z.js';\nimport { T } from '../t.js';"))
      .toEqual(['x', 'y', 'z']);
  });

  it('has no import cycle between the files of src/ops', () => {
    const graph = opsGraph();
    expect(graph.get('elementwise')).toContain('reduce'); // the parser sees the real imports
    const cycle = findCycle(graph);
    expect(cycle, cycle ? `import cycle: ${cycle.join(' -> ')}` : '').toBeNull();
  });

  it('each file imports only check.ts and files listed before it in index.ts', () => {
    const graph = opsGraph();
    const order = localImports(readFileSync(join(OPS_DIR, 'index.ts'), 'utf8').replace(/^import .*$/gm, ''));
    expect(new Set(order)).toEqual(new Set([...graph.keys()].filter((f) => f !== 'index' && f !== 'check')));
    order.forEach((file, i) => {
      for (const dep of graph.get(file)!) {
        if (dep === 'check') continue;
        expect(order.indexOf(dep), `${file}.ts imports ${dep}.ts, which index.ts lists after it`).toBeLessThan(i);
        expect(order.indexOf(dep), `${file}.ts imports ${dep}.ts, which index.ts does not list`).toBeGreaterThanOrEqual(0);
      }
    });
  });
});
