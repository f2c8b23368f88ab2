/**
 * Per-byte entropy plot as a standalone SVG, like Figure 4 of the BLT paper: the entropy H(x_i) of the
 * entropy model's prediction of every byte (eq. 1, nats), the global threshold θ as a dashed line, and a
 * vertical line at every patch start (a byte starts a patch iff H(x_i) > θ, paper §2.3). Bytes are labelled
 * along the x-axis with their character (continuation bytes of a multi-byte UTF-8 character get a dot).
 */
export interface EntropyPlotInput {
  /** bytes of the text, without BOS */
  bytes: Uint8Array;
  /** H(x_i) for every byte i (the entropy of the prediction made at the previous position), nats */
  entropies: ArrayLike<number>;
  /** patch start flags per byte */
  starts: ArrayLike<boolean>;
  threshold: number;
  title?: string;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Display label of every byte: its character at a character start, '·' for continuation bytes. */
export function byteLabels(bytes: Uint8Array): string[] {
  const labels: string[] = [];
  const dec = new TextDecoder('utf-8', { fatal: false });
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if ((b & 0xc0) === 0x80) { labels.push('·'); continue; }
    const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    const ch = dec.decode(bytes.subarray(i, i + len));
    labels.push(b === 0x20 ? '␣' : b === 0x0a ? '↵' : b < 0x20 ? '?' : ch);
  }
  return labels;
}

export function entropyPlotSvg(p: EntropyPlotInput): string {
  const n = p.bytes.length;
  if (p.entropies.length !== n || p.starts.length !== n) {
    throw new Error(`entropyPlotSvg: ${n} bytes but ${p.entropies.length} entropies and ${p.starts.length} start flags`);
  }
  const step = 14, left = 44, right = 16, top = p.title ? 34 : 14, plotH = 180, bottom = 34;
  const width = left + right + Math.max(1, n) * step, height = top + plotH + bottom;
  let yMax = Math.max(p.threshold * 1.15, 1);
  for (let i = 0; i < n; i++) yMax = Math.max(yMax, p.entropies[i] * 1.05);
  const x = (i: number): number => left + (i + 0.5) * step;
  const y = (h: number): number => top + plotH - (h / yMax) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  if (p.title) out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${escapeXml(p.title)}</text>`);
  // axes and y ticks (nats)
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${width - right}" y2="${top + plotH}" stroke="#333"/>`);
  const tick = yMax > 4 ? 1 : 0.5;
  for (let v = 0; v <= yMax; v += tick) {
    out.push(`<line x1="${left - 4}" y1="${y(v).toFixed(1)}" x2="${width - right}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  out.push(`<text x="12" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 12 ${top + plotH / 2})" text-anchor="middle">entropy (nats)</text>`);
  // patch boundaries
  for (let i = 0; i < n; i++) {
    if (p.starts[i]) out.push(`<line x1="${(x(i) - step / 2).toFixed(1)}" y1="${top}" x2="${(x(i) - step / 2).toFixed(1)}" y2="${top + plotH}" stroke="#9aa5b1" stroke-width="1"/>`);
  }
  // threshold
  out.push(`<line x1="${left}" y1="${y(p.threshold).toFixed(1)}" x2="${width - right}" y2="${y(p.threshold).toFixed(1)}" stroke="#d62728" stroke-dasharray="6 4" stroke-width="1.5"/>`);
  out.push(`<text x="${width - right - 4}" y="${(y(p.threshold) - 5).toFixed(1)}" font-size="11" fill="#d62728" text-anchor="end">θ = ${p.threshold.toFixed(3)}</text>`);
  // entropy curve and points (patch starts in red)
  const pts = Array.from({ length: n }, (_, i) => `${x(i).toFixed(1)},${y(p.entropies[i]).toFixed(1)}`).join(' ');
  out.push(`<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  for (let i = 0; i < n; i++) {
    out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(p.entropies[i]).toFixed(1)}" r="2.6" fill="${p.starts[i] ? '#d62728' : '#1f77b4'}"/>`);
  }
  // byte labels
  const labels = byteLabels(p.bytes);
  for (let i = 0; i < n; i++) {
    out.push(`<text x="${x(i).toFixed(1)}" y="${top + plotH + 16}" font-size="11" text-anchor="middle" fill="${p.starts[i] ? '#d62728' : '#333'}">${escapeXml(labels[i])}</text>`);
  }
  out.push(`<text x="${left}" y="${height - 4}" font-size="10" fill="#555">red: byte starts a patch (H &gt; θ); grey lines: patch boundaries</text>`);
  out.push('</svg>');
  return out.join('\n');
}
