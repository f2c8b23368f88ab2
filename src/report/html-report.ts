/**
 * The demo's HTML report: one self-contained file (inline SVG, no scripts, no external assets) with the
 * held-out bits-per-byte of the BLT and the byte-level baseline (eq. 18), the chosen entropy threshold and the
 * achieved bytes per patch, per-byte entropy plots with the threshold and patch boundaries (paper Fig. 4),
 * coloured patchings of sample sentences, and the training curves.
 */
import { entropyPlotSvg, escapeXml } from './entropy-plot.js';
import { lossPlotSvg, type Series } from './loss-plot.js';
import { htmlPatches, patchPieces } from './patches-text.js';

export interface ReportSample {
  label: string;
  bytes: Uint8Array;
  entropies: ArrayLike<number>;
  starts: boolean[];
  byteLengths: number[];
}

export interface ReportInput {
  title: string;
  /** key facts, shown as a table (label -> value) */
  summary: [string, string][];
  threshold: number;
  samples: ReportSample[];
  curves: Series[];
  notes?: string[];
  generated?: { prompt: string; text: string }[];
}

export function renderReport(r: ReportInput): string {
  const rows = r.summary.map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td>${escapeXml(v)}</td></tr>`).join('\n');
  const samples = r.samples.map((s) => {
    const n = s.bytes.length;
    const patches = s.byteLengths.filter((L) => L > 0).length;
    return `<section class="sample">
<h3>${escapeXml(s.label)} <small>${n} bytes → ${patches} patches (${(n / Math.max(patches, 1)).toFixed(2)} bytes/patch)</small></h3>
<p class="patches">${htmlPatches(patchPieces(s.bytes, s.byteLengths))}</p>
<div class="plot">${entropyPlotSvg({ bytes: s.bytes, entropies: s.entropies, starts: s.starts, threshold: r.threshold })}</div>
</section>`;
  }).join('\n');
  const gen = (r.generated ?? []).map((g) => `<p><b>${escapeXml(g.prompt)}</b>${escapeXml(g.text)}</p>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(r.title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 24px auto; padding: 0 16px; color: #222; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: left; font-size: 14px; }
th { background: #f4f4f4; font-weight: 600; }
.plot { overflow-x: auto; border: 1px solid #eee; margin: 6px 0 18px; }
.patches { font-family: ui-monospace, monospace; font-size: 15px; line-height: 1.9; }
small { color: #666; font-weight: normal; }
.note { color: #555; font-size: 13px; }
</style></head><body>
<h1>${escapeXml(r.title)}</h1>
<table>${rows}</table>
${(r.notes ?? []).map((n) => `<p class="note">${escapeXml(n)}</p>`).join('\n')}
<h2>Training curves</h2>
<div class="plot">${lossPlotSvg(r.curves, { title: 'training loss (bits per byte of each batch)' })}</div>
<h2>Entropy patching of sample text</h2>
<p class="note">Each coloured span is one patch. Below it: the entropy model's next-byte entropy H(x<sub>i</sub>) in nats; a byte starts a new patch when its entropy exceeds the threshold θ (dashed red line).</p>
${samples}
${gen ? `<h2>Generated text (greedy)</h2>\n${gen}` : ''}
</body></html>
`;
}
