/**
 * Showing a patching as text: each patch in its own alternating colour, in a terminal (ANSI background
 * colours) or in HTML (<span> elements). Patches are cut at byte positions; a patch boundary inside a
 * multi-byte UTF-8 character is shown at the next character start (the character belongs to the patch in
 * which it starts).
 */
import { escapeXml } from './entropy-plot.js';

/** The text pieces of each patch: bytes [S_j, S_j + L_j), cut at character starts. */
export function patchPieces(bytes: Uint8Array, lengths: ArrayLike<number>): string[] {
  const dec = new TextDecoder('utf-8', { fatal: false });
  const cuts: number[] = [];
  let s = 0;
  for (let j = 0; j < lengths.length; j++) { cuts.push(s); s += lengths[j]; }
  const pieces: string[] = [];
  const fix = (i: number): number => { while (i < bytes.length && (bytes[i] & 0xc0) === 0x80) i++; return Math.min(i, bytes.length); };
  for (let j = 0; j < cuts.length; j++) {
    const a = fix(cuts[j]), b = j + 1 < cuts.length ? fix(cuts[j + 1]) : bytes.length;
    pieces.push(a < b ? dec.decode(bytes.subarray(a, b)) : '');
  }
  return pieces;
}

const ANSI_BG = ['\x1b[48;5;153m\x1b[30m', '\x1b[48;5;223m\x1b[30m', '\x1b[48;5;194m\x1b[30m', '\x1b[48;5;225m\x1b[30m'];
const HTML_BG = ['#cfe3ff', '#ffe2bf', '#d5f5d0', '#fbd7f2'];

export function ansiPatches(pieces: string[], color = true): string {
  if (!color) return pieces.filter((p) => p.length > 0).map((p) => p.replace(/\n/g, '↵')).join('|');
  return pieces.map((p, j) => `${ANSI_BG[j % ANSI_BG.length]}${p.replace(/\n/g, '↵')}\x1b[0m`).join('');
}

export function htmlPatches(pieces: string[]): string {
  return pieces.filter((p) => p.length > 0).map((p, j) =>
    `<span style="background:${HTML_BG[j % HTML_BG.length]};padding:1px 0;border-right:1px solid #888">${escapeXml(p).replace(/\n/g, '↵')}</span>`).join('');
}
