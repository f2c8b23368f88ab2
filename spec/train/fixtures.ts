// Small shared fixtures for the training specs: a micro BLT config (fast on 2 cores) and a little
// multilingual text.
import type { BltConfig } from '../../src/blt/config/types.js';
import { makeBltConfig } from '../../src/blt/config/shapes.js';

/** A BLT with every part present but tiny widths: a training step takes a few milliseconds. */
export function microConfig(): BltConfig {
  return makeBltConfig({
    k: 2,
    encoder: { hidden: 16, heads: 2, layers: 1, ffn: 32, crossAll: false },
    decoder: { hidden: 16, heads: 2, layers: 1, ffn: 32, crossAll: true },
    global: { hidden: 32, heads: 2, layers: 1, ffn: 64 },
    patcher: { hidden: 16, heads: 2, layers: 1, ffn: 32 },
    hash: { groupSizes: [3, 4], nbFunctions: 1, vocab: 64 },
  });
}

export const TEXTS = [
  'In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness was upon the face of the deep. '.repeat(3),
  'Les hommes naissent et demeurent libres et égaux en droits. Les distinctions sociales ne peuvent être fondées que sur l\'utilité commune. '.repeat(3),
  'Я помню чудное мгновенье: передо мной явилась ты, как мимолетное виденье, как гений чистой красоты. '.repeat(3),
  '道可道，非常道。名可名，非常名。無名天地之始；有名萬物之母。'.repeat(4),
];
