/**
 * Indexing ops: embedding lookup (gather rows, backward scatter-add), picking one entry per row, and the
 * segment max that pools byte states into patches (BLT's local encoder starts its patch queries from
 * max-pooled byte states: paper §3.2.2, eq. 5, with f = max pooling).
 */
import { Tensor } from '../tensor/tensor.js';
import { record } from '../autograd/engine.js';
import { shapeToString } from '../tensor/shape.js';
import { checkFloat, checkHalfWeight, checkIndexRange, checkInt, checkRank, checkSameDevice } from './check.js';
import { isHalf } from '../tensor/dtype.js';

/** out[..., :] = table[ids[...], :] ; table [V, D] (float, or a 16-bit weight), ids int32 of any shape -> [...ids.shape, D] */
export function embedding(table: Tensor, ids: Tensor): Tensor {
  checkRank('embedding', table, 2, 'table');
  if (isHalf(table.dtype)) checkHalfWeight('embedding', table); // 16-bit table: rows come out as float32
  checkInt('embedding', 'ids', ids);
  checkSameDevice('embedding', table, ids);
  const [V, D] = table.shape;
  checkIndexRange('embedding', ids, V);
  const n = ids.size;
  return record('embedding', table.backend.gatherRows(table.storage, V, D, ids.storage, n), [...ids.shape, D], [table],
    // every row used k times receives the sum of its k gradients; unused rows get exactly 0
    (g) => [new Tensor(table.backend.scatterAddRows(g.storage, ids.storage, n, D, V), [V, D])]);
}

/** out[r] = x[r, idx[r]] over the last axis (0 where idx[r] < 0) ; x [..., C], idx int32 [...] */
export function pickLast(x: Tensor, idx: Tensor): Tensor {
  checkFloat('pickLast', x);
  checkInt('pickLast', 'indices', idx);
  checkSameDevice('pickLast', x, idx);
  const cols = x.shape[x.rank - 1];
  const rows = x.size / Math.max(cols, 1);
  if (idx.size !== rows) {
    throw new Error(`pickLast: ${idx.size} indices for ${rows} rows of ${shapeToString(x.shape)}`);
  }
  if (idx.device === 'cpu') {
    const a = idx.dataSync();
    for (let i = 0; i < a.length; i++) {
      if (a[i] >= cols) throw new Error(`pickLast: index ${a[i]} at position ${i} is out of range [0, ${cols})`);
    }
  }
  return record('pickLast', x.backend.pickLast(x.storage, idx.storage, rows, cols), x.shape.slice(0, -1), [x],
    (g) => [new Tensor(x.backend.scatterLast(g.storage, idx.storage, rows, cols), x.shape)]);
}

// [doc:segment-max]
/**
 * Segment max: x [N, D], segmentIds int32 [N] in [0, S) (or -1 to skip a row) -> [S, D] where row s is the
 * elementwise max of the rows of x with id s (0 for an empty segment). The gradient of each (s, d) goes to the
 * one arg-max row (the first on ties).
 */
export function segmentMax(x: Tensor, segmentIds: Tensor, S: number): Tensor {
  checkFloat('segmentMax', x);
  checkRank('segmentMax', x, 2);
  checkInt('segmentMax', 'segment ids', segmentIds);
  checkSameDevice('segmentMax', x, segmentIds);
  const [N, D] = x.shape;
  if (segmentIds.size !== N) throw new Error(`segmentMax: ${segmentIds.size} segment ids for ${N} rows`);
  if (segmentIds.device === 'cpu') {
    const a = segmentIds.dataSync();
    for (let i = 0; i < a.length; i++) {
      if (a[i] < -1 || a[i] >= S) throw new Error(`segmentMax: segment id ${a[i]} at row ${i} is out of range [-1, ${S})`);
    }
  }
  const { values, argmax } = x.backend.segmentMax(x.storage, segmentIds.storage, N, D, S);
  const argmaxT = new Tensor(argmax, [S, D]);
  return record('segmentMax', values, [S, D], [x],
    (g) => [new Tensor(x.backend.segmentMaxBackward(g.storage, argmaxT.storage, S, D, N), [N, D])]);
}
