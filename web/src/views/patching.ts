// Patching playground: entropies from the worker (one run of the entropy model per edit), patches computed here
// with the model's own rule (src/blt/patching/patch-lengths.ts), so the threshold slider re-patches without the model.
import { patchLengths, type PatchRule } from '../../../src/blt/patching/patch-lengths.js';
import { entropyPlotSvg } from '../../../src/report/entropy-plot.js';
import { patchPieces } from '../../../src/report/patches-text.js';
import { call } from '../client';
import { $, clearError, fmt, h, showError } from '../dom';
import type { EntropiesResult, ModelInfo } from '../protocol';

let current: EntropiesResult | null = null;
let model: ModelInfo | null = null;
let pendingText: string | null = null;
let running = false;

/** Patch lengths over the bytes (the BOS patch dropped), as `blt patch` computes them (src/train/patching-view.ts). */
export function bytePatchLengths(bytes: Uint8Array, entropies: Float32Array, threshold: number, rule: PatchRule): number[] {
  const tokens = [1, ...Array.from(bytes, (b) => b + 4)]; // BOS + bytes, as the worker encoded them
  const lengths = patchLengths({ ...rule, threshold }, tokens, rule.mode === 'entropy' ? entropies : null);
  return Array.from(lengths.subarray(1));
}

function render(): void {
  const slider = $<HTMLInputElement>('threshold');
  const threshold = Number(slider.value);
  $('threshold-value').textContent = `${fmt(threshold)} nats`;
  const stats = $('patch-stats'), pieces = $('patch-pieces'), plot = $('patch-plot');
  if (!current || current.bytes.length === 0 || !model) {
    stats.textContent = current && current.bytes.length === 0 ? 'Type some text above.' : '';
    pieces.replaceChildren();
    pieces.dataset.lengths = '[]';
    plot.replaceChildren();
    return;
  }
  const { bytes, entropies } = current;
  const lengths = bytePatchLengths(bytes, entropies, threshold, model.rule);
  const n = bytes.length, P = lengths.length;
  const starts = new Array<boolean>(n).fill(false);
  let s = 0;
  for (const L of lengths) { if (s < n) starts[s] = true; s += L; }
  stats.replaceChildren(
    h('span', {}, h('b', {}, String(n)), ' bytes'), h('span', {}, h('b', {}, String(P)), ' patches'),
    h('span', {}, h('b', {}, fmt(n / Math.max(P, 1))), ' bytes per patch'),
    h('span', {}, 'longest ', h('b', {}, String(Math.max(...lengths))), ' bytes'),
  );
  pieces.dataset.lengths = JSON.stringify(lengths);
  pieces.dataset.threshold = String(threshold);
  pieces.replaceChildren(...patchPieces(bytes, lengths).map((text, j) =>
    h('span', { class: `patch p${j % 4}`, title: `patch ${j + 1}: ${lengths[j]} byte${lengths[j] === 1 ? '' : 's'}` }, text.replace(/\n/g, '↵'))));
  plot.innerHTML = entropyPlotSvg({ bytes, entropies: entropies.subarray(0, n), starts, threshold });
}

async function refresh(): Promise<void> {
  pendingText = $<HTMLTextAreaElement>('patch-text').value;
  if (running) return; // the latest text is picked up when the current run ends
  running = true;
  try {
    while (pendingText !== null) {
      const text = pendingText;
      pendingText = null;
      current = await call<EntropiesResult>({ kind: 'entropies', text });
    }
    clearError();
    render();
  } catch (e) {
    showError((e as Error).message);
  } finally {
    running = false;
  }
}

function showModelInfo(info: ModelInfo): void {
  const note = info.patchingMode.startsWith('entropy') ? '' : ` Its rule is '${info.patchingMode}': the threshold does not move its patches.`;
  $('model-info').replaceChildren(
    h('span', {}, 'Model: ', h('b', {}, info.source)),
    h('span', {}, h('b', {}, info.parameters.toLocaleString('en')), ' parameters'),
    h('span', {}, 'widths ', h('b', {}, `${info.hidden.entropy} / ${info.hidden.encoder} / ${info.hidden.global} / ${info.hidden.decoder}`), ' (entropy model / encoder / global / decoder)'),
    h('span', {}, 'θ = ', h('b', {}, `${fmt(info.threshold, 3)} nats`), note),
  );
}

export function setModel(info: ModelInfo): void {
  model = info;
  const slider = $<HTMLInputElement>('threshold');
  slider.max = String(Math.max(5, Math.ceil(info.threshold + 1)));
  slider.value = String(info.threshold);
  showModelInfo(info);
  void refresh();
}

export function initPatching(): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  $('patch-text').addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => void refresh(), 120); });
  $('threshold').addEventListener('input', render);
  $('threshold-reset').addEventListener('click', () => { if (model) { $<HTMLInputElement>('threshold').value = String(model.threshold); render(); } });
  const input = $<HTMLInputElement>('folder-input');
  const open = async (req: Parameters<typeof call>[0]): Promise<void> => {
    const info = $('model-info');
    info.textContent = 'Reading the checkpoint…';
    try {
      const m = await call<ModelInfo>(req);
      $('use-demo').hidden = false;
      clearError();
      setModel(m);
    } catch (e) {
      showError(`That folder could not be used as a checkpoint: ${(e as Error).message}`);
      if (model) showModelInfo(model); // the model in use is unchanged
    }
  };
  $('pick-folder').addEventListener('click', async () => {
    const picker = (window as unknown as { showDirectoryPicker?: () => Promise<FileSystemDirectoryHandle> }).showDirectoryPicker;
    if (!picker) { input.click(); return; }
    let handle: FileSystemDirectoryHandle;
    try { handle = await picker(); } catch { return; } // the visitor closed the dialog
    await open({ kind: 'openFolder', handle });
  });
  input.addEventListener('change', () => {
    const files = Array.from(input.files ?? []);
    if (files.length === 0) return;
    void open({ kind: 'openFolder', entries: files.map((file) => ({ path: file.webkitRelativePath || file.name, file })) });
    input.value = '';
  });
  $('use-demo').addEventListener('click', async () => {
    setModel(await call<ModelInfo>({ kind: 'useDemo' }));
    $('use-demo').hidden = true;
  });
}
