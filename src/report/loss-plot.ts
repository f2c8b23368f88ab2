/**
 * Training curves as a standalone SVG: bits per byte (loss / ln 2, eq. 18) per step for each named series
 * (entropy model, BLT, byte-level baseline), with a light moving average so trends are readable.
 */
import { escapeXml } from './entropy-plot.js';

export interface Series {
  name: string;
  values: number[];
  color: string;
}

function smooth(v: number[], w: number): number[] {
  return v.map((_, i) => {
    const a = Math.max(0, i - w + 1);
    let s = 0;
    for (let j = a; j <= i; j++) s += v[j];
    return s / (i - a + 1);
  });
}

export function lossPlotSvg(series: Series[], opts: { title?: string; yLabel?: string } = {}): string {
  const width = 640, height = 320, left = 52, right = 140, top = 30, bottom = 40;
  const plotW = width - left - right, plotH = height - top - bottom;
  const nMax = Math.max(1, ...series.map((s) => s.values.length));
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const yMin = Math.floor(Math.min(...all, 8) * 2) / 2, yMax = Math.ceil(Math.max(...all, 0) * 2) / 2;
  const x = (i: number): number => left + (nMax <= 1 ? 0 : (i / (nMax - 1)) * plotW);
  const y = (v: number): number => top + plotH - ((v - yMin) / Math.max(yMax - yMin, 1e-9)) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  if (opts.title) out.push(`<text x="${left}" y="18" font-size="14" font-weight="bold">${escapeXml(opts.title)}</text>`);
  for (let v = yMin; v <= yMax + 1e-9; v += (yMax - yMin) > 4 ? 1 : 0.5) {
    out.push(`<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${left + plotW}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${height - 8}" font-size="11" text-anchor="middle">training step</text>`);
  out.push(`<text x="14" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${escapeXml(opts.yLabel ?? 'bits per byte')}</text>`);
  out.push(`<text x="${left + plotW}" y="${top + plotH + 14}" font-size="10" text-anchor="end">${nMax}</text>`);
  out.push(`<text x="${left}" y="${top + plotH + 14}" font-size="10">1</text>`);
  series.forEach((s, k) => {
    if (s.values.length === 0) return;
    const raw = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const sm = smooth(s.values, 10).map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${raw}" fill="none" stroke="${s.color}" stroke-opacity="0.25" stroke-width="1"/>`);
    out.push(`<polyline points="${sm}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    const ly = top + 14 + k * 18;
    out.push(`<line x1="${left + plotW + 12}" y1="${ly - 4}" x2="${left + plotW + 32}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<text x="${left + plotW + 36}" y="${ly}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
