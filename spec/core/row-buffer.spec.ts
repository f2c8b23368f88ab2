// RowBuffer (src/nn/row-buffer.ts): generation's caches write new rows in place into spare capacity. Whatever
// the sequence of appends, front drops and truncations, the rows it holds are the rows a concatenation would
// hold, and the buffer stays within twice the most rows it ever held live (dead rows are reused, not kept).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import '../../src/index.js';
import * as ops from '../../src/ops/index.js';
import { noGrad } from '../../src/autograd/grad-mode.js';
import { RowBuffer } from '../../src/nn/row-buffer.js';

type Op = { kind: 'append'; n: number } | { kind: 'drop'; by: number } | { kind: 'truncate'; by: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('drop' as const), by: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('truncate' as const), by: fc.integer({ min: 0, max: 5 }) }),
);

describe('RowBuffer', () => {
  it('holds exactly the rows a concatenation would, batch items apart, within bounded capacity', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 2 }), (opsList, B) => {
      noGrad(() => {
        const buf = new RowBuffer();
        const model: number[][][] = Array.from({ length: B }, () => []); // [b][t] -> the row's 3 values
        let next = 0, maxLive = 0;
        for (const op of opsList) {
          if (op.kind === 'append') {
            const vals = new Float32Array(B * op.n * 3);
            for (let b = 0; b < B; b++) {
              for (let i = 0; i < op.n; i++) {
                const row = [next + i, b, -(next + i)];
                vals.set(row, (b * op.n + i) * 3);
                model[b][buf.end + i] = row;
              }
            }
            buf.append(ops.tensor(vals, [B, op.n, 3])); // [B, n, 3]
            next += op.n;
            maxLive = Math.max(maxLive, buf.end - buf.first);
            expect(buf.tensor.shape[1]).toBeLessThanOrEqual(Math.max(64, 2 * maxLive)); // dead rows are reclaimed
          } else if (op.kind === 'drop') {
            buf.dropBefore(buf.first + op.by);
          } else {
            buf.truncate(buf.end - op.by);
          }
        }
        if (buf.end > buf.first) {
          const got = buf.rows(buf.first, buf.end).dataSync(); // [B, end - first, 3]
          const want = model.flatMap((rows) => rows.slice(buf.first, buf.end).flat());
          expect(Array.from(got)).toEqual(want);
        }
        buf.dispose();
      });
    }), { numRuns: 60 });
  });

  it('refuses rows that require grad, rows of another shape, and rows it does not hold', () => {
    const buf = new RowBuffer();
    expect(() => buf.tensor).toThrow(/no rows were appended yet/);
    expect(() => buf.append(ops.zeros([1, 2, 3], { requiresGrad: true }))).toThrow(/rows \[1, 2, 3\] require grad; cache writes are in place/);
    noGrad(() => buf.append(ops.zeros([1, 2, 3])));
    expect(() => buf.append(ops.zeros([1, 2, 4]))).toThrow(/cannot append float32 \[1, 2, 4\] to rows float32 \[1, 64, 3\]/);
    buf.dropBefore(1);
    expect(() => buf.rows(0, 2)).toThrow(/rows \[0, 2\) are not all held \(held: \[1, 2\)\)/);
    buf.dispose();
  });
});
