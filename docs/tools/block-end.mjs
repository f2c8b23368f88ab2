// block-end.mjs — where the declaration that a doc link marks ends. Shared by relink.mjs (which writes the ranges)
// and spec/docs/links.spec.ts (which checks that every range covers its whole declaration).
//
// The marked declaration starts at the anchor's line (a `// [doc:NAME]` marker in src/, or a test's `it(` line
// in spec/): comments first, then code up to where its braces close, or up to the `;` of a one-statement block.
// A region of several declarations ends at an explicit `// [/doc:NAME]` line instead.

/** Last line (1-based) of the declaration that starts at (or after the comments below) line `m`. */
export function blockEnd(lines, m) {
  const marker = /\[doc:([\w-]+)\]/.exec(lines[m - 1] ?? '');
  if (marker) {
    const close = lines.findIndex((l, i) => i >= m && l.includes(`[/doc:${marker[1]}]`));
    if (close >= 0) return close + 1;
  }
  let depth = 0, opened = false;
  for (let i = m - 1; i < lines.length; i++) { // line i + 1 (the anchor line itself first)
    const raw = lines[i];
    if (!opened && /^\s*(\/\/|\/\*|\*)/.test(raw)) continue; // comments before the code
    const code = raw.replace(/\/\/.*$/, '').replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`/g, '""');
    for (const ch of code) {
      if (ch === '{') { depth++; opened = true; } else if (ch === '}') depth--;
    }
    if (opened && depth <= 0) return i + 1;
    if (!opened && /;\s*$/.test(code)) return i + 1;
  }
  return lines.length;
}
