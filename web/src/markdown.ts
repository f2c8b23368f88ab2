// Just enough Markdown and TeX to show a section of docs/walkthrough.md inside the page: headings, paragraphs,
// lists, code, emphasis, and formulas turned into plain text with sub- and superscripts. Links become their
// text (their targets are files of the repository, not pages of this site).

const GREEK: Record<string, string> = {
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', theta: 'θ', lambda: 'λ', mu: 'μ', pi: 'π', sigma: 'σ',
  tau: 'τ', phi: 'φ', Delta: 'Δ', Sigma: 'Σ', Theta: 'Θ',
};
const SYMBOLS: Record<string, string> = {
  sum: 'Σ', prod: 'Π', dots: '…', ldots: '…', cdots: '⋯', cdot: '·', times: '×', in: '∈', le: '≤', leq: '≤', ge: '≥',
  geq: '≥', ne: '≠', neq: '≠', to: '→', rightarrow: '→', longrightarrow: '⟶', leftarrow: '←', infty: '∞', approx: '≈',
  lvert: '|', rvert: '|', vert: '|', mid: '|', bmod: 'mod', log: 'log', exp: 'exp', max: 'max', min: 'min', top: 'ᵀ',
  lceil: '⌈', rceil: '⌉', lfloor: '⌊', rfloor: '⌋', langle: '⟨', rangle: '⟩', ell: 'ℓ', sim: '∼',
};

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A TeX formula as readable text (already HTML-escaped input), with <sub>/<sup> for indices. */
export function texToHtml(tex: string): string {
  let s = tex;
  s = s.replace(/\\(?:[;,!: ]|quad|qquad)/g, ' ');
  s = s.replace(/\\(?:big|Big|bigg|Bigg|left|right)(?=[^a-zA-Z])/g, '');
  s = s.replace(/\\(?:operatorname|mathrm|text|textrm|mathit|mathbf|boldsymbol)\{([^{}]*)\}/g, '$1');
  s = s.replace(/\\mathcal\{E\}/g, '𝓔').replace(/\\mathcal\{D\}/g, '𝓓').replace(/\\mathcal\{G\}/g, '𝒢').replace(/\\mathbb\{R\}/g, 'ℝ');
  for (let i = 0; i < 3; i++) {
    s = s.replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, '($1)/($2)').replace(/\\sqrt\{([^{}]*)\}/g, '√($1)');
  }
  s = s.replace(/\\([a-zA-Z]+)/g, (_m, name: string) => GREEK[name] ?? SYMBOLS[name] ?? name);
  for (let i = 0; i < 3; i++) {
    s = s.replace(/_\{([^{}]*)\}/g, '<sub>$1</sub>').replace(/\^\{([^{}]*)\}/g, '<sup>$1</sup>');
  }
  s = s.replace(/_([A-Za-z0-9α-ωΑ-Ω])/g, '<sub>$1</sub>').replace(/\^([A-Za-z0-9α-ωΑ-Ω'*])/g, '<sup>$1</sup>');
  return s.replace(/[{}]/g, '').replace(/\s+/g, ' ').trim();
}

function inline(text: string): string {
  const parts = text.split(/(`[^`]*`)/g);
  return parts.map((p) => {
    if (p.startsWith('`') && p.endsWith('`') && p.length > 1) return `<code>${escapeHtml(p.slice(1, -1))}</code>`;
    let s = escapeHtml(p);
    s = s.replace(/\$([^$]+)\$/g, (_m, tex: string) => `<span class="tex">${texToHtml(tex)}</span>`);
    s = s.replace(/\[([^\]]+)\]\([^)]*\)/g, '$1');
    s = s.replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>').replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<i>$2</i>');
    return s;
  }).join('');
}

/** The HTML of a Markdown section (see the top of this file for what is understood). */
export function markdownToHtml(md: string): string {
  const out: string[] = [];
  const blocks = md.replace(/\r/g, '').split(/\n{2,}/);
  for (const block of blocks) {
    const b = block.trim();
    if (!b) continue;
    if (b.startsWith('```')) { out.push(`<pre>${escapeHtml(b.replace(/^```\w*\n?/, '').replace(/\n?```$/, ''))}</pre>`); continue; }
    if (b.startsWith('$$')) { out.push(`<div class="tex-block">${texToHtml(escapeHtml(b.replace(/\$\$/g, ' ')))}</div>`); continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(b);
    if (heading && !b.includes('\n')) { out.push(`<h4>${inline(heading[2])}</h4>`); continue; }
    const lines = b.split('\n');
    if (lines.every((l) => /^\s*(\d+\.|[-*])\s/.test(l) || /^\s{2,}\S/.test(l))) {
      const ordered = /^\s*\d+\./.test(lines[0]);
      const items: string[] = [];
      for (const l of lines) {
        if (/^\s*(\d+\.|[-*])\s/.test(l)) items.push(l.replace(/^\s*(\d+\.|[-*])\s+/, ''));
        else items[items.length - 1] += ' ' + l.trim();
      }
      out.push(`<${ordered ? 'ol' : 'ul'}>${items.map((i) => `<li>${inline(i)}</li>`).join('')}</${ordered ? 'ol' : 'ul'}>`);
      continue;
    }
    if (lines.every((l) => l.startsWith('|'))) continue; // tables: left to the document itself
    out.push(`<p>${inline(lines.join(' '))}</p>`);
  }
  return out.join('\n');
}
