// Building the page: elements from data, never from HTML strings (so a title an event
// sender chose stays text), and the few formats every view shares.

const SVG = 'http://www.w3.org/2000/svg';

function build(node, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** An HTML element: h('button', {class: 'x', onclick: f}, 'Label'). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, as h builds HTML ones. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG, tag), attrs, children);
}

/** Replaces what a container shows. */
export function show(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

/** "5 min", "3 h", "2 d": how long ago an ISO time was. */
export function age(iso, now = Date.now()) {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return '';
  const seconds = Math.max(0, Math.round((now - then) / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86400)} d`;
}

/** An ISO time as "2026-12-07 03:41 UTC" (the API's times are UTC). */
export function when(iso) {
  if (!iso) return '';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return String(iso);
  return `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A severity or state as a labelled badge (its colour comes from style.css). */
export function badge(kind, value) {
  return h('span', { class: `badge ${kind}-${String(value || 'none').toLowerCase()}` }, value || '—');
}

/** A button that stays disabled while its action runs, so a double click acts once. */
export function action(label, run, attrs = {}) {
  const button = h('button', { type: 'button', ...attrs }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await run();
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}
