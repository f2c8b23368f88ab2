/**
 * Golden check against Meta's own code (a set made by make_meta_golden.py, e.g. ../shared/golden-meta): a tiny
 * BLT saved by Meta in each of its packagings, and Meta's CPU outputs for a list of cases. Every packaging in the
 * set is opened with openCheckpoint (so the Meta config -> "reference" preset mapping is what is tested) and
 * every case is run through the model's own paths:
 *
 *   tokens        each document = [BOS] + bytes+4 (+ [EOS]), concatenated              exact
 *   hash.ids      the model's hash rows (minus the table offsets)                       exact
 *   masks         the model's local key ranges = documents (doc_seqlens) ∩ local window  exact
 *                 the global key ranges = documents of the global_tokens sequence        exact
 *   entropies     the entropy model, Meta's window, documents                            atol 1e-5
 *                 and its logits (`entropy_model.logits`)                                 atol 1e-4
 *   patch lengths from our entropies: the model's own patching (`main`) and every stored variant's rule
 *                 (threshold, threshold_add, monotonicity, max_patch_length, include_next_token)  exact
 *   patch ids     encoder / decoder ids of the model's batch layout                      exact
 *   forward       every stored intermediate the model records, and the logits           atol 1e-4
 *                 `<variant>.logits`: the forward with that variant's lengths            atol 1e-4
 *   loss          cross_entropy(logits[:-1], ids[1:])                                    atol 2e-4 (|Δ CE| ≤ 2·max|Δ logit|)
 *
 * Nothing is named per case: the cases, variants and stored tensors come from the set's own files, so another set
 * made the same way is checked the same way. An entropy-model folder stored alone (`entropy_hub/`, Meta's BF16
 * Hub form) is checked too, attached to a BLT of the set, against the `bf16.*` numbers Meta's unmodified BF16
 * loader gave. Those are informational (Meta ran in BF16, this model computes in float32 from the BF16
 * weights), so the only bound asserted is the one the set itself shows: our entropies are no further from the
 * float32 reference than Meta's BF16 run was (max over the set).
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { type RawTensor } from '../io/safetensors.js';
import { readSafetensorsFile } from '../io/safetensors-file.js';
import { scopeAsync } from '../tensor/scope.js';
import { noGrad } from '../autograd/grad-mode.js';
import type { Device } from '../tensor/dtype.js';
import * as ops from '../ops/index.js';
import type { Blt } from './blt.js';
import { patchLengths, patchRuleOf } from './patching/patch-lengths.js';
import type { LengthConvention } from './patching/conventions.js';
import { encode, EOS_ID } from './tokenizer.js';
import { goldenTolerance, maxAbsDiff } from './golden.js';
import { detectPackaging, openCheckpoint, type OpenedCheckpoint } from './packaging/open.js';
import { entropyFolderForm } from './packaging/sources-meta.js';
import { bltFromCheckpoint } from './load-sources.js';
import { globalAttentionRanges } from './global-transformer.js';
import { chunkAttention, entropyContext } from './entropy-context.js';
import type { BltBehaviour, BltConfig } from './config/types.js';
import { nodeFiles } from '../io/node-files.js';

/** One check of one case under one packaging. */
export interface MetaGoldenRow {
  /** the folder the model was opened from, relative to the set */
  packaging: string;
  case: string;
  check: string;
  /** max abs difference (numbers) or count of mismatches (exact checks) */
  value: number;
  tolerance: number;
  ok: boolean;
  /** informational rows (BF16) never fail the set */
  informational?: boolean;
  detail?: string;
}

export interface MetaGoldenOptions {
  print?: boolean;
  device?: Device;
  /** only these case names (default all) */
  cases?: readonly string[];
  /** run with these behaviour switches changed (to see which checks depend on them); default: as the files say */
  behaviour?: Partial<BltBehaviour>;
}

interface CaseJson {
  documents: { bytes_hex: string; add_eos: boolean }[];
  input_ids: number[];
  doc_seqlens: number[];
  global_doc_seqlens?: number[];
  loss?: number | null;
  variants: Record<string, { rule: VariantRule; patch_lengths: number[] }>;
}

interface VariantRule {
  threshold: number;
  threshold_add: number | null;
  monotonicity: boolean;
  max_patch_length: number | null;
  include_next_token: boolean;
}

/** The model folder of a Meta golden set: `dir` itself (it holds cases/ and meta.json) or manifest.json's model_dir. */
export function metaGoldenModelDir(dir: string): string | null {
  const manifest = nodePath.join(dir, 'manifest.json');
  if (fs.existsSync(manifest)) {
    const m = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { model_dir?: unknown; meta_commit?: unknown };
    if (typeof m.model_dir === 'string' && m.meta_commit !== undefined) return nodePath.join(dir, m.model_dir);
  }
  return fs.existsSync(nodePath.join(dir, 'meta.json')) && fs.existsSync(nodePath.join(dir, 'cases')) && fs.existsSync(nodePath.join(dir, 'hub'))
    ? dir : null;
}

/** True when `dir` is a golden set made from Meta's code (rather than the Hugging Face set golden.ts checks). */
export function isMetaGoldenSet(dir: string): boolean {
  return metaGoldenModelDir(dir) !== null;
}

/** The BLT folders of the set (any packaging openCheckpoint detects), and the entropy-model folders stored alone. */
function setFolders(modelDir: string): { blts: string[]; entropyOnly: string[] } {
  const blts: string[] = [], entropyOnly: string[] = [];
  const visit = (d: string, depth: number): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const sub = nodePath.join(d, name);
      if (!fs.statSync(sub).isDirectory() || name === 'cases' || name === 'entropy_model') continue;
      let isBlt = false;
      try { detectPackaging(nodeFiles, sub); isBlt = true; } catch { /* not a BLT folder */ }
      if (isBlt) blts.push(sub); // (a config without weights, like hf_converted/, fails detection and is skipped)
      else if (entropyFolderForm(nodeFiles, sub) !== null) entropyOnly.push(sub);
      else if (depth < 2) visit(sub, depth + 1);
    }
  };
  visit(modelDir, 0);
  return { blts, entropyOnly };
}

function mismatches(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** The model's patch lengths for a stored variant's rule: the config's patching with the rule's fields swapped in. */
function variantLengths(cfg: BltConfig, ids: ArrayLike<number>, entropies: ArrayLike<number>, rule: VariantRule): Int32Array {
  const variantCfg: BltConfig = {
    ...cfg, patching: { ...cfg.patching, threshold: rule.threshold, thresholdAdd: rule.threshold_add, monotonicity: rule.monotonicity,
      maxPatchLength: rule.max_patch_length },
  };
  const convention: LengthConvention = rule.include_next_token ? cfg.behaviour.patchLengthsSumTo : 'N-offline';
  return patchLengths(patchRuleOf(variantCfg, { convention }), ids, entropies); // the model's path (Blt.patchLengthsOf)
}

/** Expected local key-range starts: the document start (doc_seqlens) or the window, whichever is later. */
function expectedLocalStarts(docSeqlens: number[], T: number, window: number | null): Int32Array {
  const out = new Int32Array(T);
  let t = 0;
  for (const len of docSeqlens) {
    const docStart = t;
    for (let i = 0; i < len && t < T; i++, t++) out[t] = Math.max(docStart, window === null ? 0 : t - window + 1);
  }
  return out;
}

/** Expected global key-range starts from the global_tokens sequence (a document ends after each EOS). */
function expectedGlobalStarts(globalTokens: ArrayLike<number>): Int32Array {
  const out = new Int32Array(globalTokens.length);
  let start = 0;
  for (let j = 0; j < globalTokens.length; j++) {
    out[j] = start;
    if (globalTokens[j] === EOS_ID) start = j + 1;
  }
  return out;
}

/** Runs every check of one case with one loaded model. */
async function checkCase(model: Blt, packaging: string, name: string, meta: CaseJson, tensors: Map<string, RawTensor>,
  file: string): Promise<MetaGoldenRow[]> {
  const tol = goldenTolerance(model.device);
  const rows: MetaGoldenRow[] = [];
  const add = (check: string, value: number, tolerance: number, detail?: string): void => {
    rows.push({ packaging, case: name, check, value, tolerance, ok: value <= tolerance, detail });
  };
  const need = (key: string): RawTensor => {
    const t = tensors.get(key);
    if (!t) throw new Error(`golden-meta: ${file} has no tensor '${key}'`);
    return t;
  };
  const cfg = model.config;
  const ids = Array.from(need('input_ids').data);
  const T = ids.length;

  // tokens: documents encoded as Meta's tokenizer does, then concatenated
  const tokens = meta.documents.flatMap((d) => Array.from(encode(Uint8Array.from(Buffer.from(d.bytes_hex, 'hex')), { addBos: true, addEos: d.add_eos })));
  add('tokens', mismatches(tokens, ids) + mismatches(meta.input_ids, ids), 0);

  // hash ids through the model's own table rows
  const hashRows = model.model.encoder_hash_tok_embedding.rowIds(Int32Array.from(ids), 1, T); // host [1, T] per table
  const storedHash = need('hash.ids').data;
  let hashBad = storedHash.length === hashRows.length * T ? 0 : storedHash.length;
  hashRows.forEach((got, m) => {
    for (let t = 0; t < T; t++) if (got[t] - m * cfg.hash.vocab !== storedHash[m * T + t]) hashBad++;
  });
  add('hash.ids', hashBad, 0);

  await scopeAsync(async () => {
    // entropies and the model's own patching
    const ent = await model.computeEntropies([ids]);
    add('entropies', maxAbsDiff(ent, need('entropies').data), tol.entropy);
    const main = Array.from((await model.patchLengthsFor([ids]))[0]);
    add('patch_lengths (model)', mismatches(main, need('patch_lengths').data), 0, `ours [${main.join(',')}]`);
    const lengthsOf = new Map<string, number[]>();
    for (const [v, { rule }] of Object.entries(meta.variants)) {
      const ours = Array.from(variantLengths(cfg, ids, ent, rule));
      lengthsOf.set(v, ours);
      add(`patch_lengths ${v}`, mismatches(ours, need(`${v}.patch_lengths`).data), 0, `ours [${ours.join(',')}]`);
    }

    // the model's batch layout: patch ids, local and global masks
    const batch = model.patchedBatch([ids], [main]);
    add('patch_ids', mismatches(batch.segments, need('patch_ids').data), 0);
    add('decoder_patch_ids', mismatches(batch.decIds, need('decoder_patch_ids').data), 0);
    const local = await batch.localRanges.start.data();
    add('local mask', mismatches(local, expectedLocalStarts(meta.doc_seqlens, T, cfg.behaviour.localWindow)), 0);
    const g = globalAttentionRanges(batch.data, batch.lengths, 1, batch.P, T, cfg.behaviour.documentMask, 'cpu');
    const globalTokens = tensors.get('global_tokens');
    if (globalTokens) add('global mask', mismatches(g.start.dataSync(), expectedGlobalStarts(globalTokens.data)), 0);

    // the forward pass: every stored intermediate the model records
    const out = noGrad(() => model.forwardWithPatches([ids], [main], { intermediates: true }));
    const recorded = out.intermediates!;
    const tokenEmbeds = noGrad(() => model.model.local_encoder.embed_tokens.forward(ops.tensor(Int32Array.from(ids), [1, T], { device: model.device })));
    recorded.set('hash.token_embeds', tokenEmbeds);
    // Meta's encoder.patch_proj [P, k·dE] is the pooled projection before the k-split, i.e. our query_in [P·k, dE]
    const queryIn = recorded.get('encoder.cross0.query_in');
    if (queryIn) recorded.set('encoder.patch_proj', queryIn);
    // the entropy model's logits (Meta's `entropy_model.logits`), with the mask computeEntropies uses
    const patcher = model.model.patcher;
    const ctx = entropyContext(cfg);
    if (patcher && tensors.has('entropy_model.logits') && T <= ctx.chunk) {
      const dev = model.device, { positions, ranges } = chunkAttention(Int32Array.from(ids), 1, T, ctx, dev);
      recorded.set('entropy_model.logits', noGrad(() => patcher.forward(ops.tensor(Int32Array.from(ids), [1, T], { device: dev }), positions, ranges)));
    }
    for (const [key, t] of recorded) {
      const ref = tensors.get(key);
      if (ref) add(key, maxAbsDiff(await t.data(), ref.data), tol.logits);
    }
    // forwards with the lengths of other variants that stored logits
    for (const key of tensors.keys()) {
      const m = /^(.+)\.logits$/.exec(key);
      if (m === null || !lengthsOf.has(m[1])) continue;
      const logits = noGrad(() => model.forwardWithPatches([ids], [lengthsOf.get(m[1])!]).logits);
      add(key, maxAbsDiff(await logits.data(), need(key).data), tol.logits);
    }
    // loss = mean CE of logits[:-1] against ids[1:] (none for a single token)
    const refLoss = tensors.get('loss')?.data[0] ?? meta.loss;
    if (refLoss != null && T > 1) {
      const loss = noGrad(() => model.loss([ids], [main]));
      add('loss', Math.abs((await loss.data())[0] - refLoss), 2 * tol.logits);
    }
  });
  return rows;
}

/** BF16 rows for an entropy model stored alone: our entropies from its weights vs the set's bf16.* and float32 numbers. */
async function checkEntropyOnly(model: Blt, packaging: string, name: string, tensors: Map<string, RawTensor>,
  bound: number): Promise<MetaGoldenRow[]> {
  const ids = Array.from(tensors.get('input_ids')!.data);
  const ent = await model.computeEntropies([ids]);
  const f32 = tensors.get('entropies'), bf16 = tensors.get('bf16.entropies'), bf16Lengths = tensors.get('bf16.patch_lengths');
  const rows: MetaGoldenRow[] = [];
  if (f32) {
    const v = maxAbsDiff(ent, f32.data);
    rows.push({ packaging, case: name, check: 'entropies vs float32 reference (BF16 weights)', value: v, tolerance: bound, ok: v <= bound,
      detail: `bound: Meta's own BF16 run differs from the float32 reference by up to ${bound.toExponential(2)} in this set` });
  }
  if (bf16) {
    const v = maxAbsDiff(ent, bf16.data);
    rows.push({ packaging, case: name, check: 'entropies vs bf16.entropies', value: v, tolerance: Infinity, ok: true, informational: true,
      detail: 'Meta computed in BF16, this model in float32: informational' });
  }
  if (bf16Lengths) {
    const ours = Array.from((await model.patchLengthsFor([ids]))[0]);
    const bad = mismatches(ours, bf16Lengths.data);
    rows.push({ packaging, case: name, check: 'patch_lengths vs bf16.patch_lengths', value: bad, tolerance: Infinity, ok: true,
      informational: true, detail: `ours [${ours.join(',')}]` });
  }
  return rows;
}

function withBehaviour(c: OpenedCheckpoint, b: Partial<BltBehaviour> | undefined): OpenedCheckpoint {
  return b === undefined ? c : { ...c, config: { ...c.config, behaviour: { ...c.config.behaviour, ...b } } };
}

function printRow(r: MetaGoldenRow): void {
  const v = Number.isInteger(r.value) ? String(r.value) : r.value.toExponential(2);
  const tag = r.informational ? 'info' : r.ok ? 'ok  ' : 'FAIL';
  const lim = r.informational ? '' : ` (≤ ${Number.isFinite(r.tolerance) ? (r.tolerance === 0 ? '0' : r.tolerance.toExponential(0)) : '∞'})`;
  console.log(`${tag} ${r.packaging}/${r.case} [${r.check}] ${v}${lim}${!r.ok || r.informational ? (r.detail ? `  ${r.detail}` : '') : ''}`);
}

/**
 * Loads every packaging of a Meta golden set and checks all its cases (see the top of this file).
 * `ok` is true when every non-informational row is within its tolerance and something was checked.
 */
export async function checkMetaGolden(dir: string, opts: MetaGoldenOptions = {}): Promise<{ ok: boolean; rows: MetaGoldenRow[]; packagings: string[] }> {
  const modelDir = metaGoldenModelDir(dir);
  if (modelDir === null) throw new Error(`golden-meta: ${dir} is not a golden set made from Meta's code (no manifest.json model_dir, or meta.json + cases/ + hub/)`);
  const caseDir = nodePath.join(modelDir, 'cases');
  let names = fs.readdirSync(caseDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
  if (opts.cases) names = names.filter((n) => opts.cases!.includes(n));
  const cases = names.map((name) => {
    const file = nodePath.join(caseDir, `${name}.safetensors`);
    return { name, file, meta: JSON.parse(fs.readFileSync(nodePath.join(caseDir, `${name}.json`), 'utf8')) as CaseJson,
      tensors: readSafetensorsFile(file).tensors };
  });
  const { blts, entropyOnly } = setFolders(modelDir);
  if (blts.length === 0) throw new Error(`golden-meta: no BLT checkpoint folder under ${modelDir}`);
  const rel = (d: string): string => nodePath.relative(modelDir, d) || '.';
  const rows: MetaGoldenRow[] = [];
  const emit = (rs: MetaGoldenRow[]): void => { rows.push(...rs); if (opts.print) rs.forEach(printRow); };

  let first: OpenedCheckpoint | null = null;
  for (const d of blts) {
    const opened = withBehaviour(openCheckpoint(nodeFiles, d), opts.behaviour);
    first ??= opened;
    if (opts.print) console.log(`${rel(d)}: ${opened.packaging}, entropy model ${opened.entropyDir ? rel(opened.entropyDir) : 'none'}, patching from ${rel(opened.patchingSource)}`);
    const model = bltFromCheckpoint(opened, { device: opts.device });
    opened.close();
    for (const c of cases) emit(await checkCase(model, rel(d), c.name, c.meta, c.tensors, c.file));
  }
  // entropy models stored alone: attached to the first BLT of the set
  const bound = Math.max(0, ...cases.map((c) => {
    const a = c.tensors.get('bf16.entropies'), b = c.tensors.get('entropies');
    return a && b ? maxAbsDiff(a.data, b.data) : 0;
  }));
  for (const e of entropyOnly) {
    const withEntropy = withBehaviour(openCheckpoint(nodeFiles, first!.dir, { entropyModel: e }), opts.behaviour);
    const model = bltFromCheckpoint(withEntropy, { device: opts.device });
    withEntropy.close();
    for (const c of cases) emit(await checkEntropyOnly(model, rel(e), c.name, c.tensors, bound));
  }
  const checked = rows.filter((r) => !r.informational);
  const ok = checked.length > 0 && checked.every((r) => r.ok);
  const packagings = [...blts, ...entropyOnly].map(rel);
  if (opts.print) {
    console.log(`golden-meta: ${checked.filter((r) => r.ok).length}/${checked.length} checks within tolerance over ` +
      `${cases.length} cases and ${packagings.length} folders (${packagings.join(', ')}); ${rows.length - checked.length} informational`);
  }
  return { ok, rows, packagings };
}
