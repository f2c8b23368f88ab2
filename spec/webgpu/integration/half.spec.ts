// half.spec.ts — 16-bit weights on WebGPU (two values per u32: kernels/half-decode.wgsl.ts) and a hash table in
// row blocks or left on disk: the kernels against the CPU backend, and a bfloat16 BLT on the GPU against the
// same bfloat16 BLT on the CPU.
//
// Tolerances. Decoding, gathering and packing are exact (the same bit arithmetic as src/tensor/half.ts). The
// 16-bit matmul sums K float32 products with fma in k order; the CPU computes the float32 matmul of the same
// decoded weights (its own order), so both are within γ_K Σ|a·w| of the exact sum and |gpu - cpu| ≤ 2 γ_K Σ|a·w|.
// The whole model: both devices compute float32 forwards on identical weight values, so their difference is one
// float32 implementation's forward error, the golden logit budget (GOLDEN_TOLERANCE.logits, as golden.spec.ts).

import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ops from '../../../src/ops/index.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { getBackend } from '../../../src/backend/backend.js';
import { float32ToHalf, halfToFloat32, type HalfFormat } from '../../../src/tensor/half.js';
import { Rng } from '../../../src/tensor/random.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import { loadBltCheckpoint, saveBltCheckpoint } from '../../../src/blt/checkpoint.js';
import { GOLDEN_TOLERANCE } from '../../../src/blt/golden.js';
import { BlockedTable } from '../../../src/nn/blocked-table.js';
import { DiskTable } from '../../../src/nn/disk-table.js';
import { sharedPath } from '../../../src/io/shared-dir.js';
import { maxAbsDiff, useWebGpuBackend, RUN_WEBGPU } from './backend-setup.js';

useWebGpuBackend(); // the installed backend for this file (device "webgpu")
const u = 2 ** -24;
const gamma = (n: number): number => (n * u) / (1 - n * u);

/** Every float32 pattern class, for packing: exact, halfway and overflowing values, subnormals, ±0, ±Inf, NaN. */
const SPECIAL = new Float32Array(new Uint32Array([
  0x00000000, 0x80000000, 0x3f808000, 0x3f818000, 0x3f808001, 0x477fe000, 0x477ff000, 0x33800000, 0x33000000, 0x33c00000,
  0x7f7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc12345, 0x00000001, 0x3eaaaaab, 0xc2c80000, 0x387fc000,
]).buffer);

describe.runIf(RUN_WEBGPU)('16-bit storage on webgpu', () => {
  it('uploads, downloads, packs and unpacks exactly as the CPU does', async () => {
    for (const format of ['bfloat16', 'float16'] as HalfFormat[]) {
      const want = float32ToHalf(format, SPECIAL);
      const packed = ops.cast(ops.tensor(SPECIAL, [SPECIAL.length], { device: 'webgpu' }), format); // odd length: a half-used last word
      expect(packed.dtype).toBe(format);
      const back = await packed.to('cpu');
      expect(Array.from(back.halfBits()), format).toEqual(Array.from(want));
      const values = halfToFloat32(format, want, new Float32Array(want.length));
      expect(Array.from(await packed.data())).toEqual(Array.from(values));
      expect(Array.from(await ops.cast(packed, 'float32').data())).toEqual(Array.from(values));
    }
  });

  it('matmul with a 16-bit weight and embedding from a 16-bit table agree with the CPU', async () => {
    const rng = new Rng(7);
    for (const format of ['bfloat16', 'float16'] as HalfFormat[]) {
      for (const [M, K, N, transA, transB] of [[1, 64, 70, false, true], [5, 33, 9, false, false], [3, 17, 129, true, true], [2, 10, 7, true, true]] as const) {
        const bits = float32ToHalf(format, Float32Array.from({ length: K * N }, () => rng.normal()));
        const wc = new Tensor(getBackend('cpu').uploadHalf(bits, format), transB ? [N, K] : [K, N]);
        const wg = await wc.to('webgpu');
        const a = ops.randn(transA ? [K, M] : [M, K], rng);
        const want = ops.matmul(a, wc, { transA, transB }).dataSync();
        const got = await ops.matmul(await a.to('webgpu'), wg, { transA, transB }).data();
        const wv = halfToFloat32(format, bits, new Float32Array(K * N)), av = a.dataSync();
        for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += Math.abs((transA ? av[k * M + m] : av[m * K + k]) * (transB ? wv[n * K + k] : wv[k * N + n]));
          expect(Math.abs(got[m * N + n] - want[m * N + n]), `${format} ${M}x${K}x${N}`).toBeLessThanOrEqual(2 * gamma(K) * s);
        }
        const ids = Int32Array.from({ length: 11 }, () => rng.int(transB ? N : K));
        const e = await ops.embedding(wg, ops.tensor(ids, [11], { device: 'webgpu' })).data();
        expect(Array.from(e)).toEqual(Array.from(ops.embedding(wc, ops.tensor(ids, [11])).dataSync()));
      }
    }
  });

  it('a bfloat16 BLT with its hash table in forced-small row blocks, or on disk, gives the CPU logits', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'blt-half-gpu-'));
    try {
      const src = await loadBltCheckpoint(sharedPath('golden', 'blt1b_like'));
      await saveBltCheckpoint(src, tmp, { dtype: 'bfloat16' });
      const cpu = await loadBltCheckpoint(tmp, { hashTables: 'memory' });
      const V = cpu.config.hash.vocab, dE = cpu.config.encoder.hiddenSize;
      // blocks far below the adapter's binding limit: each hash table in 3 blocks (bfloat16 rows of 2·dE bytes)
      const blocked = await loadBltCheckpoint(tmp, { device: 'webgpu', hashTables: 'memory', blockBytes: Math.ceil(V / 3) * 2 * dE });
      const table = blocked.model.encoder_hash_tok_embedding.weight as BlockedTable;
      expect(table.blocks.length).toBe(3 * cpu.config.hash.groupSizes.length * cpu.config.hash.nbFunctions);
      expect(table.blocks.every((b) => b.device === 'webgpu' && b.dtype === 'bfloat16')).toBe(true);
      expect(blocked.lm_head.weight.dtype).toBe('bfloat16');
      const onDisk = await loadBltCheckpoint(tmp, { device: 'webgpu', hashTables: 'disk' });
      expect(onDisk.model.encoder_hash_tok_embedding.weight).toBeInstanceOf(DiskTable);
      const ids = [[1, 77, 121, 32, 110, 97, 109, 101, 32, 105, 115, 33]];
      const lengths = [[1, 1, 3, 1, 5, 1]];
      const want = noGrad(() => cpu.forwardWithPatches(ids, lengths).logits.dataSync());
      for (const [name, m] of [['blocks', blocked], ['disk', onDisk]] as const) {
        const out = noGrad(() => m.forwardWithPatches(ids, lengths).logits);
        const got = await out.data();
        out.dispose();
        expect(maxAbsDiff(got, want), name).toBeLessThanOrEqual(GOLDEN_TOLERANCE.logits);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
