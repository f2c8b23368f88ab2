/**
 * What the entropy model sees of a row: the one place that decides it (the behaviour presets differ here, see
 * docs/differences.md).
 *
 *   chunk      the row is cut into independent pieces of C tokens; the model runs on each alone, with RoPE
 *              positions 0..C-1. Meta: C = 8192 (`calculate_entropies` splits its input into rows of that
 *              length). HF runs the whole row; here C = the entropy model's max_position_embeddings, the
 *              longest input it declares, so rows up to that length get exactly HF's entropies.
 *   window     inside a chunk, token t attends to at most the W tokens ending at t (itself included): Meta
 *              W = 512 (the paper's "sliding window attention of 512 bytes", §4.2), HF none.
 *   documents  an EOS ends a document and the next token starts a new one (Meta; HF none).
 *
 * Cost: a chunk costs at most C·min(C, W) attention pairs, so computing the entropies of a text, and therefore
 * patching it, is linear in its length. Rows are independent (Meta flattens a batch into one stream first,
 * which lets rows leak into each other; computing them per row avoids that).
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Device } from '../tensor/dtype.js';
import * as ops from '../ops/index.js';
import type { KeyRanges } from '../ops/attention.js';
import type { BltConfig } from './config/types.js';
import { noGrad } from '../autograd/grad-mode.js';
import { scope } from '../tensor/scope.js';
import { entropyOfLogits, localAttentionRanges, type EntropyModel } from './entropy-model.js';

// [doc:entropy-context]
/** How the entropy model of a config reads a row. */
export interface EntropyContext {
  /** tokens per independent chunk */
  chunk: number;
  /** attention window inside a chunk (null: causal over the whole chunk) */
  window: number | null;
  /** EOS-delimited documents do not see each other */
  documentMask: boolean;
}

export function entropyContext(cfg: BltConfig): EntropyContext {
  const b = cfg.behaviour;
  return { chunk: b.patcherChunk ?? cfg.patcher.maxPositionEmbeddings, window: b.patcherWindow, documentMask: b.documentMask };
}

/** Start of the chunk that holds position t. */
export function chunkStart(t: number, ctx: EntropyContext): number {
  return t - (t % ctx.chunk);
}

/** The chunks [start, end) of a row of T tokens, in order (the last may be shorter). */
export function entropyChunks(T: number, ctx: EntropyContext): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (let s = 0; s < T; s += ctx.chunk) out.push({ start: s, end: Math.min(T, s + ctx.chunk) });
  return out;
}

/**
 * RoPE positions [n] and attention key ranges [B, n] of rows that each lie within one chunk, given as
 * host ids [B, n] starting at a chunk start (the entropy model's input for training, evaluation, and each
 * group of chunks of a long text).
 */
export function chunkAttention(ids: Int32Array, B: number, n: number, ctx: EntropyContext, device: Device): { positions: Tensor; ranges: KeyRanges } {
  if (n > ctx.chunk) {
    throw new Error(`entropy model: rows of ${n} tokens are longer than its chunk of ${ctx.chunk} tokens ` +
      '(behaviour.patcherChunk, else patcher_config.max_position_embeddings)');
  }
  return {
    positions: ops.arange(0, n, { device }),
    ranges: localAttentionRanges(ids, B, n, ctx.window, ctx.documentMask, device),
  };
}

/** Tokens per entropy-model run when a row spans several chunks (bounds the memory of one run). */
const TOKENS_PER_RUN = 1 << 14;

/**
 * Eq. 1 for host ids [B, T]: the entropy model on every chunk of every row, entropies H [B·T] back on the host.
 * Chunks of equal length run together, up to TOKENS_PER_RUN tokens at a time; `onProgress(done, total)` is told
 * the tokens done after each run.
 */
export async function chunkedEntropies(model: EntropyModel, data: Int32Array, B: number, T: number, ctx: EntropyContext,
  device: Device, onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
  const out = new Float32Array(B * T); // [B, T]
  const chunks = entropyChunks(T, ctx);
  const perRun = Math.max(1, Math.floor(TOKENS_PER_RUN / ctx.chunk));
  let done = 0;
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < chunks.length;) {
      const n = chunks[i].end - chunks[i].start;
      let g = 1; // chunks i .. i+g-1 have length n
      while (g < perRun && i + g < chunks.length && chunks[i + g].end - chunks[i + g].start === n) g++;
      const ids = new Int32Array(g * n); // [g, n]
      for (let c = 0; c < g; c++) ids.set(data.subarray(b * T + chunks[i + c].start, b * T + chunks[i + c].end), c * n);
      const ent = scope(() => noGrad(() => {
        const { positions, ranges } = chunkAttention(ids, g, n, ctx, device);
        return entropyOfLogits(model.forward(ops.tensor(ids, [g, n], { device }), positions, ranges)); // [g, n]
      }));
      out.set(await ent.data(), b * T + chunks[i].start); // chunks i.. are consecutive
      ent.dispose();
      i += g;
      done += g * n;
      onProgress?.(done, B * T);
    }
  }
  return out;
}
