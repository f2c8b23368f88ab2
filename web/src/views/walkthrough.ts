// Model walk-through: one forward pass, stage by stage, with shapes, the equation each stage implements and the
// matching section of docs/walkthrough.md (shipped with the page, shown in place).
import walkthroughMd from '../../../docs/walkthrough.md?raw';
import { call } from '../client';
import { markdownToHtml } from '../markdown';
import { $, clearError, h, showError } from '../dom';
import type { Stage, WalkthroughResult } from '../protocol';

/** Per stage: the equation (HTML) and the heading of docs/walkthrough.md that explains it. */
const STAGES: Record<string, { eq: string; doc: string }> = {
  ids: { eq: 'x = [BOS, b<sub>0</sub>+4, …, b<sub>n−1</sub>+4]', doc: '## Conventions used on this page' },
  entropy: { eq: 'H(x<sub>i</sub>) = −Σ<sub>v</sub> p<sub>e</sub>(x<sub>i</sub> = v | x<sub>&lt;i</sub>) log p<sub>e</sub>(x<sub>i</sub> = v | x<sub>&lt;i</sub>) &nbsp; (eq. 1); &nbsp; a patch starts where H(x<sub>i</sub>) &gt; θ', doc: '## 2. The global-threshold rule' },
  hash: { eq: 'e<sub>i</sub> = x<sub>i</sub> + Σ<sub>n</sub> E<sup>hash</sup><sub>n</sub>(Hash(g<sub>i,n</sub>)), &nbsp; g<sub>i,n</sub> = (b<sub>i−n+1</sub>, …, b<sub>i</sub>) &nbsp; (eqs. 2–3)', doc: '## 5. Hash n-gram embeddings (eqs. 2-3) and the reference arithmetic' },
  encoder: { eq: 'h = LocalEncoder(e): causal self-attention in a sliding window, then SwiGLU, per layer', doc: '## 6. Encoder cross-attention: bytes become patches (eqs. 5-8)' },
  patches: { eq: 'P<sub>0,j</sub> = 𝓔<sub>C</sub>(max<sub>i: p(i)=j</sub> h<sub>i</sub>), &nbsp; P<sub>l</sub> = 2P<sub>l−1</sub> + W<sub>o</sub> softmax(QKᵀ/√d<sub>h</sub> + M)V &nbsp; (eqs. 5–8)', doc: '## 6. Encoder cross-attention: bytes become patches (eqs. 5-8)' },
  global: { eq: 'o = 𝒢(W<sub>in</sub>[P<sub>j,0</sub>; …; P<sub>j,k−1</sub>]<sub>j&lt;P</sub>), a causal transformer over patches', doc: '## 7. The global latent transformer' },
  decoder: { eq: 'B<sub>l</sub> = 2D<sub>l−1</sub> + W<sub>o</sub> softmax(QKᵀ/√d<sub>h</sub> + M)V with keys from o<sub>d(i)</sub>, &nbsp; d(i) = p(i+1) − 1 &nbsp; (eqs. 9–12)', doc: '## 8. Decoder cross-attention: which patch a byte reads' },
  logits: { eq: 'p(b<sub>i+1</sub> | b<sub>≤i</sub>) = softmax(W<sub>out</sub> RMSNorm(D<sub>l<sub>D</sub></sub>)<sub>i</sub>)', doc: '## 9. Training loss and bits per byte (eq. 18)' },
};

/** The text of one section of docs/walkthrough.md (from its heading to the next heading of that level). */
export function docSection(heading: string): string {
  const start = walkthroughMd.indexOf(`\n${heading}\n`);
  if (start < 0) return '';
  const rest = walkthroughMd.slice(start + 1);
  const next = rest.slice(heading.length).search(/\n## /);
  return (next < 0 ? rest : rest.slice(0, heading.length + next)).trim();
}

function stageCard(s: Stage, i: number): HTMLElement {
  const meta = STAGES[s.key];
  const section = meta ? docSection(meta.doc) : '';
  const card = h('li', { class: 'stage', 'data-stage': s.key },
    h('div', { class: 'stage-head' },
      h('span', { class: 'stage-num' }, String(i + 1)),
      h('h3', {}, s.title),
      h('code', { class: 'shape', title: 'tensor shape' }, `[${s.shape.join(', ')}]`)),
  );
  if (meta) {
    const eq = h('p', { class: 'eq' });
    eq.innerHTML = meta.eq;
    card.append(eq);
  }
  card.append(h('p', { class: 'stage-note' }, s.note));
  card.append(h('p', { class: 'sample' }, h('span', { class: 'muted' }, 'first values: '), s.sample.map((v) => String(v)).join(', '), ' …'));
  if (section) {
    const doc = h('div', { class: 'doc' });
    doc.innerHTML = markdownToHtml(section.replace(/^#+ .*\n/, '')); // the document's own words (docs/walkthrough.md)
    card.append(h('details', {}, h('summary', {}, `Read more: docs/walkthrough.md, “${meta.doc.replace(/^#+ /, '')}”`), doc));
  }
  return card;
}

async function run(): Promise<void> {
  const list = $('walk-stages');
  const btn = $<HTMLButtonElement>('walk-run');
  btn.disabled = true;
  list.setAttribute('aria-busy', 'true');
  try {
    const r = await call<WalkthroughResult>({ kind: 'walkthrough', text: $<HTMLInputElement>('walk-text').value });
    clearError();
    const cards = r.stages.map(stageCard);
    const top = h('ol', { class: 'top-bytes' }, ...r.top.map((t) => h('li', {}, h('code', {}, t.byte), ` ${(100 * t.p).toFixed(1)} %`)));
    cards[cards.length - 1].append(h('div', { class: 'top' }, h('span', { class: 'muted' }, 'most likely next bytes: '), top));
    list.replaceChildren(...cards);
  } catch (e) {
    showError((e as Error).message);
  } finally {
    btn.disabled = false;
    list.removeAttribute('aria-busy');
  }
}

export function initWalkthrough(): void {
  $('walk-run').addEventListener('click', () => void run());
  $('walk-text').addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter') void run(); });
  $<HTMLAnchorElement>('walkthrough-doc').addEventListener('click', (e) => {
    e.preventDefault();
    const first = document.querySelector<HTMLDetailsElement>('#walk-stages details');
    if (first) { first.open = true; first.scrollIntoView({ behavior: 'smooth', block: 'center' }); }
  });
}

export const runWalkthrough = run;
