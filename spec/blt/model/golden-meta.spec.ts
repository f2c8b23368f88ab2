// Meta's own outputs (../shared/golden-meta, made by Meta's bytelatent code) reproduced from every packaging the set
// holds, through `checkMetaGolden` itself, with the "reference" preset the Meta config maps to. The expectations
// are derived from the set's own files (case list, variants, stored tensors), never from names written here, and
// a renamed copy of the set and a corrupted copy show that the check is generic and that it can fail.
import fs from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../../src/index.js';
import { checkMetaGolden, isMetaGoldenSet, metaGoldenModelDir } from '../../../src/blt/golden-meta.js';
import { readSafetensorsFile } from '../../../src/io/safetensors-file.js';
import { writeSafetensors } from '../../../src/io/safetensors-writer.js';
import { openCheckpoint } from '../../../src/blt/packaging/open.js';
import { sharedPath } from '../../../src/io/shared-dir.js';
import { nodeFiles } from '../../../src/io/node-files.js';

const META = sharedPath('golden-meta');
const tmp = fs.mkdtempSync(nodePath.join(os.tmpdir(), 'blt-golden-meta-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const modelDir = metaGoldenModelDir(META)!;
const caseNames = fs.readdirSync(nodePath.join(modelDir, 'cases')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
const caseJson = (dir: string, name: string) => JSON.parse(fs.readFileSync(nodePath.join(dir, 'cases', `${name}.json`), 'utf8'));

describe('golden-meta: Meta\'s outputs from every packaging', () => {
  it('is recognised as Meta\'s set, and the HF set is not', () => {
    expect(isMetaGoldenSet(META)).toBe(true);
    expect(isMetaGoldenSet(sharedPath('golden'))).toBe(false);
  });

  it('every case of the set, every stored variant and tensor, from each packaging, within the README\'s tolerances', async () => {
    const manifest = JSON.parse(fs.readFileSync(nodePath.join(META, 'manifest.json'), 'utf8'));
    expect(caseNames).toEqual([...manifest.cases].sort()); // the manifest and the case files agree
    const { ok, rows, packagings } = await checkMetaGolden(META);
    const failures = rows.filter((r) => !r.ok).map((r) => `${r.packaging}/${r.case} [${r.check}] ${r.value} > ${r.tolerance}`);
    expect(failures).toEqual([]);
    expect(ok).toBe(true);
    // the original .pth folder, the Hub folder, and the BF16 entropy model stored alone are all found
    const blts = [...new Set(rows.filter((r) => r.check === 'logits').map((r) => r.packaging))];
    expect(blts.length).toBeGreaterThanOrEqual(2);
    expect(packagings.length).toBe(blts.length + new Set(rows.filter((r) => r.informational).map((r) => r.packaging)).size);
    for (const p of blts) {
      for (const name of caseNames) {
        const mine = rows.filter((r) => r.packaging === p && r.case === name);
        const checks = new Set(mine.map((r) => r.check));
        const meta = caseJson(modelDir, name);
        const stored = Object.keys(meta.tensors as Record<string, unknown>);
        for (const v of Object.keys(meta.variants)) expect(checks.has(`patch_lengths ${v}`), `${p}/${name} ${v}`).toBe(true);
        for (const key of ['tokens', 'hash.ids', 'entropies', 'patch_ids', 'decoder_patch_ids', 'local mask', 'logits']) {
          expect(checks.has(key), `${p}/${name} ${key}`).toBe(true);
        }
        // every stored float tensor of the forward is compared (the bf16 rows are informational, checked separately)
        const notCompared = stored.filter((k) => !checks.has(k) && !/patch_lengths$|patch_ids$|^input_ids$|^hash\.ids$|^entropies$|^global_tokens$|^bf16\./.test(k) &&
          !(k === 'loss' && meta.loss == null));
        expect(notCompared, `${p}/${name}`).toEqual([]);
        if (meta.loss != null) expect(checks.has('loss'), `${p}/${name} loss`).toBe(true);
      }
    }
  }, 60_000);

  it('fails where Meta\'s masks matter when they are switched off (HF\'s plain causal attention), and only there', async () => {
    const hfMasks = { localWindow: null, patcherWindow: null, documentMask: false };
    const { rows } = await checkMetaGolden(META, { behaviour: hfMasks });
    const window = openCheckpoint(nodeFiles, nodePath.join(modelDir, 'hub')).config.behaviour.localWindow!;
    for (const name of caseNames) {
      const meta = caseJson(modelDir, name);
      const needsMasks = meta.documents.length > 1 || meta.input_ids.length > window;
      const logits = rows.filter((r) => r.case === name && r.check === 'logits');
      expect(logits.length).toBeGreaterThan(0);
      // the HF port matches Meta bit for bit on one document shorter than the window, and differs otherwise
      for (const r of logits) expect(r.ok, `${r.packaging}/${name}: logits ${r.value}`).toBe(!needsMasks);
    }
  }, 60_000);

  it('blt check-golden detects the set and exits 0 on it', async () => {
    const { main } = await import('../../../src/cli/main.js');
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
    try {
      expect(await main(['check-golden', META])).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(lines.at(-1)).toMatch(/^golden-meta: (\d+)\/\1 checks within tolerance over \d+ cases and \d+ folders/);
    expect(lines.some((l) => l.startsWith('FAIL'))).toBe(false);
  }, 60_000);

  it('passes on a renamed copy of the set (model folder, BLT folder, a case and a variant renamed), so nothing is hard-coded', async () => {
    const copy = nodePath.join(tmp, 'renamed');
    fs.cpSync(META, copy, { recursive: true });
    for (const f of fs.readdirSync(copy, { recursive: true }) as string[]) fs.chmodSync(nodePath.join(copy, f), 0o755);
    const manifestPath = nodePath.join(copy, 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    fs.renameSync(nodePath.join(copy, manifest.model_dir), nodePath.join(copy, 'other_model'));
    const md = nodePath.join(copy, 'other_model');
    const bltParent = nodePath.join(md, 'blt');
    const bltName = fs.readdirSync(bltParent).find((d) => d !== 'entropy_model')!;
    fs.renameSync(nodePath.join(bltParent, bltName), nodePath.join(bltParent, 'renamed_blt'));
    const [first, second] = caseNames;
    // keep two cases: one renamed, and one whose first variant is stored under a new name
    for (const name of caseNames.slice(2)) for (const ext of ['json', 'safetensors']) fs.rmSync(nodePath.join(md, 'cases', `${name}.${ext}`));
    for (const ext of ['json', 'safetensors']) fs.renameSync(nodePath.join(md, 'cases', `${first}.${ext}`), nodePath.join(md, 'cases', `unseen_case.${ext}`));
    const j = caseJson(md, second);
    const v0 = Object.keys(j.variants)[0];
    j.variants.another_variant = j.variants[v0];
    fs.writeFileSync(nodePath.join(md, 'cases', `${second}.json`), JSON.stringify(j));
    const stPath = nodePath.join(md, 'cases', `${second}.safetensors`);
    const { tensors } = readSafetensorsFile(stPath);
    tensors.set('another_variant.patch_lengths', tensors.get(`${v0}.patch_lengths`)!);
    fs.writeFileSync(stPath, writeSafetensors(tensors));
    fs.writeFileSync(manifestPath, JSON.stringify({ ...manifest, model_dir: 'other_model', cases: ['unseen_case', second] }));

    const { ok, rows } = await checkMetaGolden(copy);
    expect(rows.filter((r) => !r.ok)).toEqual([]);
    expect(ok).toBe(true);
    expect(new Set(rows.map((r) => r.case))).toEqual(new Set(['unseen_case', second]));
    expect(rows.some((r) => r.packaging === nodePath.join('blt', 'renamed_blt') && r.check === 'logits')).toBe(true);
    expect(rows.some((r) => r.case === second && r.check === 'patch_lengths another_variant' && r.ok)).toBe(true);
  }, 60_000);

  it('fails, naming the check, when Meta\'s stored logits or a variant\'s patch lengths are changed', async () => {
    const copy = nodePath.join(tmp, 'corrupt');
    fs.cpSync(META, copy, { recursive: true });
    for (const f of fs.readdirSync(copy, { recursive: true }) as string[]) fs.chmodSync(nodePath.join(copy, f), 0o755);
    const md = metaGoldenModelDir(copy)!;
    const name = caseNames.find((n) => caseJson(md, n).num_tokens > 3)!;
    const stPath = nodePath.join(md, 'cases', `${name}.safetensors`);
    const { tensors } = readSafetensorsFile(stPath);
    const logits = tensors.get('logits')!;
    (logits.data as Float32Array)[logits.data.length - 1] += 1e-3; // beyond 1e-4
    const v = Object.keys(caseJson(md, name).variants).at(-1)!;
    const lengths = tensors.get(`${v}.patch_lengths`)!.data as Int32Array;
    lengths[lengths.length - 1] += 1;
    fs.writeFileSync(stPath, writeSafetensors(tensors));
    const { ok, rows } = await checkMetaGolden(copy, { cases: [name] });
    expect(ok).toBe(false);
    const failed = new Set(rows.filter((r) => !r.ok).map((r) => r.check));
    expect(failed).toEqual(new Set(['logits', `patch_lengths ${v}`]));
  }, 60_000);
});
