// Eq. 2's hash n-gram sum (src/blt/hash-embeddings.ts): the forward equals the byte embedding plus every table's
// row, summed over the tables in table order in float32 (then one float32 add), bit for bit; the fused table
// receives one gradient, each row the sum of the output gradients at the positions that looked it up. With the
// table in one block and in several (as a BLT-1B table is held).

import { describe, expect, it } from 'vitest';
import { ops, Rng } from '../../../src/index.js';
import { HashNgramEmbedding } from '../../../src/blt/hash-embeddings.js';
import { BlockedTable } from '../../../src/nn/blocked-table.js';

describe('HashNgramEmbedding.forward (eq. 2)', () => {
  for (const blocked of [false, true]) {
    it(`sums every table's row in table order and has the gradient of a sum (${blocked ? 'several blocks' : 'one block'})`, () => {
      const hash = { groupSizes: [3, 4, 5], nbFunctions: 2, vocab: 11 }, dim = 6, B = 2, n = 9;
      const rng = new Rng(5);
      const emb = new HashNgramEmbedding(hash, dim, rng);
      const rows = emb.tables * hash.vocab;
      // several blocks: at most 4 rows (96 bytes) per block, split at table boundaries
      if (blocked) emb.weight = BlockedTable.init(rows, dim, new Rng(6), dim ** -0.5, hash.vocab, 4 * dim * 4);
      const table = blocked ? new Float32Array(rows * dim) : null;
      if (table) {
        let at = 0;
        for (const blk of (emb.weight as BlockedTable).blocks) { table.set(blk.dataSync(), at); at += blk.size; }
        expect((emb.weight as BlockedTable).blocks.length).toBeGreaterThan(emb.tables);
      }
      const T = table ?? ((emb.weight as BlockedTable).blocks[0].dataSync() as Float32Array);
      const ids = Int32Array.from({ length: B * n }, (_, i) => 4 + ((i * 37) % 250));
      const rowIds = emb.rowIds(ids, B, n);
      const tok = ops.rand([B, n, dim], rng, -1, 1);
      const out = emb.forward(tok, rowIds);
      expect(out.shape).toEqual([B, n, dim]);
      const got = out.dataSync(), t = tok.dataSync();
      for (let p = 0; p < B * n; p++) {
        for (let d = 0; d < dim; d++) {
          let s = 0;
          for (const r of rowIds) s = Math.fround(s + T[r[p] * dim + d]);
          expect(got[p * dim + d]).toBe(Math.fround(s + t[p * dim + d]));
        }
      }
      // gradient: d(Σ out·G)/dTable[r] = Σ over (table m, position p) with rowIds[m][p] = r of G[p]
      const G = ops.rand([B, n, dim], rng, -1, 1);
      ops.backward(ops.sum(ops.mul(out, G)));
      const g = G.dataSync(), want = new Float64Array(rows * dim), size = new Float64Array(rows * dim);
      for (const r of rowIds) {
        for (let p = 0; p < B * n; p++) {
          for (let d = 0; d < dim; d++) { want[r[p] * dim + d] += g[p * dim + d]; size[r[p] * dim + d] += Math.abs(g[p * dim + d]); }
        }
      }
      const grads = new Float32Array(rows * dim);
      let at = 0;
      for (const blk of (emb.weight as BlockedTable).blocks) { grads.set(blk.grad!.dataSync(), at); at += blk.size; }
      // float32 sums of at most tables·B·n terms: γ·Σ|g|
      const gamma = (emb.tables * B * n * 2 ** -24) / (1 - emb.tables * B * n * 2 ** -24);
      for (let i = 0; i < rows * dim; i++) expect(Math.abs(grads[i] - want[i])).toBeLessThanOrEqual(gamma * size[i]);
      expect(tok.grad).toBeNull(); // tok needs no gradient here; the table got it all
    });
  }
});
