#!/usr/bin/env node
// relink.mjs — keep the line anchors of the docs in step with the code (no dependencies, plain Node).
//
//   node docs/tools/relink.mjs           rewrite docs/*.md and README.md in place
//   node docs/tools/relink.mjs --check   only report what would change (exit code 1 if anything would)
//
// A link into the code carries an *anchor* in its title:  [text](../src/blt/patching/entropy.ts#L12-L40 "[doc:entropy]")
// The anchor is a literal string that must sit on the FIRST line of the linked range and exactly once in the
// file. In src/ the anchors are one-line marker comments (`// [doc:entropy]`); in spec/ they are a piece of a
// test's name. When code moves, this tool finds each anchor again and shifts the range, keeping its length.
//
// Writing a new link: put `(path#doc:NAME)` in the doc and run this tool; it becomes
// `(path#Lx-Ly "[doc:NAME]")` with x = the marker's line and y = the end of the declaration that follows the
// marker (matching braces). `(path#doc:NAME:N)` takes exactly N lines instead. For a test, write
// `(../spec/x.spec.ts#L0 "piece of the test name")`: the range becomes the whole `it(...)` block.
// spec/docs/links.spec.ts checks the same rules, so a stale anchor fails the tests.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const check = process.argv.includes('--check');

const docs = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const fileCache = new Map();
function linesOf(abs) {
  if (!fileCache.has(abs)) fileCache.set(abs, fs.readFileSync(abs, 'utf8').split('\n'));
  return fileCache.get(abs);
}

/** 1-based line numbers of the lines containing `anchor`. */
function anchorLines(lines, anchor) {
  const hits = [];
  lines.forEach((l, i) => { if (l.includes(anchor)) hits.push(i + 1); });
  return hits;
}

/** Last line (1-based) of the declaration that starts after the marker on line `m`. */
function blockEnd(lines, m) {
  let depth = 0, opened = false;
  for (let i = m - 1; i < lines.length; i++) { // line i + 1 (the anchor line itself first)
    const raw = lines[i];
    if (!opened && /^\s*(\/\/|\/\*|\*)/.test(raw)) continue; // comments before the code
    const code = raw.replace(/\/\/.*$/, '').replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, '""');
    for (const ch of code) {
      if (ch === '{') { depth++; opened = true; } else if (ch === '}') depth--;
    }
    if (opened && depth <= 0) return i + 1;
    if (!opened && /;\s*$/.test(code)) return i + 1;
  }
  return lines.length;
}

const LINK = /\]\(([^)\s#]+)#(doc:[\w-]+(?::\d+)?|L\d+(?:-L\d+)?)(?:\s+"([^"]*)")?\)/g;
let changes = 0, problems = 0;
for (const doc of docs) {
  const docAbs = path.join(root, doc);
  if (!fs.existsSync(docAbs)) continue;
  const text = fs.readFileSync(docAbs, 'utf8');
  const out = text.replace(LINK, (whole, target, frag, title) => {
    const abs = path.resolve(path.dirname(docAbs), target);
    if (!fs.existsSync(abs) || fs.statSync(abs).isDirectory()) {
      console.error(`${doc}: ${target} does not exist`); problems++; return whole;
    }
    const lines = linesOf(abs);
    let anchor, length = null;
    if (frag.startsWith('doc:')) {
      const [, name, n] = /^doc:([\w-]+)(?::(\d+))?$/.exec(frag);
      anchor = `[doc:${name}]`;
      if (n !== undefined) length = Number(n);
    } else {
      if (title === undefined) return whole; // no anchor: nothing to follow (the spec reports it)
      anchor = title;
      const [, a, b] = /^L(\d+)(?:-L(\d+))?$/.exec(frag);
      // #L0 "anchor" is a placeholder: the range runs from the anchor to the end of its block
      length = Number(a) === 0 ? null : (b === undefined ? Number(a) : Number(b)) - Number(a) + 1;
    }
    const hits = anchorLines(lines, anchor);
    if (hits.length !== 1) {
      console.error(`${doc}: anchor ${JSON.stringify(anchor)} found ${hits.length} times in ${target}`); problems++; return whole;
    }
    const start = hits[0];
    const end = length === null ? blockEnd(lines, start) : start + length - 1;
    const next = `](${target}#L${start}-L${end} "${anchor}")`;
    if (next !== whole) {
      changes++;
      console.log(`${doc}: ${target}#${frag} -> #L${start}-L${end}`);
    }
    return next;
  });
  if (!check && out !== text) fs.writeFileSync(docAbs, out);
}
console.log(`${changes} link(s) ${check ? 'to update' : 'updated'}, ${problems} problem(s)`);
process.exitCode = problems > 0 || (check && changes > 0) ? 1 : 0;
