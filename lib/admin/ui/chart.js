// The runs-per-hour bar chart (SVG built with createElementNS; text only through text nodes).
import { s, h } from './dom.js';
import { absolute, hourLabel } from './format.js';

const HOUR = 3_600_000;
const W = 760;
const H = 210;
const M = { top: 12, right: 8, bottom: 34, left: 40 };

function niceStep(raw) {
  const pow = 10 ** Math.floor(Math.log10(raw));
  const f = raw / pow;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * pow;
}

/**
 * Hourly slots from `from` to `now`, aligned on the buckets the server returned (whatever their
 * alignment), with every bucket of `stats` placed in its slot.
 */
export function hourlySlots(stats, from, now) {
  const starts = stats.map((b) => Date.parse(b.start)).filter((t) => !Number.isNaN(t));
  const offset = starts.length ? ((starts[0] % HOUR) + HOUR) % HOUR : 0;
  let base = Math.floor((from - offset) / HOUR) * HOUR + offset;
  if (starts.length) base = Math.min(base, Math.min(...starts));
  // A slot begun less than a minute ago is left out unless a bucket lies in it (the server's
  // buckets may be aligned on 'from', whose milliseconds it may drop).
  const last = starts.length ? Math.floor((Math.max(...starts) - base) / HOUR) + 1 : 0;
  const n = Math.max(1, last, Math.ceil((now - base - 60_000) / HOUR));
  const slots = Array.from({ length: n }, (_, i) => ({
    start: base + i * HOUR,
    succeeded: 0,
    failed: 0,
  }));
  stats.forEach((b, i) => {
    const t = starts[i] ?? Date.parse(b.start);
    const k = Math.floor((t - base) / HOUR);
    if (k >= 0 && k < n) {
      slots[k].succeeded += Number(b.succeeded) || 0;
      slots[k].failed += Number(b.failed) || 0;
    }
  });
  return slots;
}

export function runsChart(slots) {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const max = Math.max(1, ...slots.map((b) => b.succeeded + b.failed));
  const step = Math.max(1, niceStep(max / 4));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const y = (v) => M.top + ph - (v / top) * ph;
  const bw = pw / slots.length;
  const gap = Math.min(4, bw * 0.2);
  const every = slots.length > 16 ? 3 : slots.length > 8 ? 2 : 1;
  let lastDay = null;

  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    'data-testid': 'chart',
    role: 'img',
    'aria-label': 'Runs per hour, last 24 hours (succeeded and failed)',
  });
  svg.append(s('title', null, 'Runs per hour, last 24 hours'));

  for (let v = 0; v <= top; v += step) {
    svg.append(
      s('line', { class: 'grid', x1: M.left, x2: W - M.right, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)),
    );
  }

  slots.forEach((b, i) => {
    const x = M.left + i * bw + gap / 2;
    const w = Math.max(1, bw - gap);
    const end = absolute(b.start + HOUR);
    const g = s(
      'g',
      { class: 'bar', 'data-testid': 'chart-bar' },
      s(
        'title',
        null,
        `${absolute(b.start)} – ${end}: ${b.succeeded} succeeded, ${b.failed} failed`,
      ),
      s('rect', { class: 'hover', x: M.left + i * bw, y: M.top, width: bw, height: ph }),
    );
    if (b.succeeded) {
      g.append(
        s('rect', { class: 'ok', x, width: w, y: y(b.succeeded), height: y(0) - y(b.succeeded) }),
      );
    }
    if (b.failed) {
      const t = b.succeeded + b.failed;
      g.append(s('rect', { class: 'fail', x, width: w, y: y(t), height: y(b.succeeded) - y(t) }));
    }
    svg.append(g);
    if (i % every === 0) {
      const label = hourLabel(b.start);
      const cx = M.left + i * bw + bw / 2;
      svg.append(
        s(
          'text',
          { class: 'axis', x: cx, y: H - M.bottom + 14, 'text-anchor': 'middle' },
          label.hour,
        ),
      );
      if (label.day !== lastDay) {
        svg.append(
          s(
            'text',
            { class: 'axis day', x: cx, y: H - M.bottom + 27, 'text-anchor': 'middle' },
            label.day,
          ),
        );
        lastDay = label.day;
      }
    }
  });
  svg.append(s('line', { class: 'baseline', x1: M.left, x2: W - M.right, y1: y(0), y2: y(0) }));
  return svg;
}

export function legend() {
  return h(
    'div',
    { class: 'legend' },
    h('span', null, h('i', { class: 'sw sw-ok' }), 'succeeded'),
    h('span', null, h('i', { class: 'sw sw-fail' }), 'failed'),
  );
}
