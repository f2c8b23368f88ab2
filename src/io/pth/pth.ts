// PyTorch checkpoints (`torch.save` files, e.g. Meta's consolidated.pth) as lazy TensorSources.
//
// A torch.save file is a stored ZIP archive whose entries all sit under one folder `<name>/`:
//   <name>/data.pkl     the pickled object (protocol 2), tensors as persistent ids naming storages
//   <name>/byteorder    "little" (absent in files from old torch, which were little-endian too)
//   <name>/data/<key>   the raw bytes of storage <key>, row-major, in that byte order
//   <name>/version, .format_version, .storage_alignment (informational)
// The pickle is read with the restricted reader of pickle.ts (nothing is executed); each tensor becomes a
// TensorSource that reads its bytes from `data/<key>` by range. Only one entry of the top-level dict is
// turned into sources (Meta's files are {"model": state dict, "optim": AdamW state}; the optimizer's tensors
// are parsed as references and never read).

import type { CheckpointFiles } from '../checkpoint-files.js';
import { FILE_DTYPE_BYTES, numelOf, type FileDtype, type TensorSource } from '../tensor-source.js';
import { readZipDirectory, zipEntryDataOffset, type ZipEntry, type ZipFile } from './zip.js';
import { readPickle, TensorRef, TORCH_DTYPE_BYTES, type PyValue, type TorchDtype } from './pickle.js';

const FILE_DTYPES: Partial<Record<TorchDtype, FileDtype>> = {
  float32: 'F32', float64: 'F64', float16: 'F16', bfloat16: 'BF16', int32: 'I32', int64: 'I64',
};

export interface PthOptions {
  /** the top-level dict entry holding the state dict (default "model"); null: the top level is the state dict */
  entry?: string | null;
}

/** The archive folder of a torch.save zip: the common prefix `<name>/` of `<name>/data.pkl`. */
function archivePrefix(entries: Map<string, ZipEntry>, path: string): string {
  const pkl = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) {
    throw new Error(`${path}: not a torch.save archive (expected one '<name>/data.pkl' entry, found ` +
      `${pkl.length === 0 ? 'none' : pkl.join(', ')})`);
  }
  return pkl[0].slice(0, -'data.pkl'.length);
}

/** Row-major (contiguous) strides of a shape; size-1 dimensions may have any stride, as torch allows. */
function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  if (size.length !== stride.length) return false;
  let expected = 1;
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false;
    expected *= size[d];
  }
  return true;
}

export interface PthSources {
  /** state-dict key -> its data, not read yet */
  tensors: Map<string, TensorSource>;
  /** closes the file (reads after this reopen it) */
  close(): void;
}

/**
 * Opens a torch.save file and returns the tensors of its state dict (the top-level `entry`, default "model") as
 * TensorSources keyed by their state-dict names. Reads only the zip directory and the pickle.
 * Throws naming the file (and key) when the file is not a readable torch.save zip, uses a refused pickle opcode
 * or global, is big-endian, has no such entry, or holds a tensor that is non-contiguous, of an unsupported dtype
 * or outside its storage.
 */
export function openPth(files: CheckpointFiles, path: string, opts: PthOptions = {}): PthSources {
  const opened = files.open(path);
  const file: ZipFile = { path, size: opened.size, read: (offset, length) => opened.read(offset, length), close: () => opened.close() };
  try {
    return { tensors: readStateDict(file, opts), close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}

function readStateDict(file: ZipFile, opts: PthOptions): Map<string, TensorSource> {
  const path = file.path;
  const entries = readZipDirectory(file);
  const prefix = archivePrefix(entries, path);
  const bytesOf = (e: ZipEntry): Uint8Array => file.read(zipEntryDataOffset(file, e), e.size);

  const order = entries.get(`${prefix}byteorder`);
  if (order !== undefined) {
    const value = new TextDecoder().decode(bytesOf(order)).trim();
    if (value !== 'little') throw new Error(`${path}: byteorder is '${value}'; only little-endian checkpoints are supported`);
  }
  const top = readPickle(bytesOf(entries.get(`${prefix}data.pkl`)!), `${path} (${prefix}data.pkl)`);

  const entry = opts.entry === undefined ? 'model' : opts.entry;
  let dict: PyValue = top;
  if (entry !== null) {
    if (!(top instanceof Map)) throw new Error(`${path}: the checkpoint is not a dict, so it has no '${entry}' entry`);
    if (!top.has(entry)) {
      throw new Error(`${path}: no '${entry}' entry (top-level keys: ${[...top.keys()].map((k) => JSON.stringify(k)).join(', ')})`);
    }
    dict = top.get(entry)!;
  }
  if (!(dict instanceof Map)) throw new Error(`${path}: '${entry ?? '<top level>'}' is not a dict of tensors`);

  const out = new Map<string, TensorSource>();
  const offsets = new Map<string, number>(); // storage key -> data offset, found once
  for (const [key, value] of dict) {
    if (typeof key !== 'string') throw new Error(`${path}: state-dict key ${String(key)} is not a string`);
    if (!(value instanceof TensorRef)) throw new Error(`${path}: state-dict entry '${key}' is not a tensor`);
    out.set(key, tensorSource(file, entries, prefix, offsets, key, value));
  }
  return out;
}

function tensorSource(file: ZipFile, entries: Map<string, ZipEntry>, prefix: string, offsets: Map<string, number>,
  key: string, t: TensorRef): TensorSource {
  const where = `tensor '${key}' in ${file.path}`;
  const { storage } = t;
  const dtype = FILE_DTYPES[storage.dtype];
  if (dtype === undefined) throw new Error(`${where}: dtype ${storage.dtype} (torch.${storage.typeName}) is not supported`);
  if (t.size.some((d) => d < 0)) throw new Error(`${where}: negative size [${t.size}]`);
  if (!isContiguous(t.size, t.stride)) {
    throw new Error(`${where}: strides [${t.stride}] for size [${t.size}] are not contiguous (row-major); save it with .contiguous()`);
  }
  const numel = numelOf(t.size);
  if (t.storageOffset < 0 || t.storageOffset + numel > storage.numel) {
    throw new Error(`${where}: elements [${t.storageOffset}, ${t.storageOffset + numel}) do not fit in its storage '${storage.key}' ` +
      `of ${storage.numel} elements`);
  }
  const entryName = `${prefix}data/${storage.key}`;
  const entry = entries.get(entryName);
  if (entry === undefined) throw new Error(`${where}: its storage entry '${entryName}' is missing from the archive`);
  const elem = TORCH_DTYPE_BYTES[storage.dtype];
  if (entry.size !== storage.numel * elem) {
    throw new Error(`${where}: storage entry '${entryName}' has ${entry.size} bytes, but ${storage.numel} ${storage.dtype} elements need ` +
      `${storage.numel * elem}`);
  }
  let base = offsets.get(storage.key);
  if (base === undefined) { base = zipEntryDataOffset(file, entry); offsets.set(storage.key, base); }
  const start = base + t.storageOffset * elem;
  const total = numel * FILE_DTYPE_BYTES[dtype];
  return {
    name: key, file: file.path, dtype, shape: [...t.size],
    read: (byteOffset, byteLength) => {
      if (!Number.isInteger(byteOffset) || !Number.isInteger(byteLength) || byteOffset < 0 || byteLength < 0 || byteOffset + byteLength > total) {
        throw new Error(`${where}: read of bytes [${byteOffset}, ${byteOffset + byteLength}) is outside its ${total} bytes`);
      }
      return file.read(start + byteOffset, byteLength);
    },
  };
}
