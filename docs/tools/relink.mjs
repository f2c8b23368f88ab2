#!/usr/bin/env node
// relink.mjs — keep the line anchors of the docs in step with the code (no dependencies, plain Node).
//
//   node docs/tools/relink.mjs           rewrite docs/*.md and README.md in place
//   node docs/tools/relink.mjs --check   only report what would change (exit code 1 if anything would)
//
// A link into the code carries an *anchor* in its title:  [text](../src/blt/patching/entropy.ts#L12-L40 "[doc:entropy]")
// The anchor is a literal string that must sit on the FIRST line of the linked range and exactly once in the
// file. In src/ the anchors are one-line marker comments (`// [doc:entropy]`); in spec/ they are a piece of a
// test's name. The range always covers the whole marked declaration: from the anchor's line to the end of the
// declaration that follows (block-end.mjs). When code moves or grows, this tool finds each anchor again and
// recomputes the range; to link a part of a long function, put a marker on that part.
//
// Writing a new link: put `(path#doc:NAME)` in the doc and run this tool; it becomes `(path#Lx-Ly "[doc:NAME]")`.
// For a test, write `(../spec/x.spec.ts#L0 "piece of the test name")`: the range becomes the whole `it(...)` block.
// spec/docs/links.spec.ts checks the same rules, so a stale anchor fails the tests.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockEnd } from './block-end.mjs';

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

const LINK = /\]\(([^)\s#]+)#(doc:[\w-]+|L\d+(?:-L\d+)?)(?:\s+"([^"]*)")?\)/g;
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
    let anchor;
    if (frag.startsWith('doc:')) {
      anchor = `[doc:${frag.slice(4)}]`;
    } else {
      if (title === undefined) return whole; // no anchor: nothing to follow (the spec reports it)
      anchor = title; // (#L0 "anchor" is the placeholder for a new link)
    }
    const hits = anchorLines(lines, anchor);
    if (hits.length !== 1) {
      console.error(`${doc}: anchor ${JSON.stringify(anchor)} found ${hits.length} times in ${target}`); problems++; return whole;
    }
    const start = hits[0];
    const end = blockEnd(lines, start);
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
