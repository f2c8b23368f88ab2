// The whole BLT against Hugging Face's golden outputs (../shared/golden beside the repository), through `checkGolden`
// itself: entropies (atol 1e-5), entropy patch lengths and their max-length-4 split (exact), logits (max abs <= 1e-4, the set's float32
// tolerance; we reach ~5e-6) for the entropy, stride4 and byte variants of every case of both configs.
import { describe, expect, it } from 'vitest';
import '../../../src/index.js';
import { checkGolden, GOLDEN_TOLERANCE } from '../../../src/blt/golden.js';
import { sharedPath } from '../../../src/io/shared-dir.js';

const GOLDEN = sharedPath('golden');

describe('golden HF logits', () => {
  it('every case and variant of both configs matches HF', async () => {
    const { ok, rows } = await checkGolden(GOLDEN);
    expect(new Set(rows.map((r) => r.config))).toEqual(new Set(['blt1b_like', 'proj_gqa']));
    expect(rows.length).toBe(80); // 2 configs x 10 cases x {entropy, stride4, byte, entropy_maxlen4}
    for (const r of rows) {
      const where = `${r.config}/${r.case}/${r.variant}: ${JSON.stringify(r.intermediates)}`;
      expect(r.patchLengthsMatch, where).toBe(true);
      if (r.variant === 'entropy_maxlen4') { expect(r.logitsMaxAbs).toBeNull(); continue; } // lengths only
      if (r.variant === 'entropy') expect(r.entropyMaxAbs!, where).toBeLessThanOrEqual(GOLDEN_TOLERANCE.entropy);
      expect(r.logitsMaxAbs!, where).toBeLessThanOrEqual(GOLDEN_TOLERANCE.logits);
      // the stored intermediates agree too (hidden states: README's atol 1e-4)
      for (const key of ['hash.embeds', 'encoder.hidden', 'encoder.patches', 'global.out', 'decoder.out']) {
        expect(r.intermediates[key], `${where} ${key}`).toBeLessThanOrEqual(1e-4);
      }
    }
    expect(ok).toBe(true);
  }, 60_000);

  it('a single config directory works too, and a directory without configs is a clear error', async () => {
    const { ok, rows } = await checkGolden(`${GOLDEN}/proj_gqa`, { cases: ['one_byte'] });
    expect(ok).toBe(true);
    expect(rows.map((r) => r.variant).sort()).toEqual(['byte', 'entropy', 'entropy_maxlen4', 'stride4']);
    await expect(checkGolden(sharedPath('golden', 'proj_gqa', 'cases'))).rejects.toThrow(/no config directory/);
  });
});
