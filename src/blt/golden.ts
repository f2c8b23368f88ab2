/**
 * Golden check against Hugging Face's BLT (the set ../shared/golden beside the repository): loads each config's
 * checkpoint, runs every stored case and compares
 *   - entropy variant: our entropies (atol 1e-5) -> our patch lengths (exact) -> our logits (max abs <= 1e-4);
 *   - stride4 / byte variants: logits from the stored patch lengths (max abs <= 1e-4);
 *   - entropy_maxlen{M} (lengths only): our entropy patch lengths split at M (exact).
 * Tolerances are the golden set's own (its README): an independent float32 re-implementation reaches ~5e-6 on logits.
 * On a logits mismatch the intermediates (hash.embeds, encoder.hidden, encoder.patches, global.out,
 * decoder.out) are compared too, to say where the divergence starts.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { type RawTensor } from '../io/safetensors.js';
import { readSafetensorsFile } from '../io/safetensors-file.js';
import { scopeAsync } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import type { Device } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadBltCheckpoint } from './checkpoint.js';
import type { Blt } from './blt.js';
import { sharedPath } from '../io/shared-dir.js';

export const GOLDEN_TOLERANCE = { entropy: 1e-5, logits: 1e-4 };

/**
 * The tolerance for a device. On the CPU the distance to HF is about HF's own float32 rounding error
 * (measured <= 7.1e-6 on entropies with float64-accumulating kernels, <= 7.4e-6 with the float32 wasm
 * matmul). WebGPU accumulates in float32 like HF but in another order, so its distance to HF is the sum of two
 * such errors: by the triangle inequality |gpu - hf| <= |gpu - cpu| + |cpu - hf| <= 1e-5 + 1e-5
 * (spec/webgpu/integration/golden.spec.ts asserts |gpu - cpu| <= 1e-5). Logits keep 1e-4 everywhere
 * (measured ~1e-5 on WebGPU).
 */
export function goldenTolerance(device: Device): { entropy: number; logits: number } {
  return device === 'webgpu' ? { ...GOLDEN_TOLERANCE, entropy: 2 * GOLDEN_TOLERANCE.entropy } : GOLDEN_TOLERANCE;
}

export interface GoldenRow {
  config: string;
  case: string;
  variant: string;
  /** exact match of our patch lengths with HF's (entropy variant; true for given lengths) */
  patchLengthsMatch: boolean;
  /** max |ours - HF| of the entropies (entropy variant only) */
  entropyMaxAbs: number | null;
  /** max |ours - HF| of the logits (NaN when shapes differ; null for the lengths-only variant entropy_maxlen{M}) */
  logitsMaxAbs: number | null;
  /** max abs diff of each stored intermediate we also produce */
  intermediates: Record<string, number>;
  ok: boolean;
}

export interface GoldenOptions {
  print?: boolean;
  device?: Device;
  /** only these case names (default all) */
  cases?: readonly string[];
}

/** max |a - b| (NaN when the lengths differ or a value is NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return NaN;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = d; // NaN propagates
  }
  return m;
}

function need(map: Map<string, RawTensor>, name: string, file: string): RawTensor {
  const t = map.get(name);
  if (!t) throw new Error(`golden: ${file} has no tensor '${name}'`);
  return t;
}

/** The config directories under `dir` (or `dir` itself when it holds config.json). */
export function goldenConfigDirs(dir: string): string[] {
  if (fs.existsSync(nodePath.join(dir, 'config.json'))) return [dir];
  if (!fs.existsSync(dir)) throw new Error(`golden: directory ${dir} does not exist`);
  const dirs = fs.readdirSync(dir).map((d) => nodePath.join(dir, d))
    .filter((d) => fs.existsSync(nodePath.join(d, 'config.json')) && fs.existsSync(nodePath.join(d, 'cases'))).sort();
  if (dirs.length === 0) throw new Error(`golden: no config directory (with config.json and cases/) under ${dir}`);
  return dirs;
}

/** Runs the golden cases of one config directory with an already loaded model. */
export async function checkGoldenConfig(model: Blt, dir: string, opts: GoldenOptions = {}): Promise<GoldenRow[]> {
  const config = nodePath.basename(dir);
  const caseDir = nodePath.join(dir, 'cases');
  let names = fs.readdirSync(caseDir).filter((f) => f.endsWith('.safetensors')).map((f) => f.slice(0, -'.safetensors'.length)).sort();
  if (opts.cases) names = names.filter((n) => opts.cases!.includes(n));
  const rows: GoldenRow[] = [];
  for (const name of names) {
    const file = nodePath.join(caseDir, `${name}.safetensors`);
    const meta = JSON.parse(fs.readFileSync(nodePath.join(caseDir, `${name}.json`), 'utf8')) as { variants: Record<string, unknown> };
    const { tensors } = readSafetensorsFile(file);
    const ids = [Array.from(need(tensors, 'input_ids', file).data)];
    const variants = Object.keys(meta.variants).filter((v) => tensors.has(`${v}.logits`));
    for (const variant of variants) {
      const row = await scopeAsync(async () => {
        const stored = Array.from(need(tensors, `${variant}.patch_lengths`, file).data);
        let lengths = stored, entropyMaxAbs: number | null = null, patchLengthsMatch = true;
        if (variant === 'entropy') {
          const ent = await model.computeEntropies(ids);
          entropyMaxAbs = maxAbsDiff(ent, need(tensors, 'patcher.entropies', file).data);
          lengths = Array.from((await model.patchLengthsFor(ids))[0]);
          patchLengthsMatch = lengths.length === stored.length && lengths.every((l, i) => l === stored[i]);
        }
        const out = noGrad(() => model.forwardWithPatches(ids, [lengths], { intermediates: true }));
        const intermediates: Record<string, number> = {};
        for (const [key, t] of out.intermediates!) {
          const ref = tensors.get(key.startsWith('hash.') ? key : `${variant}.${key}`);
          if (ref) intermediates[key] = maxAbsDiff(await (t as Tensor).data(), ref.data);
        }
        const logitsMaxAbs = intermediates['logits'] ?? NaN;
        const tol = goldenTolerance(model.device);
        const ok = patchLengthsMatch && logitsMaxAbs <= tol.logits &&
          (entropyMaxAbs === null || entropyMaxAbs <= tol.entropy);
        return { config, case: name, variant, patchLengthsMatch, entropyMaxAbs, logitsMaxAbs, intermediates, ok };
      });
      rows.push(row);
      if (opts.print) printRow(row);
    }
    // lengths-only variants entropy_maxlen{M}: the config's rule with max_patch_length = M
    for (const variant of Object.keys(meta.variants).filter((v) => /^entropy_maxlen\d+$/.test(v))) {
      const M = Number(variant.slice('entropy_maxlen'.length));
      const [ours] = await model.patchLengthsFor(ids, { maxPatchLength: M }); // the model's own path, split at M
      const stored = need(tensors, `${variant}.patch_lengths`, file).data;
      const patchLengthsMatch = ours.length === stored.length && ours.every((l, i) => l === stored[i]);
      const row: GoldenRow = { config, case: name, variant, patchLengthsMatch, entropyMaxAbs: null, logitsMaxAbs: null,
        intermediates: {}, ok: patchLengthsMatch };
      rows.push(row);
      if (opts.print) printRow(row);
    }
  }
  return rows;
}

function printRow(r: GoldenRow): void {
  const e = r.entropyMaxAbs === null ? '' : ` entropies ${r.entropyMaxAbs.toExponential(2)}`;
  const p = r.variant.startsWith('entropy') ? ` patches ${r.patchLengthsMatch ? 'match' : 'DIFFER'}` : '';
  const l = r.logitsMaxAbs === null ? '' : ` logits ${r.logitsMaxAbs.toExponential(2)}`;
  let line = `${r.ok ? 'ok  ' : 'FAIL'} ${r.config}/${r.case} [${r.variant}]${l}${e}${p}`;
  if (!r.ok) line += '\n       ' + Object.entries(r.intermediates).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ');
  console.log(line);
}

/** Loads every config directory under `dir` (default: ../shared/golden beside the repository) and checks all its cases. */
export async function checkGolden(dir = sharedPath('golden'), opts: GoldenOptions = {}): Promise<{ ok: boolean; rows: GoldenRow[] }> {
  const rows: GoldenRow[] = [];
  for (const cfgDir of goldenConfigDirs(dir)) {
    const model = await loadBltCheckpoint(cfgDir, { device: opts.device });
    rows.push(...await checkGoldenConfig(model, cfgDir, opts));
  }
  const ok = rows.length > 0 && rows.every((r) => r.ok);
  if (opts.print) console.log(`golden: ${rows.filter((r) => r.ok).length}/${rows.length} cases within tolerance`);
  return { ok, rows };
}
