// Benchmarks: matmul and attention through the CPU (WebAssembly) and WebGPU backends of this browser; a table,
// a chart of GFLOP/s by size, and the results as JSON.
import { call } from '../client';
import { $, clearError, fmt, h, showError } from '../dom';
import type { BenchResult, BenchRow, InitInfo } from '../protocol';

let last: BenchResult | null = null;
let info: InitInfo | null = null;

const COLORS: Record<string, string> = { cpu: '#2f6fb5', webgpu: '#d9480f' };

/** One line chart (SVG) of GFLOP/s against size, log2 x axis, a line per device. */
function chart(rows: BenchRow[], title: string, xLabel: string): string {
  const W = 460, H = 270, L = 52, R = 16, T = 46, B = 42;
  const xs = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const yMax = Math.max(1e-9, ...rows.map((r) => r.gflops)) * 1.1;
  const x = (n: number): number => L + (xs.length === 1 ? 0.5 : (Math.log2(n) - Math.log2(xs[0])) / (Math.log2(xs[xs.length - 1]) - Math.log2(xs[0]))) * (W - L - R);
  const y = (g: number): number => T + (1 - g / yMax) * (H - T - B);
  const parts = [`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}" xmlns="http://www.w3.org/2000/svg" font-family="inherit">`,
    `<text x="${L}" y="18" font-size="13" font-weight="600" fill="currentColor">${title}</text>`];
  for (let i = 0; i <= 4; i++) {
    const g = (yMax * i) / 4;
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(g)}" y2="${y(g)}" stroke="#e3e6ea"/>`,
      `<text x="${L - 6}" y="${y(g) + 4}" font-size="10" text-anchor="end" fill="#56606b">${g < 10 ? g.toFixed(1) : g.toFixed(0)}</text>`);
  }
  for (const n of xs) parts.push(`<text x="${x(n)}" y="${H - B + 16}" font-size="10" text-anchor="middle" fill="#56606b">${n}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="11" text-anchor="middle" fill="#56606b">${xLabel}</text>`,
    `<text x="12" y="${(T + H - B) / 2}" font-size="11" text-anchor="middle" fill="#56606b" transform="rotate(-90 12 ${(T + H - B) / 2})">GFLOP/s</text>`);
  let legend = 0;
  for (const device of ['cpu', 'webgpu'] as const) {
    const pts = rows.filter((r) => r.device === device).sort((a, b) => a.n - b.n);
    if (pts.length === 0) continue;
    parts.push(`<polyline fill="none" stroke="${COLORS[device]}" stroke-width="2" points="${pts.map((p) => `${x(p.n)},${y(p.gflops)}`).join(' ')}"/>`);
    for (const p of pts) parts.push(`<circle cx="${x(p.n)}" cy="${y(p.gflops)}" r="3.5" fill="${COLORS[device]}"><title>${device} ${p.size}: ${p.gflops.toFixed(2)} GFLOP/s</title></circle>`);
    parts.push(`<rect x="${L + legend * 96}" y="26" width="10" height="10" fill="${COLORS[device]}"/>`,
      `<text x="${L + 14 + legend * 96}" y="35" font-size="11" fill="currentColor">${device === 'cpu' ? 'CPU (wasm)' : 'WebGPU'}</text>`);
    legend++;
  }
  parts.push('</svg>');
  return parts.join('');
}

function render(r: BenchResult): void {
  const table = $<HTMLTableElement>('bench-table');
  const head = h('tr', {}, ...['operation', 'size', 'device', 'median time', 'GFLOP/s'].map((t) => h('th', {}, t)));
  const body = r.rows.map((row) => h('tr', { 'data-device': row.device, 'data-op': row.op },
    h('td', {}, row.op), h('td', {}, row.size), h('td', {}, row.device === 'cpu' ? `CPU, ${r.cpuThreads} thread${r.cpuThreads === 1 ? '' : 's'}` : 'WebGPU'),
    h('td', { class: 'num' }, `${fmt(row.medianMs, 2)} ms`), h('td', { class: 'num' }, fmt(row.gflops, 2))));
  table.replaceChildren(h('thead', {}, head), h('tbody', {}, ...body));
  const c = $('bench-chart');
  c.innerHTML = `<div>${chart(r.rows.filter((x) => x.op === 'matmul'), 'matmul n × n × n', 'n')}</div>` +
    `<div>${chart(r.rows.filter((x) => x.op === 'attention'), 'causal attention, 4 heads, d = 64', 'sequence length T')}</div>`;
}

export function setBenchInfo(i: InitInfo): void {
  info = i;
  const box = $('bench-adapter');
  const cpu = `CPU backend: WebAssembly SIMD, ${i.cpuThreads} thread${i.cpuThreads === 1 ? '' : 's'}` +
    (i.crossOriginIsolated ? '' : ' (this page is not cross-origin isolated, so the CPU backend cannot share memory with workers)');
  if (!i.webgpu.ok) {
    box.replaceChildren(h('p', {}, cpu), h('p', { class: 'warn' }, `WebGPU is not available here: ${i.webgpu.reason}. Only the CPU is measured.`));
    return;
  }
  const limits = h('dl', { class: 'limits' }, ...Object.entries(i.webgpu.limits).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v.toLocaleString('en'))]));
  box.replaceChildren(
    h('p', {}, h('b', {}, 'WebGPU adapter: '), h('span', { id: 'adapter-name' }, i.webgpu.adapter),
      i.webgpu.cpuDriver ? ' — a software driver that runs on the CPU, so its numbers say nothing about a GPU' : ''),
    h('details', {}, h('summary', {}, 'Adapter limits'), limits),
    h('p', {}, cpu),
  );
}

async function run(): Promise<void> {
  const btn = $<HTMLButtonElement>('bench-run'), dl = $<HTMLButtonElement>('bench-download');
  const bar = $<HTMLProgressElement>('bench-progress');
  btn.disabled = true;
  bar.hidden = false;
  bar.value = 0;
  try {
    last = await call<BenchResult>({ kind: 'bench', sizes: $<HTMLSelectElement>('bench-size').value as 'quick' | 'full' }, (ev) => {
      if (ev.type !== 'progress') return;
      bar.max = ev.total;
      bar.value = ev.done;
      bar.textContent = ev.label ?? '';
      btn.textContent = ev.label ? `Running: ${ev.label}…` : 'Running…';
    });
    clearError();
    render(last);
    dl.disabled = false;
  } catch (e) {
    showError(`The benchmark stopped: ${(e as Error).message}`);
  } finally {
    btn.disabled = false;
    btn.textContent = 'Run benchmarks';
    bar.hidden = true;
  }
}

export function initBench(): void {
  $('bench-run').addEventListener('click', () => void run());
  $('bench-download').addEventListener('click', () => {
    if (!last) return;
    const blob = new Blob([JSON.stringify({ ...last, webgpu: info?.webgpu ?? null }, null, 2)], { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `blt-bench-${last.date.slice(0, 10)}.json` }) as HTMLAnchorElement;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
}
