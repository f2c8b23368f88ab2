/**
 * Training data: raw bytes from files, a deterministic held-out split, and seeded batches of byte ids
 * with their next-byte targets.
 *
 * A row of a batch is T consecutive bytes b_0..b_{T-1} of one document, cut at a UTF-8 character start:
 *   input  = [BOS, b_0+4, ..., b_{T-2}+4]       (T ids)
 *   target = [b_0+4, ..., b_{T-1}+4]            (T ids; target[t] = input[t+1])
 * Bytes are read raw: the text need not be valid UTF-8 (a non-UTF-8 file simply has no "character starts"
 * constraint beyond continuation bytes 0x80-0xBF, which are skipped as cut points when possible).
 *
 * Order: each epoch cuts the training bytes into non-overlapping windows (with a per-epoch random phase) and
 * shuffles them with Rng(seed + epoch). The position {epoch, cursor} therefore fully determines the rest of
 * the stream; it is what a checkpoint stores to resume exactly.
 */
import fs from 'node:fs';
import nodePath from 'node:path';
import { Rng } from '../tensor/random.js';
import { BOS_ID, OFFSET } from '../blt/tokenizer.js';

/** One loaded document: its path (or a label) and its raw bytes. */
export interface Document {
  name: string;
  bytes: Uint8Array;
}

export interface Corpus {
  docs: Document[];
  /** total number of bytes */
  size: number;
}

// ---------------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------------

/** Files under a folder, recursively, sorted by path (hidden files and folders skipped). */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    const p = nodePath.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

/** A glob pattern (`*`, `?`, `**` for any number of folders) as a regular expression over '/'-paths. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*' && pattern[i + 1] === '*') {
      // '**/' matches zero or more folders; a trailing '**' matches anything
      if (pattern[i + 2] === '/') { re += '(?:.*/)?'; i += 2; } else { re += '.*'; i += 1; }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The part of a glob before its first wildcard, as a folder to walk. */
function globRoot(pattern: string): string {
  const first = pattern.search(/[*?]/);
  const head = pattern.slice(0, first);
  const slash = head.lastIndexOf('/');
  return slash < 0 ? '.' : head.slice(0, slash) || '/';
}

/** Expands one source (a file, a folder, or a glob) to a sorted list of file paths. */
export function resolveSources(source: string): string[] {
  if (/[*?]/.test(source)) {
    const root = globRoot(source);
    if (!fs.existsSync(root)) throw new Error(`data: glob '${source}': folder '${root}' does not exist`);
    const re = globToRegExp(nodePath.normalize(source).split(nodePath.sep).join('/'));
    const files = walk(root).filter((p) => re.test(nodePath.normalize(p).split(nodePath.sep).join('/')));
    if (files.length === 0) throw new Error(`data: glob '${source}' matches no file`);
    return files;
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new Error(`data: '${source}' does not exist (expected a file, a folder or a glob)`);
  }
  if (st.isDirectory()) {
    const files = walk(source);
    if (files.length === 0) throw new Error(`data: folder '${source}' contains no file`);
    return files;
  }
  return [source];
}

/** Loads raw bytes from files, folders (recursive) and globs; empty files are skipped, an empty corpus is an error. */
export function loadCorpus(sources: string | string[], opts: { exclude?: RegExp } = {}): Corpus {
  const list = Array.isArray(sources) ? sources : [sources];
  if (list.length === 0) throw new Error('data: no data source given');
  const seen = new Set<string>();
  const docs: Document[] = [];
  for (const s of list) {
    for (const p of resolveSources(s)) {
      if (seen.has(p) || (opts.exclude && opts.exclude.test(p))) continue;
      seen.add(p);
      const bytes = new Uint8Array(fs.readFileSync(p));
      if (bytes.length > 0) docs.push({ name: p, bytes });
    }
  }
  const size = docs.reduce((n, d) => n + d.bytes.length, 0);
  if (size === 0) throw new Error(`data: no bytes in ${list.map((s) => `'${s}'`).join(', ')}`);
  return { docs, size };
}

/** A corpus from in-memory strings or byte arrays (tests, demos). */
export function corpusFromTexts(texts: (string | Uint8Array)[]): Corpus {
  const docs = texts.map((t, i) => ({ name: `text${i}`, bytes: typeof t === 'string' ? new TextEncoder().encode(t) : t }));
  return { docs, size: docs.reduce((n, d) => n + d.bytes.length, 0) };
}

// ---------------------------------------------------------------------------------------------------
// Held-out split
// ---------------------------------------------------------------------------------------------------

/** True where a byte may start a row: not a UTF-8 continuation byte (0b10xxxxxx). */
export function isCharStart(b: number): boolean {
  return (b & 0xc0) !== 0x80;
}

/** First character start at or after i (or i itself when none is near: raw, non-UTF-8 data). */
function charStartFrom(bytes: Uint8Array, i: number): number {
  for (let j = i; j < Math.min(bytes.length, i + 4); j++) if (isCharStart(bytes[j])) return j;
  return i;
}

/**
 * Deterministic split: the last `fraction` of every document (cut at a character start) is held out, so both
 * parts cover every language/source of the corpus. Documents too short to split go entirely to training.
 */
export function splitHeldOut(corpus: Corpus, fraction: number): { train: Corpus; heldOut: Corpus } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`splitHeldOut: fraction must be in (0, 1), got ${fraction}`);
  const train: Document[] = [];
  const held: Document[] = [];
  for (const d of corpus.docs) {
    const n = d.bytes.length;
    const cut = charStartFrom(d.bytes, Math.floor(n * (1 - fraction)));
    if (cut <= 0 || cut >= n) { train.push(d); continue; }
    train.push({ name: d.name, bytes: d.bytes.subarray(0, cut) });
    held.push({ name: `${d.name} (held out)`, bytes: d.bytes.subarray(cut) });
  }
  const mk = (docs: Document[]): Corpus => ({ docs, size: docs.reduce((s, x) => s + x.bytes.length, 0) });
  return { train: mk(train), heldOut: mk(held) };
}

// ---------------------------------------------------------------------------------------------------
// Batches
// ---------------------------------------------------------------------------------------------------

/** A batch of B rows of T ids: inputs and targets int32 [B, T] row-major. */
export interface ByteBatch {
  B: number;
  T: number;
  inputs: Int32Array;
  targets: Int32Array;
}

/** Input and target ids of one row of T bytes (see the header): input = BOS + bytes[0..T-2] + 4, target = bytes + 4. */
export function rowIds(bytes: Uint8Array, inputs: Int32Array, targets: Int32Array, offset: number): void {
  const T = bytes.length;
  inputs[offset] = BOS_ID;
  for (let t = 0; t < T; t++) {
    targets[offset + t] = bytes[t] + OFFSET;
    if (t + 1 < T) inputs[offset + t + 1] = bytes[t] + OFFSET;
  }
}

/** Where a data stream is: restore it with `new BatchStream(corpus, opts, position)`. */
export interface DataPosition {
  epoch: number;
  cursor: number;
}

export interface StreamOptions {
  batchSize: number;
  seqLen: number;
  seed: number;
}

/** Seeded, resumable stream of training batches (see the header for the order). */
export class BatchStream {
  private windows: { doc: number; start: number }[] = [];
  private pos: DataPosition;

  constructor(readonly corpus: Corpus, readonly opts: StreamOptions, position: DataPosition = { epoch: 0, cursor: 0 }) {
    const { batchSize, seqLen } = opts;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`BatchStream: batch size must be an integer ≥ 1, got ${batchSize}`);
    if (!(Number.isInteger(seqLen) && seqLen >= 2)) throw new Error(`BatchStream: sequence length must be an integer ≥ 2, got ${seqLen}`);
    if (!corpus.docs.some((d) => d.bytes.length >= seqLen)) {
      throw new Error(`BatchStream: no document has ${seqLen} bytes (largest: ${Math.max(0, ...corpus.docs.map((d) => d.bytes.length))}); lower --seq-len or add data`);
    }
    this.pos = { ...position };
    this.buildEpoch();
  }

  /** The current position (save it with a checkpoint). */
  position(): DataPosition {
    return { ...this.pos };
  }

  /** Windows of epoch e: a per-epoch random phase, non-overlapping, cut at character starts, shuffled. */
  private buildEpoch(): void {
    const T = this.opts.seqLen;
    const rng = new Rng((this.opts.seed * 1000003 + this.pos.epoch) >>> 0);
    const windows: { doc: number; start: number }[] = [];
    this.corpus.docs.forEach((d, doc) => {
      const n = d.bytes.length;
      if (n < T) return;
      let start = charStartFrom(d.bytes, rng.int(Math.min(T, n - T + 1)));
      while (start + T <= n) {
        windows.push({ doc, start });
        start = charStartFrom(d.bytes, start + T);
      }
    });
    this.windows = rng.shuffle(windows);
    if (this.pos.cursor > this.windows.length) {
      throw new Error(`BatchStream: saved cursor ${this.pos.cursor} is beyond epoch ${this.pos.epoch}'s ${this.windows.length} windows (different data?)`);
    }
  }

  /** The next batch; moves the position. */
  next(): ByteBatch {
    const { batchSize: B, seqLen: T } = this.opts;
    const inputs = new Int32Array(B * T);   // [B, T]
    const targets = new Int32Array(B * T);  // [B, T]
    for (let b = 0; b < B; b++) {
      if (this.pos.cursor >= this.windows.length) {
        this.pos = { epoch: this.pos.epoch + 1, cursor: 0 };
        this.buildEpoch();
      }
      const w = this.windows[this.pos.cursor++];
      rowIds(this.corpus.docs[w.doc].bytes.subarray(w.start, w.start + T), inputs, targets, b * T);
    }
    return { B, T, inputs, targets };
  }
}

/**
 * Evaluation rows of a corpus, in order: the documents joined by '\n' into one stream, cut into consecutive,
 * non-overlapping windows of T bytes (the last partial window is dropped), at most `maxBytes` bytes, grouped
 * into batches of at most B rows. Joining keeps short documents (or short held-out tails) in the evaluation.
 */
export function evalBatches(corpus: Corpus, B: number, T: number, maxBytes = Infinity): ByteBatch[] {
  const total = corpus.docs.reduce((n, d) => n + d.bytes.length + 1, 0);
  const stream = new Uint8Array(total);
  let at = 0;
  for (const d of corpus.docs) { stream.set(d.bytes, at); at += d.bytes.length; stream[at++] = 0x0a; }
  const rows: Uint8Array[] = [];
  for (let s = 0; s + T <= total && rows.length * T + T <= maxBytes; s += T) rows.push(stream.subarray(s, s + T));
  const out: ByteBatch[] = [];
  for (let i = 0; i < rows.length; i += B) {
    const chunk = rows.slice(i, i + B);
    const inputs = new Int32Array(chunk.length * T);  // [B', T]
    const targets = new Int32Array(chunk.length * T); // [B', T]
    chunk.forEach((r, b) => rowIds(r, inputs, targets, b * T));
    out.push({ B: chunk.length, T, inputs, targets });
  }
  if (out.length === 0) throw new Error(`evalBatches: the data (${corpus.size} bytes) has no window of ${T} bytes; lower the sequence length`);
  return out;
}
