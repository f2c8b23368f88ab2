// Training parity with Hugging Face (shared/golden-train): all of checks A-G within the README's tolerances,
// on the CPU and, when an adapter is present, on WebGPU (with CI set, a missing adapter fails; spec/webgpu).
import '../../src/index.js'; // the Node entry: installs the CPU backend (worker_threads)
import { afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { checkTrainGolden, goldenLr } from '../../src/train/golden-train.js';
import { initDevice, releaseDevice } from '../../src/train/device.js';
import { RUN_WEBGPU } from '../webgpu/gpu-setup.js';
import { sharedPath } from '../../src/io/shared-dir.js';

const DIR = sharedPath('golden-train');
const quiet = (): void => {};

function expectAllChecks(rows: { check: string; ok: boolean }[]): void {
  // every check the golden set defines is present: A, B, B', C, D (optimizer + frozen), E (two regions), F (loss, norm), G (L2, max, frozen)
  const checks = rows.map((r) => r.check);
  for (const c of ['A', 'B', "B'", 'C', 'D', 'E', 'F', 'G']) expect(checks).toContain(c);
  expect(rows.length).toBe(13);
  for (const r of rows) expect(r.ok, JSON.stringify(r)).toBe(true);
}

describe('golden-train (CPU)', () => {
  it('the lr schedule the golden set was made with: 0.001, 0.002, 0.003, 0.003, ...', () => {
    expect([0, 1, 2, 3, 11].map((s) => goldenLr(s, 3e-3, 3))).toEqual([0.001, 0.002, 0.003, 0.003, 0.003]);
  });

  it('replays the 12 HF steps and passes checks A-G', async () => {
    expect(fs.existsSync(DIR), `${DIR} is missing`).toBe(true);
    const r = await checkTrainGolden(DIR, { device: 'cpu', log: quiet });
    expectAllChecks(r.rows);
    expect(r.ok).toBe(true);
    // the measured figures are far inside the tolerances (the set's README: a float32 implementation reaches ~1e-6)
    const a = r.rows.find((x) => x.check === 'A')!;
    expect(a.value).toBeLessThan(1e-5);
  }, 60_000);

  it('names a missing folder', async () => {
    await expect(checkTrainGolden('/nonexistent-golden', { log: quiet })).rejects.toThrow(/nonexistent-golden.*missing/);
  });
});

describe.runIf(RUN_WEBGPU)('golden-train (WebGPU)', () => {
  afterAll(() => releaseDevice('webgpu'));
  it('passes checks A-G on the WebGPU backend', async () => {
    await initDevice('webgpu'); // throws, naming what was tried, when CI is set and there is no adapter
    const r = await checkTrainGolden(DIR, { device: 'webgpu', log: quiet });
    expectAllChecks(r.rows);
    expect(r.ok).toBe(true);
  }, 300_000);
});
