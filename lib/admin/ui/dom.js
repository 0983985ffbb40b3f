// Tiny element helpers. Text is only ever set through text nodes / textContent: no HTML parsing.

const SVG_NS = 'http://www.w3.org/2000/svg';
const UNSAFE_URL = /^\s*(javascript|data|vbscript):/i;

function apply(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'class') {
      el.setAttribute(
        'class',
        Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value),
      );
    } else if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'selected') {
      el[key] = value;
    } else if (key === 'style' || key.startsWith('on') || key === 'srcdoc') {
      throw new Error(`h(): refusing attribute ${key}`);
    } else if (
      (key === 'href' || key === 'src' || key === 'action') &&
      UNSAFE_URL.test(String(value))
    ) {
      continue;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** An HTML element: `h('a', { href: '#/jobs', class: 'x' }, 'text', otherNode)`. Strings become text nodes. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** An SVG element (namespaced). */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** Replace all children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** `#/jobs/<id>` for a job id. */
export const jobHref = (id) => `#/jobs/${encodeURIComponent(id)}`;

export function debounce(fn, ms) {
  let t;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}
