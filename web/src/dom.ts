// Small DOM helpers shared by the views.

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
}

/** An element with attributes and children (strings become text nodes). */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

/** Shows a problem in plain words in `box` (or the page's banner), and logs nothing to the console. */
export function showError(message: string, box: HTMLElement = $('page-error')): void {
  box.hidden = false;
  box.replaceChildren(h('strong', {}, 'Something went wrong. '), message);
}

export function clearError(box: HTMLElement = $('page-error')): void {
  box.hidden = true;
  box.replaceChildren();
}

export function fmt(x: number, digits = 2): string {
  return x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
