/**
 * Encoder input embeddings: byte embedding plus hash n-gram embeddings (paper §3.2.1, eqs. 2-4).
 *
 *   e_i = Emb[x_i] + Σ_{m < F·G} T_m[ hash_m(x, i) ]                              (eq. 2, code version: no /7)
 *
 * The hash ids themselves (int64 rolling polynomial, floor-mod) are computed on the host by
 * src/blt/hash-ngram.ts. HF stores all F·G tables in one fused matrix `encoder_hash_tok_embedding.weight`
 * [F·G·V, dE], function-major: table m = f·G + gi occupies rows [m·V, (m+1)·V), so the lookup row is m·V + id.
 * How the fused matrix is stored is a separate concern (one tensor, row blocks per table, or left on disk: see
 * src/nn/blocked-table.ts and src/nn/disk-table.ts); every storage answers `lookup(rows)`.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import { Module } from '../nn/module.js';
import { BlockedTable } from '../nn/blocked-table.js';
import type { DiskTable } from '../nn/disk-table.js';
import * as ops from '../ops/index.js';
import { encoderHashIds, offsetIds } from './hash-ngram.js';
import type { HashConfig } from './config/types.js';

/** The fused hash table (HF key `encoder_hash_tok_embedding.weight`). */
export class HashNgramEmbedding extends Module {
  /** [F·G·V, dE]: in memory in row blocks (one block while it fits), or read from the checkpoint on demand */
  weight: BlockedTable | DiskTable;

  constructor(readonly hash: HashConfig, readonly dim: number, rng: Rng) {
    super();
    const rows = hash.nbFunctions * hash.groupSizes.length * hash.vocab;
    // Meta's init: hash tables ~ truncated normal with std dE^-1/2; blocks (if any) split at table boundaries
    this.weight = BlockedTable.init(rows, dim, rng, dim ** -0.5, hash.vocab); // [F·G·V, dE]
  }

  /** Number of tables F·G. */
  get tables(): number {
    return this.hash.nbFunctions * this.hash.groupSizes.length;
  }

  // [doc:hash-row-ids]
  /**
   * Fused-table row ids for a batch of token ids (host int32 [B, T]): one host int32 array [B, T] per table.
   * Row b of table m is hash_m(ids[b]) + m·V (rows of a batch are hashed independently).
   */
  rowIds(ids: Int32Array, B: number, T: number): Int32Array[] {
    const { groupSizes, nbFunctions, vocab } = this.hash;
    const out = Array.from({ length: this.tables }, () => new Int32Array(B * T)); // per table [B, T]
    for (let b = 0; b < B; b++) {
      const row = ids.subarray(b * T, (b + 1) * T);
      const rows = offsetIds(encoderHashIds(row, groupSizes, nbFunctions, vocab), vocab);
      rows.forEach((r, m) => out[m].set(r, b * T));
    }
    return out;
  }

  // [doc:hash-embed-sum]
  /**
   * Eq. 2: tokenEmbeds [B, n, dE] + Σ_m T_m rows (row ids [B, n] per table) -> [B, n, dE].
   * All tables' rows are one lookup, and their sum over the tables is one product with a row of ones (a sum over
   * the leading axis that every backend runs well; in table order, accumulated as a matmul accumulates), then added
   * to the byte embedding. HF adds the tables to the byte embedding one by one, so the two differ by a few
   * roundings. One lookup means one gradient for the fused table: F·G lookups would each give a dense
   * [F·G·V, dE] gradient (12 MB for blt-small), to be summed.
   */
  forward(tokenEmbeds: Tensor, rowIds: Int32Array[]): Tensor {
    const [B, n, dE] = tokenEmbeds.shape;
    const tables = rowIds.length;
    if (tables === 0) return tokenEmbeds;
    const all = new Int32Array(tables * B * n); // [F·G, B, n]
    rowIds.forEach((ids, m) => all.set(ids, m * B * n));
    const rows = ops.reshape(this.weight.lookup(all, [tables, B, n]), [tables, B * n * dE]); // [F·G, B·n·dE]
    const ones = ops.ones([1, tables], { dtype: rows.dtype, device: rows.device });
    const summed = ops.reshape(ops.matmul(ones, rows), [B, n, dE]); // Σ_m T_m rows: [1, B·n·dE] -> [B, n, dE]
    return ops.add(tokenEmbeds, summed); // [B, n, dE]
  }
}
