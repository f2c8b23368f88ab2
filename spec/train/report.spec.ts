// Report pieces: the entropy SVG (threshold line, one boundary per patch start, escaped labels), the loss
// curves, coloured patches, and the HTML page that holds them.
import { describe, expect, it } from 'vitest';
import { byteLabels, entropyPlotSvg } from '../../src/report/entropy-plot.js';
import { lossPlotSvg } from '../../src/report/loss-plot.js';
import { ansiPatches, htmlPatches, patchPieces } from '../../src/report/patches-text.js';
import { renderReport } from '../../src/report/html-report.js';

const bytes = new TextEncoder().encode('a<b é');
const entropies = [2.0, 0.5, 3.1, 0.2, 1.0, 0.1];
const starts = [true, false, true, false, true, false];

describe('entropyPlotSvg', () => {
  const svg = entropyPlotSvg({ bytes, entropies, starts, threshold: 1.5, title: 'x & y' });
  it('draws the threshold, one boundary per patch start and one point per byte', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('θ = 1.500');
    expect(svg.match(/stroke-dasharray/g)!.length).toBe(1);
    expect(svg.match(/stroke="#9aa5b1"/g)!.length).toBe(3);
    expect(svg.match(/<circle/g)!.length).toBe(6);
    expect(svg.match(/fill="#d62728"\/>/g)!.length).toBe(3); // start points in red
  });
  it('escapes labels and titles', () => {
    expect(svg).toContain('x &amp; y');
    expect(svg).toContain('&lt;');
    expect(svg).not.toMatch(/>[^<]*<b/);
  });
  it('labels continuation bytes with a dot and spaces visibly', () => {
    expect(byteLabels(bytes)).toEqual(['a', '<', 'b', '␣', 'é', '·']);
  });
  it('rejects mismatched lengths', () => {
    expect(() => entropyPlotSvg({ bytes, entropies: [1], starts, threshold: 1 })).toThrow(/6 bytes but 1 entropies/);
  });
});

describe('patches', () => {
  it('cuts pieces at patch starts, moving cuts inside a UTF-8 character to its end', () => {
    const b = new TextEncoder().encode('aé b');         // a, é (2 bytes), space, b
    expect(patchPieces(b, [2, 3])).toEqual(['aé', ' b']); // the cut after byte 2 falls inside é
    expect(patchPieces(b, [1, 2, 2])).toEqual(['a', 'é', ' b']);
    expect(ansiPatches(['ab', 'c'], false)).toBe('ab|c');
    expect(ansiPatches(['ab', 'c'], true)).toContain('\x1b[0m');
    expect(htmlPatches(['<', 'x'])).toContain('&lt;');
  });
});

describe('report', () => {
  it('renders a self-contained page with the plots', () => {
    const html = renderReport({
      title: 'T', summary: [['held-out bits/byte, BLT', '3.1']], threshold: 1.5,
      samples: [{ label: 's', bytes, entropies, starts, byteLengths: [2, 2, 2] }],
      curves: [{ name: 'BLT', values: [8, 6, 5], color: '#00f' }],
    });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html.match(/<svg/g)!.length).toBe(2);
    expect(html).toContain('held-out bits/byte, BLT');
    expect(html).not.toMatch(/<script|src="http|href="http|url\(/);
    expect(lossPlotSvg([{ name: 'a', values: [], color: '#000' }])).toContain('</svg>');
  });
});
