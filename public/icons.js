// The UI's icons, as inline SVG drawn with lines on a 24-unit grid: no icon depends on a
// font (an emoji or symbol font may be missing, and its glyphs then show as empty boxes).
// `icon(name)` builds one; `fillIcons(root)` puts one into every `<span data-icon="name">`
// of the page. Icons are decoration: the button around each one carries the label.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Each icon: the `d` of its strokes (and circles as [cx, cy, r]). */
const ICONS = {
  back: { d: 'M19 12H5M11 6l-6 6 6 6' },
  refresh: { d: 'M20 12a8 8 0 1 1-2.34-5.66M20 4v5h-5' },
  bell: { d: 'M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 1.5h-15zM10 20.5a2 2 0 0 0 4 0' },
  search: { d: 'M20 20l-4.6-4.6', circles: [[10.5, 10.5, 6]] },
  exit: { d: 'M14 4h5v16h-5M4 12h11M11 8l4 4-4 4' },
  release: { d: 'M3 20c0-3.3 2.7-6 6-6s6 2.7 6 6M16 11h6', circles: [[9, 8, 4]] },
  close: { d: 'M6 6l12 12M18 6 6 18' },
  paperclip: { d: 'M20.5 11.5 12 20a5 5 0 0 1-7.07-7.07l8.84-8.84a3.5 3.5 0 0 1 4.95 4.95l-8.49 8.49a2 2 0 0 1-2.83-2.83L15 7' },
  react: { d: 'M8.5 14.5a4 4 0 0 0 7 0M9 9.5v.01M15 9.5v.01', circles: [[12, 12, 9]] },
  reply: { d: 'M9 7 4 12l5 5M4 12h10a6 6 0 0 1 6 6v1' },
  thread: { d: 'M4 5h16v10h-9l-5 4v-4H4zM8 9h8M8 12h5' },
  edit: { d: 'M4 20h4L19 9l-4-4L4 16zM13 7l4 4' },
  trash: { d: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13M10 11v5M14 11v5' },
  down: { d: 'M12 5v14M6 13l6 6 6-6' },
  pin: { d: 'M9 3h6M10 3v6l-4 5h12l-4-5V3M12 14v7' },
  download: { d: 'M12 4v11M7 10l5 5 5-5M5 20h14' },
};

/** An icon as an `<svg>` element (hidden from screen readers), sized by CSS (`.svg-icon`). */
export function icon(name) {
  const spec = ICONS[name];
  const svg = document.createElementNS(SVG_NS, 'svg');
  for (const [k, v] of Object.entries({
    viewBox: '0 0 24 24', width: '18', height: '18', fill: 'none', stroke: 'currentColor',
    'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round',
    'aria-hidden': 'true', focusable: 'false', class: `svg-icon icon-${name}`,
  })) svg.setAttribute(k, v);
  if (!spec) return svg;
  const path = document.createElementNS(SVG_NS, 'path');
  path.setAttribute('d', spec.d);
  svg.append(path);
  for (const [cx, cy, r] of spec.circles ?? []) {
    const circle = document.createElementNS(SVG_NS, 'circle');
    for (const [k, v] of Object.entries({ cx, cy, r })) circle.setAttribute(k, String(v));
    svg.append(circle);
  }
  return svg;
}

/** Replaces every `[data-icon]` placeholder under `root` with its icon. */
export function fillIcons(root = document) {
  for (const slot of root.querySelectorAll('span[data-icon]')) slot.replaceWith(icon(slot.dataset.icon));
}
