// golden-meta.spec.ts — Meta's own outputs (../shared/golden-meta) reproduced on device 'webgpu' through the same
// `checkMetaGolden` the CPU spec runs (spec/blt/model/golden-meta.spec.ts), on a subset chosen from the set's own
// files: the case that holds several documents (Meta's EOS masks) and the shortest case that is longer than the
// local attention window (the CPU spec covers the rest, including the long case beyond the entropy model's window,
// which takes ~30 s on SwiftShader). Every packaging in the set is loaded. Tolerances are goldenTolerance('webgpu'):
// the README's atol 1e-4 on logits and hidden states, 2 × 1e-5 on entropies (the error model in
// spec/webgpu/integration/golden.spec.ts: WebGPU's float32 error and the reference's add up).
import fs from 'node:fs';
import nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkMetaGolden, metaGoldenModelDir } from '../../../src/blt/golden-meta.js';
import { sharedPath } from '../../../src/io/shared-dir.js';
import { openCheckpoint } from '../../../src/blt/packaging/open.js';
import { useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';
import { nodeFiles } from '../../../src/io/node-files.js';

const META = sharedPath('golden-meta');
useWebGpuBackend(); // the installed backend for this file (device "webgpu")

/** The set's cases as (name, number of documents, number of tokens). */
function cases(): { name: string; docs: number; tokens: number }[] {
  const dir = nodePath.join(metaGoldenModelDir(META)!, 'cases');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => {
    const j = JSON.parse(fs.readFileSync(nodePath.join(dir, f), 'utf8'));
    return { name: f.slice(0, -5), docs: j.documents.length, tokens: j.input_ids.length };
  });
}

describe.runIf(RUN_WEBGPU)('Meta\'s golden outputs on webgpu', () => {
  it('the multi-document case and a case beyond the local window match Meta from every packaging', async () => {
    const all = cases();
    const window = openCheckpoint(nodeFiles, nodePath.join(metaGoldenModelDir(META)!, 'hub')).config.behaviour.localWindow!;
    const beyond = all.filter((c) => c.tokens > window).reduce((a, b) => (b.tokens < a.tokens ? b : a));
    const subset = [all.find((c) => c.docs > 1)!.name, beyond.name];
    const { ok, rows } = await checkMetaGolden(META, { device: 'webgpu', cases: subset });
    expect(rows.filter((r) => !r.ok).map((r) => `${r.packaging}/${r.case} [${r.check}] ${r.value}`)).toEqual([]);
    expect(ok).toBe(true);
    expect(new Set(rows.map((r) => r.case))).toEqual(new Set(subset));
    expect(rows.some((r) => r.check === 'logits')).toBe(true);
  }, 120_000);
});
