// "Add job": a small form in a <dialog>, POST api/jobs.
import { h, mount, jobHref, debounce } from './dom.js';
import { api } from './api.js';
import { fromInputValue, zoneLabel, absolute } from './format.js';
import { notify } from './ui.js';

let dialog;
let f;

function field(label, input, hint) {
  return h(
    'label',
    { class: 'form-row' },
    h('span', null, label),
    input,
    hint ? h('small', { class: 'muted' }, hint) : null,
  );
}

function build() {
  f = {
    id: h('input', {
      class: 'input',
      name: 'id',
      placeholder: 'optional: generated when empty',
      'data-testid': 'add-id',
    }),
    name: h('input', { class: 'input', name: 'name', 'data-testid': 'add-name' }),
    handlerName: h('input', {
      class: 'input',
      name: 'handlerName',
      required: true,
      'data-testid': 'add-handler',
    }),
    kind: h(
      'select',
      { class: 'input', 'data-testid': 'add-kind' },
      h('option', { value: 'cron' }, 'cron'),
      h('option', { value: 'interval' }, 'interval (ms)'),
      h('option', { value: 'runAt' }, 'once, at'),
    ),
    cron: h('input', {
      class: 'input mono',
      placeholder: '*/5 * * * * *  (seconds optional)',
      'data-testid': 'add-cron',
    }),
    interval: h('input', {
      class: 'input',
      type: 'number',
      min: '1',
      placeholder: '60000',
      'data-testid': 'add-interval',
    }),
    runAt: h('input', {
      class: 'input',
      type: 'datetime-local',
      step: '1',
      'data-testid': 'add-runat',
    }),
    timezone: h('input', {
      class: 'input',
      placeholder: 'e.g. Europe/Paris (cron only)',
      'data-testid': 'add-timezone',
    }),
    payload: h('textarea', {
      class: 'input mono',
      rows: '4',
      placeholder: '{ }',
      'data-testid': 'add-payload',
    }),
    preview: h('div', { class: 'muted small', 'data-testid': 'add-cron-preview' }),
    error: h('div', { class: 'form-error', 'data-testid': 'add-error', hidden: true }),
  };
  const rows = {
    cron: field('Cron', f.cron, f.preview),
    interval: field('Interval', f.interval, 'milliseconds'),
    runAt: field('Run at', f.runAt),
    timezone: field('Timezone', f.timezone),
  };
  const showKind = () => {
    rows.cron.hidden = f.kind.value !== 'cron';
    rows.timezone.hidden = f.kind.value !== 'cron';
    rows.interval.hidden = f.kind.value !== 'interval';
    rows.runAt.hidden = f.kind.value !== 'runAt';
    mount(rows.runAt.firstChild, `Run at (${zoneLabel()})`);
  };
  f.kind.addEventListener('change', showKind);
  const previewCron = debounce(async () => {
    const expr = f.cron.value.trim();
    if (!expr) return mount(f.preview);
    try {
      const r = await api.cron(expr, f.timezone.value.trim());
      if (expr !== f.cron.value.trim()) return;
      mount(
        f.preview,
        String(r.text),
        (r.nextFires || []).length ? ` · next: ${absolute(r.nextFires[0])}` : '',
      );
    } catch (e) {
      mount(f.preview, h('span', { class: 'err' }, String(e.message)));
    }
  }, 300);
  f.cron.addEventListener('input', previewCron);
  f.timezone.addEventListener('input', previewCron);

  const cancel = h(
    'button',
    { type: 'button', class: 'btn', onclick: () => dialog.close() },
    'Cancel',
  );
  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', 'data-testid': 'add-submit' },
    'Add job',
  );
  const form = h(
    'form',
    { class: 'form', novalidate: true },
    h('h2', null, 'Add a job'),
    f.error,
    field('Id', f.id),
    field('Name', f.name),
    field('Handler name', f.handlerName),
    field('Schedule', f.kind),
    rows.cron,
    rows.timezone,
    rows.interval,
    rows.runAt,
    field('Payload (JSON)', f.payload),
    h('div', { class: 'dialog-buttons' }, cancel, submit),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const def = read();
    if (!def) return;
    submit.disabled = true;
    try {
      const job = await api.addJob(def);
      dialog.close();
      notify('Job added.');
      location.hash = jobHref(job && job.id ? job.id : def.id);
    } catch (e) {
      fail(e.message + (e.field ? ` (field ${e.field})` : ''));
    } finally {
      submit.disabled = false;
    }
  });
  dialog = h('dialog', { class: 'dialog dialog-wide', 'data-testid': 'add-dialog' }, form);
  dialog.showKind = showKind;
  document.body.append(dialog);
}

function fail(text) {
  f.error.textContent = text;
  f.error.hidden = false;
}

function read() {
  f.error.hidden = true;
  const def = {};
  for (const k of ['id', 'name', 'handlerName']) if (f[k].value.trim()) def[k] = f[k].value.trim();
  if (!def.handlerName) return fail('A handler name is needed.');
  const kind = f.kind.value;
  if (kind === 'cron') {
    if (!f.cron.value.trim()) return fail('A cron expression is needed.');
    def.cron = f.cron.value.trim();
    if (f.timezone.value.trim()) def.timezone = f.timezone.value.trim();
  } else if (kind === 'interval') {
    const n = Number(f.interval.value);
    if (!Number.isFinite(n) || n <= 0)
      return fail('The interval is a positive number of milliseconds.');
    def.interval = n;
  } else {
    const at = fromInputValue(f.runAt.value);
    if (!at) return fail('A date and time are needed.');
    def.runAt = at;
  }
  const text = f.payload.value.trim();
  if (text) {
    try {
      def.payload = JSON.parse(text);
    } catch (e) {
      return fail(`The payload is not JSON: ${e.message}`);
    }
  }
  return def;
}

export function openAddJob() {
  if (!dialog) build();
  f.error.hidden = true;
  dialog.showKind();
  dialog.showModal();
  f.handlerName.focus();
}
