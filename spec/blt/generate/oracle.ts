// The no-cache generator, the test oracle of src/blt/generate.ts: for every new byte, patch the whole sequence
// with the model's rule (entropy model included), run the full forward pass and sample from the last position's
// logits (what Meta's generate_nocache and HF's generate(use_cache=False) do). Same API and result as `generate`.
import { Rng } from '../../../src/tensor/random.js';
import { scopeAsync } from '../../../src/tensor/scope.js';
import { noGrad } from '../../../src/autograd/grad-mode.js';
import type { Blt } from '../../../src/blt/blt.js';
import {
  checkGenerateOptions, generationResult, promptIds, type GenerateOptions, type GenerateResult, type GlobalModelStats, type Prompt,
} from '../../../src/blt/generate.js';
import { sampleNext } from '../../../src/blt/sampling.js';
import { EOS_ID } from '../../../src/blt/tokenizer.js';

export async function generateNoCache(model: Blt, prompt: Prompt, opts: GenerateOptions): Promise<GenerateResult> {
  checkGenerateOptions(opts);
  const sampling = opts.sampling ?? { greedy: true };
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const start = promptIds(prompt);
  const ids = [...start], out: number[] = [];
  const V = model.config.vocabSize;
  const stats: GlobalModelStats = { calls: 0, positions: 0 };
  let eos = false;
  while (out.length < opts.maxNewBytes && !eos) {
    const N = ids.length;
    const next = await scopeAsync(async () => {
      const lengths = await model.patchLengthsFor([ids]);
      const { logits } = noGrad(() => model.forwardWithPatches([ids], lengths)); // [1, N, V]
      stats.calls++;
      stats.positions += lengths[0].length; // the global model ran over all P patches
      const last = (await logits.data()).subarray((N - 1) * V, N * V);
      return sampleNext(last, sampling, rng, `(no-cache generation, position ${N - 1})`);
    });
    ids.push(next);
    out.push(next);
    eos = next === EOS_ID && (opts.stopAtEos ?? true);
  }
  return generationResult(start, out, eos, stats);
}
