// `blt convert SRC DST --to hf|meta [--dtype bf16|f32]`: any packaging openCheckpoint reads, written as
//
//   hf    config.json (HF BltConfig; the behaviour preset kept under blt_ts_behaviour) + model.safetensors, or
//         shards + model.safetensors.index.json above the shard limit (as transformers' save_pretrained)
//   meta  Meta's Hub layout (facebook/blt-1b): config.json {"args": ByteLatentTransformerArgs}, model.safetensors
//         with Meta key names and one hash table per function and n-gram size, train_args.json, and
//         entropy_model/ as params.json + consolidated.pth (what load_entropy_model reads), or as the Hub
//         entropy-model form config.json {"args"} + model.safetensors when the entropy model has settings that
//         loader would not reproduce (it hard-codes multiple_of 256, θ 10000, eps 1e-5, window 512, no GQA)
//
// Streaming: tensors go from the source files to the new files block by block (a cast to BF16 rounds to nearest
// even, block by block), so memory holds one block, never a second copy of the model. The result is written into
// a temp folder beside DST and renamed to DST at the end; a non-empty DST is replaced only with `force`, and a
// failed conversion leaves DST as it was.

import fs from 'node:fs';
import nodePath from 'node:path';
import { convertHfToOriginal } from '../../io/blt-keys.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { decodeTensor, type StoredDtype } from '../../io/safetensors.js';
import { DEFAULT_MAX_SHARD_BYTES, writeSafetensorsFile, writeSafetensorsSharded, type TensorToWrite, type WriteDtype } from '../../io/safetensors-writer.js';
import { writePthStateDict } from '../../io/pth/pth-writer.js';
import { FILE_DTYPE_BYTES, numelOf, type FileDtype, type TensorSource } from '../../io/tensor-source.js';
import { float32ToHalf } from '../../tensor/half.js';
import type { BltConfig } from '../config/types.js';
import { configToHfJson } from '../config/write.js';
import { bltWeightShapes } from '../weight-shapes.js';
import { metaArgsFromConfig, metaEntropyArgs, metaEntropyParams, metaPatcherArgsFromConfig } from './meta-config.js';
import { openCheckpoint, type OpenedCheckpoint, type OpenOptions } from './open.js';
import { hashConfigOf, SOURCE_TENSORS } from './sources-meta.js';
import { nodeFiles } from '../../io/node-files.js';

export interface ConvertOptions extends OpenOptions {
  to: 'hf' | 'meta';
  /** weight dtype of the output (default: each tensor keeps its file dtype) */
  dtype?: 'bf16' | 'f32';
  /** replace a non-empty DST */
  force?: boolean;
  /** HF shard limit in bytes (default transformers' 5 GB) */
  maxShardBytes?: number;
}

/** Bytes of one streamed block (bounds the memory a conversion uses). */
const BLOCK_BYTES = 64 << 20;

/** Little-endian bytes of `raw` (dtype `from`) re-encoded as `to` (float32 -> BF16/F16 rounds to nearest even). */
function castBytes(raw: Uint8Array, from: FileDtype, to: FileDtype, src: TensorSource): Uint8Array {
  if (from === to) return raw;
  const n = raw.length / FILE_DTYPE_BYTES[from];
  const entry = { name: src.name, storedDtype: from as StoredDtype, shape: [n], numel: n, begin: 0, end: raw.length };
  const values = decodeTensor(entry, raw, src.file, true).data;
  const asBytes = (a: Float32Array | Float64Array | Uint16Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  switch (to) {
    case 'F32': return asBytes(values instanceof Float32Array ? values : Float32Array.from(values));
    case 'F64': return asBytes(Float64Array.from(values));
    case 'BF16': return asBytes(float32ToHalf('bfloat16', values));
    case 'F16': return asBytes(float32ToHalf('float16', values));
    default: throw new Error(`convert: tensor '${src.name}' in ${src.file}: cannot cast ${from} to ${to}`);
  }
}

/** The output dtype of a tensor. */
function outDtype(src: TensorSource, opts: ConvertOptions): FileDtype {
  if (opts.dtype === 'bf16') return 'BF16';
  if (opts.dtype === 'f32') return 'F32';
  return src.dtype;
}

/** The source's data in blocks of whole elements, cast to `to`. */
function* blocks(src: TensorSource, to: FileDtype): Generator<Uint8Array> {
  const elem = FILE_DTYPE_BYTES[src.dtype], numel = numelOf(src.shape);
  const per = Math.max(1, Math.floor(BLOCK_BYTES / elem));
  for (let e = 0; e < numel; e += per) yield castBytes(src.read(e * elem, Math.min(per, numel - e) * elem), src.dtype, to, src);
}

function toWrite(name: string, src: TensorSource, opts: ConvertOptions): TensorToWrite {
  const dtype = outDtype(src, opts);
  if (dtype === 'I32' || dtype === 'I64') throw new Error(`convert: tensor '${src.name}' in ${src.file} is ${dtype}, not a float weight`);
  return { name, dtype: dtype as WriteDtype, shape: src.shape, chunks: () => blocks(src, dtype) };
}

/** JSON with keys sorted at every level and two-space indents, as Meta's Hub files are written. */
function sortedJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]));
    return v;
  };
  return JSON.stringify(sort(value), null, 2);
}

/** The checkpoint's tensors in the order of the config's weight list (a stable order for every packaging). */
function orderedTensors(ck: OpenedCheckpoint): [string, TensorSource][] {
  return [...bltWeightShapes(ck.config).keys()].map((k) => [k, ck.tensors.get(k)!]);
}

async function writeHf(ck: OpenedCheckpoint, dir: string, opts: ConvertOptions): Promise<void> {
  writeFileAtomic(nodePath.join(dir, 'config.json'), JSON.stringify(configToHfJson(ck.config), null, 2) + '\n');
  const tensors = orderedTensors(ck).map(([k, t]) => toWrite(k, t, opts));
  await writeSafetensorsSharded(dir, tensors, { maxShardBytes: opts.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES, metadata: { format: 'pt' } });
}

async function writeMeta(ck: OpenedCheckpoint, dir: string, opts: ConvertOptions): Promise<void> {
  const cfg: BltConfig = ck.config;
  const args = metaArgsFromConfig(cfg);
  const { blt, entropy } = convertHfToOriginal(SOURCE_TENSORS, new Map(orderedTensors(ck)), hashConfigOf(cfg));
  const floatDtypes = [...ck.tensors.values()].map((t) => outDtype(t, opts));
  const modelDtype = floatDtypes.every((d) => d === 'BF16') ? 'bf16' : 'fp32';
  const patcherArgs = metaPatcherArgsFromConfig(cfg);
  fs.writeFileSync(nodePath.join(dir, 'config.json'), sortedJson({ args }));
  fs.writeFileSync(nodePath.join(dir, 'train_args.json'), JSON.stringify({
    model: args, data: { patcher_args: patcherArgs }, distributed: { model_dtype: modelDtype }, train_entropy_model: false, entropy_model: null,
  }));
  await writeSafetensorsFile(nodePath.join(dir, 'model.safetensors'), [...blt].map(([k, t]) => toWrite(k, t, opts)));
  if (!cfg.patching.patchInForward) return; // no entropy model to write
  const edir = nodePath.join(dir, 'entropy_model');
  fs.mkdirSync(edir);
  const params = metaEntropyParams(cfg, modelDtype);
  if (params !== null) {
    fs.writeFileSync(nodePath.join(edir, 'params.json'), JSON.stringify(params));
    writePthStateDict(nodePath.join(edir, 'consolidated.pth'), entropy, {
      dtype: (t) => outDtype(t, opts), convert: (t, raw) => castBytes(raw, t.dtype, outDtype(t, opts), t),
    });
  } else {
    fs.writeFileSync(nodePath.join(edir, 'config.json'), sortedJson(metaEntropyArgs(cfg)));
    await writeSafetensorsFile(nodePath.join(edir, 'model.safetensors'), [...entropy].map(([k, t]) => toWrite(k, t, opts)));
  }
}

/** Whether `dir` exists and holds anything. */
function nonEmpty(dir: string): boolean {
  return fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0);
}

/**
 * Converts the checkpoint in `src` (any packaging) to `dst` (see the top of this file). Returns the opened source
 * (its packaging and config) so callers can report what was converted.
 */
export async function convertCheckpoint(src: string, dst: string, opts: ConvertOptions): Promise<OpenedCheckpoint> {
  const from = nodePath.resolve(src), to = nodePath.resolve(dst);
  if (to === from || to.startsWith(from + nodePath.sep) || from.startsWith(to + nodePath.sep)) {
    throw new Error(`${dst} and ${src} overlap; write the conversion to another folder`);
  }
  if (nonEmpty(to) && !opts.force) throw new Error(`${dst} exists and is not empty (pass --force to replace it)`);
  if (fs.existsSync(to) && !fs.statSync(to).isDirectory()) throw new Error(`${dst} is a file, not a folder`);
  const ck = openCheckpoint(nodeFiles, src, opts);
  try {
    await convertOpened(ck, to, dst, opts);
  } finally {
    ck.close();
  }
  return ck;
}

async function convertOpened(ck: OpenedCheckpoint, to: string, dst: string, opts: ConvertOptions): Promise<void> {
  if (opts.to === 'meta') metaArgsFromConfig(ck.config); // refuse before writing anything when Meta's format cannot say it

  const unique = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const tmp = nodePath.join(nodePath.dirname(to), `.${nodePath.basename(to)}.${unique}.tmp`);
  fs.mkdirSync(nodePath.dirname(to), { recursive: true });
  fs.mkdirSync(tmp);
  try {
    if (opts.to === 'hf') await writeHf(ck, tmp, opts);
    else await writeMeta(ck, tmp, opts);
    // swap in: DST (if any) moves aside first, so it is never half replaced
    const old = fs.existsSync(to) ? `${tmp}.old` : null;
    if (old !== null) fs.renameSync(to, old);
    try {
      fs.renameSync(tmp, to);
    } catch (e) {
      if (old !== null) {
        try {
          fs.renameSync(old, to);
        } catch {
          throw new Error(`${(e as Error).message}; the previous ${dst} could not be moved back and is in ${old}`, { cause: e });
        }
      }
      throw e;
    }
    if (old !== null) fs.rmSync(old, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
