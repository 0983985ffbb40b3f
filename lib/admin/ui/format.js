// Times, durations and the UTC / local switch.
import { h } from './dom.js';

const KEY = 'jobs-admin.tz';
const HOUR = 3_600_000;
export const localZone = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'Local';
  } catch {
    return 'Local';
  }
})();

let mode = (() => {
  try {
    return localStorage.getItem(KEY) === 'local' ? 'local' : 'utc';
  } catch {
    return 'utc';
  }
})();

export const tzMode = () => mode;
export function setTzMode(next) {
  mode = next === 'local' ? 'local' : 'utc';
  try {
    localStorage.setItem(KEY, mode);
  } catch {
    /* private mode: not persisted */
  }
}
/** The zone label written after every absolute time. */
export const zoneLabel = () => (mode === 'utc' ? 'UTC' : localZone);

const formatters = new Map();
function fields(date) {
  const tz = mode === 'utc' ? 'UTC' : undefined;
  let f = formatters.get(mode);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(mode, f);
  }
  const p = {};
  for (const part of f.formatToParts(date)) p[part.type] = part.value;
  if (p.hour === '24') p.hour = '00';
  return p;
}

export const toDate = (v) => (v instanceof Date ? v : new Date(v));
const valid = (d) => !Number.isNaN(d.getTime());

/** `2024-05-01 12:34:56 UTC` (with `.mmm` when `ms`). */
export function absolute(value, { ms = false, zone = true } = {}) {
  const d = toDate(value);
  if (!valid(d)) return String(value);
  const p = fields(d);
  let out = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  if (ms) out += `.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  return zone ? `${out} ${zoneLabel()}` : out;
}

/** `3 min ago`, `in 12 s`, `just now`. */
export function relative(value, now = Date.now()) {
  const d = toDate(value);
  if (!valid(d)) return String(value);
  const diff = d.getTime() - now;
  const abs = Math.abs(diff);
  if (abs < 1000) return 'just now';
  let n;
  let unit;
  if (abs < 60_000) [n, unit] = [Math.round(abs / 1000), 's'];
  else if (abs < HOUR) [n, unit] = [Math.round(abs / 60_000), 'min'];
  else if (abs < 48 * HOUR) [n, unit] = [Math.round(abs / HOUR), 'h'];
  else [n, unit] = [Math.round(abs / (24 * HOUR)), 'd'];
  return diff < 0 ? `${n} ${unit} ago` : `in ${n} ${unit}`;
}

/**
 * A `<time>` element for an instant: relative text (or absolute with `abs: true`), the absolute
 * instant with its zone in `title`. Relative ones are refreshed by `tickTimes()`.
 */
export function timeEl(value, { abs = false } = {}) {
  if (value === null || value === undefined || value === '')
    return h('span', { class: 'muted' }, '—');
  const d = toDate(value);
  if (!valid(d)) return h('span', null, String(value));
  return h(
    'time',
    {
      'data-testid': 'time',
      datetime: d.toISOString(),
      title: absolute(d, { ms: true }),
      'data-rel': abs ? null : '1',
    },
    abs ? absolute(d) : relative(d),
  );
}

/** Re-render the relative texts (called every few seconds). */
export function tickTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-rel]'))
    el.textContent = relative(el.dateTime, now);
}

/** `850 ms`, `1.2 s`, `2 min 3 s`, `1 h 2 min`. */
export function duration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(Number(ms))) return '—';
  ms = Number(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** Hour label (`14:00`) and day label (`05-01`) of an instant, in the chosen zone. */
export function hourLabel(value) {
  const p = fields(toDate(value));
  return { hour: `${p.hour}:${p.minute}`, day: `${p.month}-${p.day}`, midnight: p.hour === '00' };
}

/** The value of a datetime-local input for an ISO instant, in the chosen zone. */
export function toInputValue(iso) {
  if (!iso) return '';
  const d = toDate(iso);
  if (!valid(d)) return '';
  const p = fields(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** The ISO instant of a datetime-local input value, read in the chosen zone; '' when empty/bad. */
export function fromInputValue(value) {
  if (!value) return '';
  const d =
    mode === 'utc' ? new Date(`${value}${value.length === 16 ? ':00' : ''}Z`) : new Date(value);
  return valid(d) ? d.toISOString() : '';
}

/** Pretty JSON (or the string itself) for a payload / output. */
export function pretty(value) {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
