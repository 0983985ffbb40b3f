import { afterEach, describe, expect, it } from 'vitest';
import { adminApp, XSS, type AdminApp } from './admin-app.js';

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('JobAdminModule: the JSON API', () => {
  let admin: AdminApp;

  afterEach(async () => {
    await admin?.close();
  });

  it('lists jobs with their next fires, their schedule in words and their last runs, by pages', async () => {
    admin = await adminApp();
    const { scheduler, call } = admin;
    await scheduler.addJob({
      id: 'a-cron',
      name: XSS,
      handlerName: 'ok',
      cron: '0 30 2 * * *',
      payload: { html: XSS },
    });
    await scheduler.addJob({ id: 'b-interval', handlerName: 'ok', interval: '10m' });
    await scheduler.addJob({ id: 'c-paused', handlerName: 'ok', interval: '1h' });
    await scheduler.pauseJob('c-paused');
    await scheduler.triggerJob('a-cron');
    await until(
      'the triggered run',
      async () => (await scheduler.getRuns('a-cron', 1))[0]?.status === 'success',
    );

    const first = await call('GET', 'api/jobs?limit=2');
    expect(first.status).toBe(200);
    expect(first.json.items.map((job: { id: string }) => job.id)).toStrictEqual([
      'a-cron',
      'b-interval',
    ]);
    const [cron, interval] = first.json.items;
    expect(cron.name).toBe(XSS);
    expect(cron.payload).toStrictEqual({ html: XSS });
    expect(cron.cronText).toBe('At 02:30 (UTC)');
    expect(cron.scheduleText).toBe('At 02:30 (UTC)');
    expect(cron.nextFires).toHaveLength(5);
    const fires = cron.nextFires.map((at: string) => Date.parse(at));
    expect(
      fires.every((at: number, i: number) => i === 0 || at - fires[i - 1] === 86_400_000),
    ).toBe(true);
    expect(cron.recentRuns).toHaveLength(1);
    expect(cron.recentRuns[0]).toMatchObject({ status: 'success' });
    expect(interval.scheduleText).toBe('Every 10 minutes');
    expect(interval.cronText).toBeNull();
    const second = await call(
      'GET',
      `api/jobs?limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`,
    );
    expect(second.json.items.map((job: { id: string }) => job.id)).toStrictEqual(['c-paused']);
    expect(second.json.items[0].nextFires).toStrictEqual([]);
    expect(second.json.nextCursor).toBeNull();

    expect((await call('GET', 'api/jobs?status=paused')).json.items).toHaveLength(1);
    expect(
      (await call('GET', `api/jobs?q=${encodeURIComponent('<IMG')}`)).json.items.map(
        (j: { id: string }) => j.id,
      ),
    ).toStrictEqual(['a-cron']);
    expect((await call('GET', 'api/jobs?handler=nope')).json.items).toStrictEqual([]);
  });

  it('answers bad input with 400 and the field, an unknown job or run with 404', async () => {
    admin = await adminApp();
    const { call } = admin;
    for (const [path, field] of [
      ['api/jobs?limit=0', 'limit'],
      ['api/jobs?limit=501', 'limit'],
      ['api/jobs?limit=ten', 'limit'],
      ['api/jobs?status=done', 'status'],
      ['api/jobs?cursor=forged', 'cursor'],
      ['api/runs?from=yesterday', 'from'],
      ['api/runs?status=ok', 'status'],
      ['api/stats?bucket=1x', 'bucket'],
      ['api/cron?expr=not-a-cron', 'cron'],
      ['api/cron?expr=*+*+*+*+*&tz=Mars/Olympus', 'timezone'],
    ] as const) {
      const response = await call('GET', path);
      expect([path, response.status, response.json.field]).toStrictEqual([path, 400, field]);
      expect(typeof response.json.code).toBe('string');
      expect(typeof response.json.message).toBe('string');
    }
    expect((await call('GET', 'api/cron')).status).toBe(400);
    const job = await call('GET', 'api/jobs/nope');
    expect(job.status).toBe(404);
    expect(job.json).toMatchObject({ statusCode: 404, code: 'JOB_NOT_FOUND' });
    expect((await call('GET', 'api/jobs/nope/runs')).status).toBe(404);
    expect((await call('GET', 'api/runs/nope')).json).toMatchObject({
      statusCode: 404,
      code: 'RUN_NOT_FOUND',
    });
  });

  it('reads runs across jobs and of one job, searching error text, and one run by id', async () => {
    admin = await adminApp();
    const { scheduler, call } = admin;
    await scheduler.addJob({ id: 'good', handlerName: 'ok', interval: '1h' });
    await scheduler.addJob({ id: 'bad', handlerName: 'boom', interval: '1h' });
    await scheduler.triggerJob('good');
    await scheduler.triggerJob('bad');
    await until(
      'both runs',
      async () =>
        (await scheduler.findRuns({ status: 'running' })).items.length === 0 &&
        (await scheduler.findRuns()).items.length === 2,
    );
    const failed = await call('GET', 'api/runs?status=failed&q=onerror');
    expect(failed.json.items.map((run: { jobId: string }) => run.jobId)).toStrictEqual(['bad']);
    expect(failed.json.items[0].error).toContain(XSS);
    const good = await call('GET', 'api/jobs/good/runs');
    expect(good.json.items).toHaveLength(1);
    expect(good.json.items[0].output).toBe(XSS);
    const one = await call('GET', `api/runs/${good.json.items[0].id}`);
    expect(one.json).toStrictEqual(good.json.items[0]);
    const stats = await call('GET', 'api/stats');
    expect(stats.json).toHaveLength(24);
    const total = stats.json.reduce(
      (sum: number, row: { succeeded: number; failed: number }) => sum + row.succeeded + row.failed,
      0,
    );
    expect(total).toBe(2);
  });

  it('adds, pauses, resumes, triggers and removes jobs, each change logged with who and which job', async () => {
    admin = await adminApp();
    const { scheduler, call, logger } = admin;
    const added = await call('POST', 'api/jobs', {
      id: 'nightly',
      handlerName: 'ok',
      cron: '0 0 2 * * *',
      name: XSS,
    });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ id: 'nightly', name: XSS, status: 'pending' });
    expect(
      (await call('POST', 'api/jobs', { id: 'nightly', handlerName: 'ok', interval: '1h' })).json,
    ).toMatchObject({ statusCode: 409, code: 'JOB_ALREADY_EXISTS' });
    const invalid = await call('POST', 'api/jobs', { handlerName: 'ok', cron: 'every day' });
    expect(invalid.json).toMatchObject({ statusCode: 400, field: 'cron' });
    expect(
      (await call('POST', 'api/jobs', { handlerName: 'nope', interval: '1h' })).json,
    ).toMatchObject({ statusCode: 400, field: 'handlerName' });
    expect((await call('POST', 'api/jobs', [1, 2])).status).toBe(400);

    const paused = await call('POST', 'api/jobs/nightly/pause', {});
    expect([paused.status, paused.json.status]).toStrictEqual([200, 'paused']);
    expect((await call('POST', 'api/jobs/nightly/trigger', {})).json).toMatchObject({
      statusCode: 409,
      code: 'JOB_PAUSED',
    });
    const resumed = await call('POST', 'api/jobs/nightly/resume', {});
    expect([resumed.status, resumed.json.status, resumed.json.nextFires.length]).toStrictEqual([
      200,
      'pending',
      5,
    ]);
    const triggered = await call('POST', 'api/jobs/nightly/trigger', {});
    expect([triggered.status, triggered.json]).toStrictEqual([202, { triggered: true }]);
    await until(
      'the run',
      async () => (await scheduler.getRuns('nightly', 1))[0]?.status === 'success',
    );

    await scheduler.addJob({ id: 'slow', handlerName: 'hold', interval: '1h' });
    await call('POST', 'api/jobs/slow/trigger', {});
    await until('the slow run', () => admin.releases.length === 1);
    expect((await call('POST', 'api/jobs/slow/trigger', {})).json).toMatchObject({
      statusCode: 409,
      code: 'JOB_RUNNING',
    });

    const removed = await call('DELETE', 'api/jobs/nightly', {});
    expect([removed.status, removed.json]).toStrictEqual([200, { removed: true }]);
    expect((await call('GET', 'api/jobs/nightly')).status).toBe(404);
    expect((await call('DELETE', 'api/jobs/nightly', {})).status).toBe(404);

    const changes = logger.lines.filter((line) => line.includes('Admin:'));
    for (const what of [
      'added job "nightly"',
      'paused job "nightly"',
      'resumed job "nightly"',
      'triggered job "nightly"',
      'removed job "nightly"',
    ]) {
      expect(
        changes.some((line) => line.startsWith('log Admin: 127.0.0.1') && line.endsWith(what)),
      ).toBe(true);
    }
    expect(changes.some((line) => line.startsWith('warn') && line.includes('JOB_PAUSED'))).toBe(
      true,
    );
  });

  it('reports health, the cron in words with its next fires, and streams the events', async () => {
    admin = await adminApp();
    const { scheduler, call, base } = admin;
    const health = await call('GET', 'api/health');
    expect(health.json).toMatchObject({
      started: true,
      storageReachable: true,
      readOnly: false,
      instances: null,
    });
    expect(health.json.metrics).toMatchObject({ runsStarted: 0 });
    const cron = await call(
      'GET',
      `api/cron?expr=${encodeURIComponent('0 30 2 * * 1-5')}&tz=Europe/Paris`,
    );
    expect(cron.json.text).toBe('At 02:30, Monday through Friday (Europe/Paris)');
    expect(cron.json.nextFires).toHaveLength(5);

    const controller = new AbortController();
    const stream = await fetch(`${base}/api/events`, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    await scheduler.addJob({ id: 'live', handlerName: 'ok', interval: '1h' });
    await scheduler.triggerJob('live');
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('run.succeeded')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    controller.abort();
    const events = text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { type: string; jobId: string });
    expect(events.map((event) => event.type)).toStrictEqual([
      'job.added',
      'run.started',
      'run.succeeded',
    ]);
    expect(events.every((event) => event.jobId === 'live')).toBe(true);
  });
});

describe('JobAdminModule: shutdown', () => {
  it('ends the event streams when the app closes, so that an open dashboard never holds it up', async () => {
    const admin = await adminApp();
    const stream = await fetch(`${admin.base}/api/events`);
    const reader = stream.body!.getReader();
    const started = Date.now();
    await admin.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    // The stream ended with the app.
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
  }, 10_000);
});
