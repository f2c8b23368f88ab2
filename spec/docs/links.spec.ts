// Links of the learner's docs (docs/*.md and README.md) must point at things that exist.
//
// For every relative Markdown link [text](target "title"):
//   - the target file or folder exists and lies inside the repository;
//   - a line anchor #Lx or #Lx-Ly has 1 ≤ x ≤ y ≤ the file's line count;
//   - a link to lines of src/ covers at least one line of code (not only blanks and comments);
//   - a line anchor into src/ or spec/ carries an anchor in its title, and that anchor is a literal string found
//     exactly once in the file, on the first line of the range. In src/ anchors are marker comments
//     (`// [doc:entropy]`), in spec/ a piece of a test's name;
//   - the range covers the whole marked declaration: it ends where the declaration after the anchor ends
//     (docs/tools/block-end.mjs: its braces close, or its one statement ends, or an explicit `// [/doc:NAME]`),
//     no earlier (a function cut short) and no later (the start of the next one).
//     So when code moves or grows the test fails instead of the link silently pointing at the wrong lines;
//     `node docs/tools/relink.mjs` recomputes the ranges;
//   - a #heading anchor into a Markdown file names a heading of that file (GitHub's slug rules).
// Also: every `[doc:NAME]` marker in src/ is used by at least one link (no orphans), and no `#doc:NAME`
// shorthand is left unexpanded.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { blockEnd } from '../../docs/tools/block-end.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface DocLink {
  doc: string; // repository-relative path of the Markdown file
  line: number; // 1-based line in the doc
  target: string; // path part
  fragment: string | null;
  title: string | null;
}

function docFiles(): string[] {
  const docsDir = path.join(root, 'docs');
  const inDocs = fs.existsSync(docsDir)
    ? fs.readdirSync(docsDir).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)
    : [];
  return ['README.md', ...inDocs];
}

/** Markdown text with fenced code blocks, $$ math blocks and inline code spans blanked out (lines kept). */
function proseLines(text: string): string[] {
  let inFence = false, inMath = false;
  return text.split('\n').map((l) => {
    if (/^\s*(```|~~~)/.test(l)) { inFence = !inFence; return ''; }
    if (inFence) return '';
    const dollars = (l.match(/\$\$/g) ?? []).length;
    if (inMath || dollars > 0) {
      if (dollars % 2 === 1) inMath = !inMath;
      return '';
    }
    return l.replace(/`[^`]*`/g, '``');
  });
}

// [text](target "title"); the text may hold one level of brackets, e.g. [range $[0, \ln 260]$](...)
const LINK = /\[(?:[^[\]]|\[[^[\]]*\])*\]\(([^)\s]+)(?:\s+"([^"]*)")?\)/g;

function linksOf(doc: string, text = fs.readFileSync(path.join(root, doc), 'utf8')): DocLink[] {
  const out: DocLink[] = [];
  proseLines(text).forEach((l, i) => {
    for (const m of l.matchAll(LINK)) {
      const raw = m[1];
      if (/^[a-z][a-z0-9+.-]*:/i.test(raw)) continue; // http:, https:, mailto:
      const hash = raw.indexOf('#');
      out.push({
        doc,
        line: i + 1,
        target: hash < 0 ? raw : raw.slice(0, hash),
        fragment: hash < 0 ? null : raw.slice(hash + 1),
        title: m[2] ?? null,
      });
    }
  });
  return out;
}

/** GitHub heading ids of a Markdown file (lower case, punctuation dropped, spaces to '-', -1, -2 for repeats). */
function headingSlugs(text: string): Set<string> {
  const seen = new Map<string, number>();
  const slugs = new Set<string>();
  let inFence = false;
  for (const l of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(l)) inFence = !inFence;
    const m = inFence ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l);
    if (!m) continue;
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

const fileLines = new Map<string, string[]>();
function linesOf(abs: string): string[] {
  let l = fileLines.get(abs);
  if (!l) {
    l = fs.readFileSync(abs, 'utf8').split('\n');
    if (l.length > 1 && l[l.length - 1] === '') l.pop(); // a final newline ends the last line, it adds none
    fileLines.set(abs, l);
  }
  return l;
}

/** Problems of one link (empty when it is fine). */
function problemsOf(link: DocLink): string[] {
  const where = `${link.doc}:${link.line} -> ${link.target}${link.fragment === null ? '' : `#${link.fragment}`}`;
  const docDir = path.dirname(path.join(root, link.doc));
  const abs = link.target === '' ? path.join(root, link.doc) : path.resolve(docDir, decodeURI(link.target));
  const rel = path.relative(root, abs).split(path.sep).join('/');
  if (rel.startsWith('..') || path.isAbsolute(rel)) return [`${where}: points outside the repository`];
  if (!fs.existsSync(abs)) return [`${where}: ${rel} does not exist`];
  if (link.fragment === null || link.fragment === '') return [];
  const isDir = fs.statSync(abs).isDirectory();
  if (link.fragment.startsWith('doc:')) {
    return [`${where}: unexpanded '#${link.fragment}' shorthand (run node docs/tools/relink.mjs)`];
  }
  const range = /^L(\d+)(?:-L(\d+))?$/.exec(link.fragment);
  if (range) {
    if (isDir) return [`${where}: a line anchor on a folder`];
    const lines = linesOf(abs);
    const x = Number(range[1]);
    const y = range[2] === undefined ? x : Number(range[2]);
    if (x < 1 || y < x) return [`${where}: empty or reversed range L${x}-L${y}`];
    if (y > lines.length) return [`${where}: L${y} is beyond the end of ${rel} (${lines.length} lines)`];
    const out: string[] = [];
    const inCode = rel.startsWith('src/') || rel.startsWith('spec/');
    if (rel.startsWith('src/')) {
      const code = lines.slice(x - 1, y).filter((l) => l.trim() !== '' && !/^\s*(\/\/|\/\*|\*)/.test(l));
      if (code.length === 0) out.push(`${where}: lines ${x}-${y} of ${rel} hold no code (only blanks and comments)`);
    }
    if (inCode) {
      if (link.title === null) {
        out.push(`${where}: a line anchor into ${rel} needs an anchor title, e.g. "[doc:NAME]" with a // [doc:NAME] marker`);
      } else {
        const hits = lines.flatMap((l, i) => (l.includes(link.title!) ? [i + 1] : []));
        if (hits.length !== 1) {
          out.push(`${where}: anchor ${JSON.stringify(link.title)} occurs ${hits.length} times in ${rel} (needs exactly 1)`);
        } else if (hits[0] !== x) {
          out.push(`${where}: anchor ${JSON.stringify(link.title)} is now on line ${hits[0]} of ${rel}, the link starts at ${x}` +
            ` (run node docs/tools/relink.mjs)`);
        } else if (blockEnd(lines, x) !== y) {
          const end = blockEnd(lines, x);
          out.push(`${where}: the declaration marked by ${JSON.stringify(link.title)} runs to line ${end} of ${rel}, the link ` +
            `${y < end ? 'stops' : 'runs on'} at ${y} (run node docs/tools/relink.mjs)`);
        }
      }
    }
    return out;
  }
  if (!abs.endsWith('.md') || isDir) return [`${where}: unknown fragment '#${link.fragment}' (only #Lx, #Lx-Ly, or headings of .md files)`];
  const slugs = headingSlugs(fs.readFileSync(abs, 'utf8'));
  return slugs.has(link.fragment) ? [] : [`${where}: no heading with id '${link.fragment}' in ${rel}`];
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('doc links', () => {
  const docs = docFiles().filter((d) => fs.existsSync(path.join(root, d)));
  const links = docs.flatMap((d) => linksOf(d));

  it('the docs named in the README exist and link into the code', () => {
    for (const d of ['docs/walkthrough.md', 'docs/architecture.md', 'docs/differences.md', 'docs/benchmarks.md']) {
      expect(docs, `${d} is missing`).toContain(d);
    }
    const codeLinks = links.filter((l) => l.doc === 'docs/walkthrough.md' && /^L\d/.test(l.fragment ?? '') && l.target.includes('src/'));
    expect(codeLinks.length).toBeGreaterThan(20);
  });

  it('every relative link resolves: file exists, line ranges lie inside it and start at their anchor', () => {
    const problems = links.flatMap(problemsOf);
    expect(problems).toEqual([]);
  });

  it('every [doc:NAME] marker in src/ appears exactly once there and is used by a link', () => {
    const used = new Set(links.map((l) => l.title).filter((t): t is string => t !== null));
    const seen = new Map<string, string[]>();
    for (const f of walk(path.join(root, 'src'))) {
      const rel = path.relative(root, f).split(path.sep).join('/');
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/\[doc:[\w-]+\]/g)) seen.set(m[0], [...(seen.get(m[0]) ?? []), rel]);
    }
    const dup = [...seen].filter(([, files]) => files.length > 1).map(([name, files]) => `${name} in ${files.join(', ')}`);
    const orphans = [...seen.keys()].filter((name) => !used.has(name));
    expect(dup, 'markers used more than once').toEqual([]);
    expect(orphans, 'markers no doc links to').toEqual([]);
  });
});

describe('the link checker itself', () => {
  // The text of an imaginary doc in docs/ (nothing is written to disk).
  const check = (body: string): string[] => linksOf('docs/selftest.md', body).flatMap(problemsOf);

  it('reports a missing file, a range past the end, a reversed range, a missing anchor and a bad heading', () => {
    const n = linesOf(path.join(root, 'src/blt/patching/entropy.ts')).length;
    expect(check('[a](../src/blt/no-such-file.ts)')).toHaveLength(1);
    expect(check(`[a](../src/blt/patching/entropy.ts#L1-L${n + 1} "x")`).join()).toMatch(/beyond the end/);
    expect(check('[a](../src/blt/patching/entropy.ts#L9-L3 "x")').join()).toMatch(/reversed/);
    expect(check('[a](../src/blt/patching/entropy.ts#L30-L40)').join()).toMatch(/needs an anchor title/);
    expect(check('[a](../src/blt/patching/entropy.ts#L1-L2 "no such anchor text")').join()).toMatch(/occurs 0 times/);
    expect(check('[a](walkthrough.md#no-such-heading)').join()).toMatch(/no heading/);
    expect(check('[a](../../outside.md)').join()).toMatch(/outside the repository/);
  });

  it('accepts links in code spans and fences as non-links, and a good anchored range', () => {
    expect(check('`[a](nope.ts)`\n```\n[b](nope.ts)\n```\n$$[c](nope.ts)$$')).toEqual([]);
    const lines = linesOf(path.join(root, 'src/blt/patching/entropy.ts'));
    const i = lines.findIndex((l) => l.includes('export function entropyFromLogits')) + 1;
    expect(i).toBeGreaterThan(0);
    const end = lines.findIndex((l, j) => j >= i && l === '}') + 1; // the function's closing brace
    expect(check(`[a](../src/blt/patching/entropy.ts#L${i}-L${end} "export function entropyFromLogits")`)).toEqual([]);
    expect(check(`[a](../src/blt/patching/entropy.ts#L${i + 1}-L${end} "export function entropyFromLogits")`).join())
      .toMatch(/is now on line/);
    // a range that covers only the start of the function, or runs past it, is reported
    expect(check(`[a](../src/blt/patching/entropy.ts#L${i}-L${i + 3} "export function entropyFromLogits")`).join())
      .toMatch(new RegExp(`runs to line ${end} .* the link stops at ${i + 3}`));
    const rules = linesOf(path.join(root, 'src/blt/patching/rules.ts'));
    const m = rules.findIndex((l) => l.includes('[doc:global-threshold]')) + 1;
    const mEnd = rules.findIndex((l, j) => j >= m && l === '}') + 1; // globalThresholdTest's closing brace
    expect(check(`[a](../src/blt/patching/rules.ts#L${m}-L${mEnd} "[doc:global-threshold]")`)).toEqual([]);
    expect(check(`[a](../src/blt/patching/rules.ts#L${m}-L${mEnd + 2} "[doc:global-threshold]")`).join()).toMatch(/runs on at/);
  });

  it('computes GitHub heading ids', () => {
    const s = headingSlugs('# Entropy, eq. 1 (with its sign)\n## A/B test\n## A/B test\n```\n# not a heading\n```');
    expect([...s]).toEqual(['entropy-eq-1-with-its-sign', 'ab-test', 'ab-test-1']);
  });
});
