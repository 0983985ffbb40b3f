import { afterEach, describe, expect, it } from 'vitest';
import { declaredJobId, JobModule, MemoryStorage, SchedulerService } from '../../lib/index.js';
import {
  HeartbeatService,
  LONG_HANDLER_NAME,
  LongNameService,
  NightlyCleanupV1,
  NightlyCleanupV2,
} from '../src/handlers/declared.handlers.js';
import { Probe, ProbeModule } from '../src/probe.module.js';
import { TestApps, nextJobEvent } from '../utils/apps.js';

const apps = new TestApps();
afterEach(() => apps.closeAll());

const NIGHTLY = declaredJobId('nightly-cleanup');

/** Boots an application declaring the nightly job (version 1 or 2) over the given storage. */
function boot(
  storage: MemoryStorage,
  version: typeof NightlyCleanupV1 | typeof NightlyCleanupV2 = NightlyCleanupV1,
) {
  return apps.init({ imports: [JobModule.forRoot({ storage })], providers: [version] });
}

describe('jobs declared with @JobHandler(name, { cron | interval })', () => {
  it('are created at bootstrap under the stable id handler:<name>', async () => {
    const storage = new MemoryStorage();
    const app = await boot(storage);
    expect(NIGHTLY).toBe('handler:nightly-cleanup');
    const job = await app.get(SchedulerService).getJob(NIGHTLY);
    expect(job).toMatchObject({
      id: 'handler:nightly-cleanup',
      name: 'Nightly cleanup',
      description: 'Deletes old rows every night',
      type: 'cron',
      cron: '0 0 3 * * *',
      timezone: 'Europe/Paris',
      handlerName: 'nightly-cleanup',
      payload: { keepDays: 7 },
      maxRetry: 2,
      status: 'pending',
    });
    expect(job.nextRunAt).toBeInstanceOf(Date);
  });

  it('are not duplicated by a restart, nor by a second instance on the same storage', async () => {
    const storage = new MemoryStorage();
    const first = await boot(storage);
    const created = await first.get(SchedulerService).getJob(NIGHTLY);
    const second = await boot(storage); // a second instance, while the first runs
    await first.close();
    const third = await boot(storage); // a restart
    expect(second.get(SchedulerService).storage).toBe(third.get(SchedulerService).storage);
    const jobs = (await storage.listJobs()).filter((job) => job.handlerName === 'nightly-cleanup');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ id: NIGHTLY, createdAt: created.createdAt });
  });

  it('are left alone when unchanged', async () => {
    const storage = new MemoryStorage();
    await boot(storage);
    const before = await storage.getJob(NIGHTLY);
    await boot(storage);
    const after = await storage.getJob(NIGHTLY);
    expect(after?.version).toBe(before?.version);
    expect(after?.updatedAt).toEqual(before?.updatedAt);
  });

  it('are updated when the declaration changes (a new cron), keeping their id', async () => {
    const storage = new MemoryStorage();
    await (await boot(storage, NightlyCleanupV1)).close();
    const app = await boot(storage, NightlyCleanupV2);
    const jobs = await storage.listJobs();
    expect(jobs).toHaveLength(1);
    const job = await app.get(SchedulerService).getJob(NIGHTLY);
    expect(job).toMatchObject({ id: NIGHTLY, cron: '0 30 4 * * *', status: 'pending' });
    // 04:30 in Paris is 02:30 or 03:30 UTC, depending on daylight saving time.
    expect(job.nextRunAt?.getUTCMinutes()).toBe(30);
  });

  it('stay paused across restarts, and across a changed declaration', async () => {
    const storage = new MemoryStorage();
    const first = await boot(storage);
    await first.get(SchedulerService).pauseJob(NIGHTLY);
    await first.close();
    const second = await boot(storage);
    expect((await second.get(SchedulerService).getJob(NIGHTLY)).status).toBe('paused');
    await second.close();
    const third = await boot(storage, NightlyCleanupV2);
    const job = await third.get(SchedulerService).getJob(NIGHTLY);
    expect(job).toMatchObject({ status: 'paused', cron: '0 30 4 * * *' });
  });

  it('are created even when autoStart is false, and run once started', async () => {
    const app = await apps.init({
      imports: [JobModule.forRoot({ autoStart: false }), ProbeModule],
      providers: [HeartbeatService],
    });
    const scheduler = app.get(SchedulerService);
    expect(scheduler.isStarted()).toBe(false);
    expect(await scheduler.getJob(declaredJobId('heartbeat'))).toMatchObject({
      type: 'interval',
      interval: 50,
    });
    const ran = nextJobEvent(scheduler, declaredJobId('heartbeat'), 'run.succeeded');
    await scheduler.start();
    expect((await ran).run?.output).toBe('beat');
  });

  it('run on their schedule (a method declaring an interval job)', async () => {
    const app = await apps.create({
      imports: [JobModule.forRoot(), ProbeModule],
      providers: [HeartbeatService],
    });
    const scheduler = app.get(SchedulerService);
    const ran = nextJobEvent(scheduler, declaredJobId('heartbeat'), 'run.succeeded');
    await app.init();
    const event = await ran;
    expect(event.run).toMatchObject({ status: 'success', output: 'beat', attempt: 1 });
    expect(app.get(Probe).callsOf('heartbeat')[0]).toMatchObject({
      payload: { beat: true },
      self: app.get(HeartbeatService),
    });
  });

  it('get a hashed id of at most 64 characters when handler:<name> is longer', async () => {
    const id = declaredJobId(LONG_HANDLER_NAME);
    expect(`handler:${LONG_HANDLER_NAME}`.length).toBeGreaterThan(64);
    expect(id).toHaveLength(64);
    expect(id).toMatch(/^handler:reports\.monthly-revenue.*~[0-9a-f]{12}$/);
    expect(declaredJobId(LONG_HANDLER_NAME)).toBe(id);
    expect(declaredJobId(`${LONG_HANDLER_NAME}2`)).not.toBe(id);
    const storage = new MemoryStorage();
    const app = await apps.init({
      imports: [JobModule.forRoot({ storage })],
      providers: [LongNameService],
    });
    expect(await app.get(SchedulerService).getJob(id)).toMatchObject({
      handlerName: LONG_HANDLER_NAME,
    });
    await app.close();
    await apps.init({ imports: [JobModule.forRoot({ storage })], providers: [LongNameService] });
    expect(await storage.listJobs()).toHaveLength(1);
  });
});
