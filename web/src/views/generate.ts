// Generation: streamed bytes from the worker (the library's cached generator), a stop button, sampling controls.
import { call } from '../client';
import { $, clearError, fmt, h, showError } from '../dom';

let busy = false;

async function run(): Promise<void> {
  if (busy) return;
  busy = true;
  const out = $('gen-out'), stats = $('gen-stats');
  const runBtn = $<HTMLButtonElement>('gen-run'), stopBtn = $<HTMLButtonElement>('gen-stop');
  runBtn.disabled = true;
  stopBtn.disabled = false;
  const prompt = $<HTMLTextAreaElement>('gen-prompt').value;
  const generated = h('span', { class: 'generated' });
  out.replaceChildren(h('span', { class: 'prompt' }, prompt), generated, h('span', { class: 'cursor' }));
  out.dataset.state = 'running';
  stats.textContent = '';
  const t0 = performance.now();
  try {
    const r = await call<{ text: string; bytes: number; ms: number; stopped: boolean; globalCalls: number }>({
      kind: 'generate', prompt, maxNewBytes: Number($<HTMLInputElement>('gen-len').value),
      temperature: Number($<HTMLInputElement>('temperature').value), topK: Number($<HTMLInputElement>('topk').value),
      topP: Number($<HTMLInputElement>('topp').value), seed: Number($<HTMLInputElement>('gen-seed').value) || 0,
    }, (ev) => {
      if (ev.type !== 'token') return;
      generated.append(ev.text);
      stats.textContent = `${ev.bytes} bytes · ${fmt(ev.bytes / ((performance.now() - t0) / 1000), 0)} bytes/s`;
    });
    clearError();
    stats.replaceChildren(
      h('span', {}, h('b', {}, String(r.bytes)), ' bytes'),
      h('span', {}, h('b', {}, fmt(r.bytes / (r.ms / 1000), 0)), ' bytes/s'),
      h('span', {}, 'global transformer ran ', h('b', {}, String(r.globalCalls)), ' times'),
      h('span', {}, r.stopped ? 'stopped' : 'done'),
    );
  } catch (e) {
    showError((e as Error).message);
  } finally {
    out.dataset.state = 'done';
    out.querySelector('.cursor')?.remove();
    runBtn.disabled = false;
    stopBtn.disabled = true;
    busy = false;
  }
}

export function initGenerate(): void {
  const bind = (input: string, output: string, show: (v: number) => string): void => {
    const i = $<HTMLInputElement>(input), o = $(output);
    const upd = (): void => { o.textContent = show(Number(i.value)); };
    i.addEventListener('input', upd);
    upd();
  };
  bind('temperature', 'temp-value', (v) => (v === 0 ? 'greedy' : fmt(v)));
  bind('topk', 'topk-value', (v) => (v === 0 ? 'off' : String(v)));
  bind('topp', 'topp-value', (v) => (v >= 1 ? 'off' : fmt(v)));
  bind('gen-len', 'len-value', (v) => String(v));
  $('gen-run').addEventListener('click', () => void run());
  $('gen-stop').addEventListener('click', () => void call({ kind: 'stop' }));
}
