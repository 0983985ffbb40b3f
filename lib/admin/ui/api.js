// The JSON API (relative URLs: the server writes a <base>), its errors, and the event stream.

export class ApiError extends Error {
  constructor(status, body, message) {
    super(message);
    this.status = status;
    this.code = body && typeof body.code === 'string' ? body.code : undefined;
    this.field = body && typeof body.field === 'string' ? body.field : undefined;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const str = q.toString();
  return str ? `?${str}` : '';
}

function messageOf(body, res) {
  const m = body && body.message;
  if (typeof m === 'string' && m) return m;
  if (Array.isArray(m) && m.length) return m.map(String).join('; ');
  return `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
}

async function request(method, path, params, body) {
  const init = {
    method,
    headers: { Accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  };
  if (method !== 'GET') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(path + query(params), init);
  } catch {
    throw new ApiError(0, null, 'The server could not be reached.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data, messageOf(data, res));
  return data;
}

const id = (v) => encodeURIComponent(v);

export const api = {
  jobs: (p) => request('GET', 'api/jobs', p),
  job: (jobId) => request('GET', `api/jobs/${id(jobId)}`),
  jobRuns: (jobId, p) => request('GET', `api/jobs/${id(jobId)}/runs`, p),
  runs: (p) => request('GET', 'api/runs', p),
  run: (runId) => request('GET', `api/runs/${id(runId)}`),
  stats: (p) => request('GET', 'api/stats', p),
  health: () => request('GET', 'api/health'),
  cron: (expr, tz) => request('GET', 'api/cron', { expr, tz }),
  addJob: (definition) => request('POST', 'api/jobs', null, definition),
  pause: (jobId) => request('POST', `api/jobs/${id(jobId)}/pause`, null, {}),
  resume: (jobId) => request('POST', `api/jobs/${id(jobId)}/resume`, null, {}),
  trigger: (jobId) => request('POST', `api/jobs/${id(jobId)}/trigger`, null, {}),
  remove: (jobId) => request('DELETE', `api/jobs/${id(jobId)}`, null, {}),
};

/**
 * One EventSource on `api/events`. `onEvent(data)` for every message (data parsed, or null);
 * `onState('connecting' | 'live' | 'reconnecting')`; `onOpen()` after every (re)connection.
 */
export function connectEvents({ onEvent, onState, onOpen }) {
  let es;
  let timer;
  const open = () => {
    onState('connecting');
    es = new EventSource('api/events');
    es.onopen = () => {
      onState('live');
      onOpen();
    };
    es.onmessage = (m) => {
      let data = null;
      try {
        data = JSON.parse(m.data);
      } catch {
        data = null;
      }
      onEvent(data);
    };
    es.onerror = () => {
      onState('reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. a non-200 answer): try again ourselves, a little later.
        es.close();
        clearTimeout(timer);
        timer = setTimeout(open, 5000);
      }
    };
  };
  open();
  return () => {
    clearTimeout(timer);
    es?.close();
  };
}
