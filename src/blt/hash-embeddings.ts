/**
 * Encoder input embeddings: byte embedding plus hash n-gram embeddings (paper §3.2.1, eqs. 2-4; spec §3.2.2;
 * golden README §4.1).
 *
 *   e_i = Emb[x_i] + Σ_{m < F·G} T_m[ hash_m(x, i) ]                              (eq. 2, code version: no /7)
 *
 * The hash ids themselves (int64 rolling polynomial, floor-mod) are computed on the host by
 * src/blt/hash-ngram.ts. HF stores all F·G tables in one fused matrix `encoder_hash_tok_embedding.weight`
 * [F·G·V, dE], function-major: table m = f·G + gi occupies rows [m·V, (m+1)·V), so the lookup row is m·V + id.
 */
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/random.js';
import type { Device } from '../tensor/dtype.js';
import { Module, parameter } from '../nn/module.js';
import * as ops from '../ops/index.js';
import { encoderHashIds, offsetIds } from './hash-ngram.js';
import type { HashConfig } from './config.js';

/** The fused hash table (HF key `encoder_hash_tok_embedding.weight`). */
export class HashNgramEmbedding extends Module {
  weight: Tensor;

  constructor(readonly hash: HashConfig, readonly dim: number, rng: Rng) {
    super();
    const rows = hash.nbFunctions * hash.groupSizes.length * hash.vocab;
    // spec §6.6: hash tables ~ truncated normal with std dE^-1/2
    this.weight = parameter(ops.truncNormal([rows, dim], rng, dim ** -0.5)); // [F·G·V, dE]
  }

  /** Number of tables F·G. */
  get tables(): number {
    return this.hash.nbFunctions * this.hash.groupSizes.length;
  }

  // [doc:hash-row-ids]
  /**
   * Fused-table row ids for a batch of token ids (host int32 [B, T]): one int32 tensor [B, T] per table,
   * on `device`. Row b of table m is hash_m(ids[b]) + m·V (rows of a batch are hashed independently).
   */
  rowIds(ids: Int32Array, B: number, T: number, device: Device): Tensor[] {
    const { groupSizes, nbFunctions, vocab } = this.hash;
    const out = Array.from({ length: this.tables }, () => new Int32Array(B * T)); // per table [B, T]
    for (let b = 0; b < B; b++) {
      const row = ids.subarray(b * T, (b + 1) * T);
      const rows = offsetIds(encoderHashIds(row, groupSizes, nbFunctions, vocab), vocab);
      rows.forEach((r, m) => out[m].set(r, b * T));
    }
    return out.map((a) => ops.tensor(a, [B, T], { device }));
  }

  // [doc:hash-embed-sum]
  /** Eq. 2: tokenEmbeds [B, T, dE] + Σ_m table rows -> [B, T, dE] (added in table order, as HF does). */
  forward(tokenEmbeds: Tensor, rowIds: Tensor[]): Tensor {
    let e = tokenEmbeds;
    for (const ids of rowIds) e = ops.add(e, ops.embedding(this.weight, ids)); // [B, T, dE]
    return e;
  }
}
