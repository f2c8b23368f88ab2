// page.spec.ts — the demo page (web/) in a real browser: Debian's chromium, headless, driven by playwright-core,
// WebGPU on SwiftShader. The page is built with Vite and served from localhost; the tests type a text and compare
// the page's patches with the Node implementation (src/train/patching-view.ts, what `blt patch` prints) on the
// same model file, walk a forward pass, generate (greedy output equal to Node's), stop a generation, run a small
// benchmark, download its JSON, run the property checks, open a good and a bad checkpoint folder, and check the
// plain-words errors of a browser without WebGPU on a host without cross-origin isolation. Any console error or
// uncaught exception in the page or its workers fails the test. Screenshots of every view go to out/web/.
//
// Needs /usr/bin/chromium (apt-get install chromium; .ci/run installs it). Without it the tests fail when CI is
// set and are skipped with a message otherwise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import '../../src/index.js';
import { loadBltCheckpoint } from '../../src/blt/checkpoint.js';
import { generate } from '../../src/blt/generate.js';
import type { Blt } from '../../src/blt/blt.js';
import { patchingView } from '../../src/train/patching-view.js';
import { loadAnyCheckpoint } from '../../src/blt/load-sources.js';
import { metaGoldenModelDir } from '../../src/blt/golden-meta.js';
import { nodeFiles } from '../../src/io/node-files.js';
import { sharedPath } from '../../src/io/shared-dir.js';
import { serveStatic, type Served } from './serve.js';
import { PAGE_CHECKS } from '../properties/checks.js';

const cpuChecks = PAGE_CHECKS.filter((c) => c.device === 'cpu').length;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIST = path.join(ROOT, 'web', 'dist');
const SHOTS = path.join(ROOT, 'out', 'web');
const MODEL = path.join(ROOT, 'data', 'demo-model');
const CHROMIUM = process.env.BLT_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) console.warn(`\n[spec/browser] skipped: no ${CHROMIUM} (apt-get install chromium)\n`);

/** Flags: WebGPU on SwiftShader; and no background traffic, which this machine's closed network would refuse. */
const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic', '--disable-default-apps', '--disable-extensions'];
const WEBGPU = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

interface Session { browser: Browser; context: BrowserContext; page: Page; problems: string[]; served: Served; profile: string }

async function open(isolated: boolean, webgpu: boolean): Promise<Session> {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'blt-chromium-'));
  const served = await serveStatic(DIST, isolated);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: [...FLAGS, ...(webgpu ? WEBGPU : ['--disable-features=WebGPU'])],
    viewport: { width: 1200, height: 900 }, acceptDownloads: true,
  });
  const browser = context.browser()!;
  const page = context.pages()[0] ?? await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('worker', (w) => {
    w.on('console', (m) => { if (m.type() === 'error') problems.push(`worker console error: ${m.text()}`); });
  });
  await page.goto(served.url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true' || !document.getElementById('page-error')!.hidden, null, { timeout: 60_000 });
  return { browser, context, page, problems, served, profile };
}

async function close(s: Session | undefined): Promise<void> {
  if (!s) return;
  await s.context.close();
  await s.served.close();
  fs.rmSync(s.profile, { recursive: true, force: true });
  void s.browser;
}

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0)); // a full-page shot of a scrolled page repeats the sticky tabs
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** expect.poll waits 1 s by default; the page's work (a model run, SwiftShader kernels) can take longer. */
const WAIT = { timeout: 30_000 };

const textOf = async (l: Locator): Promise<string> => (await l.textContent()) ?? '';

const lengthsShown = async (page: Page): Promise<number[]> =>
  JSON.parse(await page.locator('#patch-pieces').getAttribute('data-lengths') ?? '[]') as number[];

describe.skipIf(!haveChromium && !process.env.CI)('the demo page in chromium', () => {
  let s: Session | undefined;
  let node: Blt;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (or set BLT_CHROMIUM)`);
    const { build } = await import('vite');
    await build({ configFile: path.join(ROOT, 'web', 'vite.config.ts'), logLevel: 'warn' });
    node = await loadBltCheckpoint(MODEL);
    s = await open(true, true);
  }, 180_000);

  afterAll(async () => { await close(s); });

  it('builds a bundle that imports no node: module and no package outside it', () => {
    const js = fs.readdirSync(path.join(DIST, 'assets')).filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(1);
    for (const f of js) {
      const code = fs.readFileSync(path.join(DIST, 'assets', f), 'utf8');
      expect(code, f).not.toMatch(/\bnode:[a-z_]+/);
      expect(code, f).not.toMatch(/\bfrom\s*["'](?!\.)[^"']+["']|\bimport\(\s*["'](?!\.)[^"']+["']/);
    }
  });

  it('starts with the demo model, WebGPU on SwiftShader and worker threads (cross-origin isolated)', async () => {
    const { page, problems } = s!;
    await expect.poll(() => page.locator('#status').textContent(), WAIT).toMatch(/demo model.*CPU: [2-9]\d* threads.*WebGPU: .*swiftshader/i);
    expect(problems).toEqual([]);
  });

  it('patching: typed text is patched exactly as the Node implementation patches it, and the slider re-patches', async () => {
    const { page, problems } = s!;
    const text = 'Les hommes naissent libres. Я помню чудное мгновенье. 道可道，非常道。 Let there be light!';
    await page.locator('#patch-text').fill(text);
    const want = await patchingView(node, text);
    await expect.poll(() => lengthsShown(page), { timeout: 30_000 }).toEqual(want.byteLengths);
    expect(want.byteLengths.reduce((a, b) => a + b, 0)).toBe(new TextEncoder().encode(text).length);
    await expect.poll(() => textOf(page.locator('#patch-stats')), WAIT).toContain(`${want.byteLengths.length} patches`);
    await expect.poll(() => page.locator('#patch-plot svg circle').count(), WAIT).toBe(want.bytes.length);
    await shot(page, 'patching');
    for (const theta of ['1.5', '4']) {
      await page.locator('#threshold').fill(theta);
      const re = await patchingView(node, text, { threshold: Number(theta) });
      await expect.poll(() => lengthsShown(page), WAIT).toEqual(re.byteLengths);
    }
    expect((await patchingView(node, text, { threshold: 4 })).byteLengths.length).toBeLessThan(want.byteLengths.length); // the slider mattered
    await page.locator('#threshold-reset').click();
    await expect.poll(() => lengthsShown(page), WAIT).toEqual(want.byteLengths);
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'patching-phone');
    await page.setViewportSize({ width: 1200, height: 900 });
    expect(problems).toEqual([]);
  });

  it('walk-through: eight stages with the shapes and patches of the Node model', async () => {
    const { page, problems } = s!;
    await page.locator('#tab-walkthrough').click();
    await page.locator('#walk-text').fill('Hello, world!');
    await page.locator('#walk-run').click();
    await expect.poll(() => page.locator('#walk-stages .stage').count(), { timeout: 30_000 }).toBe(8);
    const N = 14; // BOS + 13 bytes
    const lengths = (await node.patchLengthsFor([[1, ...new TextEncoder().encode('Hello, world!').map((b) => b + 4)]]))[0];
    await expect.poll(() => textOf(page.locator('[data-stage="ids"] .shape')), WAIT).toBe(`[1, ${N}]`);
    await expect.poll(() => textOf(page.locator('[data-stage="patches"] .shape')), WAIT).toBe(`[1, ${lengths.length}, ${node.config.crossAttnK * node.config.encoder.hiddenSize}]`);
    await expect.poll(() => textOf(page.locator('[data-stage="global"] .shape')), WAIT).toBe(`[1, ${lengths.length}, ${node.config.global.hiddenSize}]`);
    await expect.poll(() => textOf(page.locator('[data-stage="logits"] .shape')), WAIT).toBe(`[1, ${N}, 260]`);
    await expect.poll(() => textOf(page.locator('[data-stage="entropy"]')), WAIT).toContain(`lengths ${Array.from(lengths).join(', ')}`);
    await page.locator('[data-stage="hash"] summary').click();
    await expect.poll(() => textOf(page.locator('[data-stage="hash"] .doc')), WAIT).toContain('a lookup costs no FLOPs');
    await shot(page, 'walkthrough');
    expect(problems).toEqual([]);
  });

  it('generation: greedy output equals Node\'s cached generator, streams, and the stop button stops it', async () => {
    const { page, problems } = s!;
    await page.locator('#tab-generate').click();
    const prompt = 'And God said, Let there be ';
    await page.locator('#gen-prompt').fill(prompt);
    await page.locator('#temperature').fill('0');
    await page.locator('#gen-len').fill('40');
    await page.locator('#gen-run').click();
    await expect.poll(() => page.locator('#gen-out').getAttribute('data-state'), { timeout: 60_000 }).toBe('done');
    const want = await generate(node, prompt, { maxNewBytes: 40 });
    expect(await page.locator('#gen-out .generated').textContent()).toBe(want.text);
    await shot(page, 'generation');
    // a long sampled run, stopped after the first bytes arrive
    await page.locator('#temperature').fill('1');
    await page.locator('#gen-len').fill('1000');
    await page.locator('#gen-run').click();
    await expect.poll(async () => (await page.locator("#gen-out .generated").textContent())?.length ?? 0, WAIT).toBeGreaterThan(3);
    await page.locator('#gen-stop').click();
    await expect.poll(() => page.locator('#gen-out').getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    await expect.poll(() => textOf(page.locator('#gen-stats')), WAIT).toContain('stopped');
    expect(new TextEncoder().encode((await page.locator('#gen-out .generated').textContent()) ?? '').length).toBeLessThan(1000);
    expect(problems).toEqual([]);
  });

  it('benchmarks: CPU and WebGPU rows for matmul and attention, a chart, the adapter, and a JSON download', async () => {
    const { page, problems } = s!;
    await page.locator('#tab-bench').click();
    await expect.poll(() => textOf(page.locator('#adapter-name')), WAIT).toMatch(/swiftshader/i);
    await page.locator('#bench-size').selectOption('quick');
    await page.locator('#bench-run').click();
    await expect.poll(() => page.locator('#bench-table tbody tr').count(), { timeout: 120_000 }).toBe(12); // 2 devices x (3 + 3)
    for (const device of ['cpu', 'webgpu']) {
      for (const op of ['matmul', 'attention']) await expect.poll(() => page.locator(`#bench-table tr[data-device="${device}"][data-op="${op}"]`).count(), WAIT).toBe(3);
    }
    await expect.poll(() => page.locator('#bench-chart svg').count(), WAIT).toBe(2);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#bench-download').click()]);
    const json = JSON.parse(fs.readFileSync((await download.path())!, 'utf8')) as { rows: { gflops: number }[]; webgpu: { adapter: string } };
    expect(json.rows).toHaveLength(12);
    expect(json.rows.every((r) => r.gflops > 0 && Number.isFinite(r.gflops))).toBe(true);
    expect(json.webgpu.adapter).toMatch(/swiftshader/i);
    await shot(page, 'benchmarks');
    expect(problems).toEqual([]);
  });

  it('property checks: every shared property passes on WebGPU in the page', async () => {
    const { page, problems } = s!;
    await page.locator('#tab-properties').click();
    await page.locator('#props-run').click();
    await expect.poll(() => textOf(page.locator('#props-summary')), { timeout: 240_000 }).toBe(`${PAGE_CHECKS.length} passed, 0 failed`);
    const failed = await page.locator('.prop[data-state="fail"]').allTextContents();
    expect(failed).toEqual([]);
    expect(await page.locator('.prop[data-state="pass"]').count()).toBe(PAGE_CHECKS.length);
    await shot(page, 'properties');
    expect(problems).toEqual([]);
  }, 300_000);

  it('opens a picked checkpoint folder, and refuses a broken one in plain words', async () => {
    const { page, problems } = s!;
    await page.locator('#tab-patching').click();
    await page.locator('#folder-input').setInputFiles(MODEL);
    await expect.poll(() => textOf(page.locator('#model-info')), { timeout: 30_000 }).toContain("folder 'demo-model'");
    // Meta's Hub packaging (safetensors with Meta's key names, entropy_model/ inside), read through openCheckpoint
    const metaHub = path.join(metaGoldenModelDir(sharedPath('golden-meta'))!, 'hub');
    await page.locator('#folder-input').setInputFiles(metaHub);
    await expect.poll(() => textOf(page.locator('#model-info')), { timeout: 30_000 }).toContain("folder 'hub'");
    const hubModel = loadAnyCheckpoint(nodeFiles, metaHub);
    const text = 'Meta packaging, patched in the page.';
    await page.locator('#patch-text').fill(text);
    const want = await patchingView(hubModel, text);
    await expect.poll(() => lengthsShown(page), WAIT).toEqual(want.byteLengths);
    await page.locator('#use-demo').click();
    await expect.poll(() => textOf(page.locator('#model-info')), WAIT).toContain('demo model');
    const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'blt-bad-'));
    onTestFinished(() => fs.rmSync(bad, { recursive: true, force: true })); // also when a check below fails
    const badDir = path.join(bad, 'broken-checkpoint');
    fs.mkdirSync(badDir);
    fs.writeFileSync(path.join(badDir, 'config.json'), fs.readFileSync(path.join(MODEL, 'config.json')));
    fs.writeFileSync(path.join(badDir, 'model.safetensors'), fs.readFileSync(path.join(MODEL, 'model.safetensors')).subarray(0, 1000));
    await page.locator('#folder-input').setInputFiles(badDir);
    await expect.poll(() => page.locator('#page-error').isVisible(), WAIT).toBe(true);
    await expect.poll(() => textOf(page.locator('#page-error')), WAIT).toMatch(/could not be used as a checkpoint: .*model\.safetensors/);
    await shot(page, 'bad-checkpoint');
    expect(problems).toEqual([]);
  });
});

describe.skipIf(!haveChromium && !process.env.CI)('the demo page without WebGPU, on a host without cross-origin isolation', () => {
  let s: Session | undefined;
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`no chromium at ${CHROMIUM}`);
    if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error('web/dist is missing: the first describe builds it');
    s = await open(false, false);
  }, 120_000);
  afterAll(async () => { await close(s); });

  it('still patches (on one CPU thread) and says in plain words that WebGPU is missing', async () => {
    const { page, problems } = s!;
    await expect.poll(() => textOf(page.locator('#status')), WAIT).toContain('CPU: 1 thread');
    await expect.poll(() => textOf(page.locator('#status')), WAIT).toContain('no WebGPU in this browser');
    await expect.poll(() => lengthsShown(page), { timeout: 30_000 }).not.toEqual([]);
    await page.locator('#tab-bench').click();
    await expect.poll(() => textOf(page.locator('#bench-adapter')), WAIT).toContain('WebGPU is not available here');
    await page.locator('#tab-properties').click();
    await page.locator('#props-run').click();
    await expect.poll(() => textOf(page.locator('#props-summary')), { timeout: 60_000 }).toBe(`${cpuChecks} passed, 0 failed, ${PAGE_CHECKS.length - cpuChecks} not run (no WebGPU)`);
    await expect.poll(() => textOf(page.locator('.prop[data-state="skipped"]').first()), WAIT).toContain('needs WebGPU');
    await shot(page, 'no-webgpu');
    expect(problems).toEqual([]);
  });
});
