// Property checks: the shared fast-check properties (spec/properties/checks.ts) run in the worker on WebGPU,
// each shown passing or failing as it finishes.
import { call } from '../client';
import { $, fmt, h, showError } from '../dom';
import type { PropertyOutcome } from '../protocol';

let checks: { name: string; group: string }[] = [];

function item(name: string, group: string): HTMLElement {
  return h('li', { class: 'prop', 'data-state': 'waiting' },
    h('span', { class: 'badge' }, 'waiting'),
    h('div', {}, h('div', { class: 'prop-name' }, name), h('div', { class: 'muted' }, group)));
}

async function run(): Promise<void> {
  const list = $('props-list'), btn = $<HTMLButtonElement>('props-run'), summary = $('props-summary');
  const bar = $<HTMLProgressElement>('props-progress');
  btn.disabled = true;
  bar.hidden = false;
  bar.max = checks.length;
  bar.value = 0;
  const items = checks.map((c) => item(c.name, c.group));
  list.replaceChildren(...items);
  items[0]?.setAttribute('data-state', 'running');
  items[0]?.querySelector('.badge')?.replaceChildren('running');
  summary.textContent = '';
  let i = 0;
  try {
    const r = await call<{ passed: number; failed: number; skipped: number }>({ kind: 'properties' }, (ev) => {
      if (ev.type === 'progress') { bar.value = ev.done; return; }
      if (ev.type !== 'property') return;
      const o: PropertyOutcome = ev.outcome;
      const el = items[i++];
      el.dataset.state = o.state;
      el.querySelector('.badge')!.replaceChildren(o.state === 'skipped' ? 'not run' : o.state);
      if (o.state === 'skipped') el.querySelector('.muted')!.append(` · ${o.detail}`);
      else el.querySelector('.muted')!.append(` · ${o.ms < 1000 ? `${Math.max(1, Math.round(o.ms))} ms` : `${fmt(o.ms / 1000, 1)} s`}`);
      if (o.state === 'fail') el.append(h('pre', { class: 'detail' }, o.detail));
      const next = items[i];
      if (next) { next.dataset.state = 'running'; next.querySelector('.badge')!.replaceChildren('running'); }
    });
    summary.textContent = `${r.passed} passed, ${r.failed} failed` + (r.skipped > 0 ? `, ${r.skipped} not run (no WebGPU)` : '');
    summary.dataset.state = r.failed === 0 ? 'pass' : 'fail';
  } catch (e) {
    showError(`The property checks stopped: ${(e as Error).message}`);
  } finally {
    btn.disabled = false;
    bar.hidden = true;
  }
}

/** The checks the worker will run (their names come from spec/properties/checks.ts, through the worker). */
export function setChecks(list: { name: string; group: string }[]): void {
  checks = list;
  $('props-list').replaceChildren(...checks.map((c) => item(c.name, c.group)));
}

export function initProperties(): void {
  $('props-run').addEventListener('click', () => void run());
}
