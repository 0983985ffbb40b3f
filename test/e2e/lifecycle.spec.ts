import { afterEach, describe, expect, it } from 'vitest';
import {
  JobModule,
  MemoryStorage,
  SchedulerNotStartedError,
  SchedulerService,
  type JobModuleOptions,
} from '../../lib/index.js';
import { SlowHandler } from '../src/handlers/slow.handler.js';
import { Probe, ProbeModule } from '../src/probe.module.js';
import { TestApps, nextJobEvent } from '../utils/apps.js';

const apps = new TestApps();
afterEach(() => apps.closeAll());

/** Boots an app with the slow handler, adds a job for it and starts a run taking `ms`. */
async function startSlowRun(ms: number, options: JobModuleOptions = {}) {
  const storage = new MemoryStorage();
  const app = await apps.init({
    imports: [JobModule.forRoot({ ...options, storage }), ProbeModule],
    providers: [SlowHandler],
  });
  const scheduler = app.get(SchedulerService);
  const job = await scheduler.addJob({
    id: 'slow-job',
    handlerName: 'slow',
    payload: { ms },
    runAt: Date.now() + 3_600_000,
  });
  const started = nextJobEvent(scheduler, job.id, 'run.started');
  await scheduler.triggerJob(job.id);
  await started;
  return { app, scheduler, storage, probe: app.get(Probe) };
}

describe('lifecycle', () => {
  it('starts on bootstrap (autoStart defaults to true) and stops on close', async () => {
    const app = await apps.create({ imports: [JobModule.forRoot()] });
    const scheduler = app.get(SchedulerService);
    expect(scheduler.isStarted()).toBe(false);
    await app.init();
    expect(scheduler.isStarted()).toBe(true);
    await app.close();
    expect(scheduler.isStarted()).toBe(false);
  });

  it('stays stopped with autoStart: false until start() is called', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot({ autoStart: false })] });
    const scheduler = app.get(SchedulerService);
    expect(scheduler.isStarted()).toBe(false);
    scheduler.registerHandlerFunc('noop', () => 'ok');
    const job = await scheduler.addJob({ handlerName: 'noop', runAt: Date.now() + 60_000 });
    await expect(scheduler.triggerJob(job.id)).rejects.toBeInstanceOf(SchedulerNotStartedError);
    await scheduler.start();
    expect(scheduler.isStarted()).toBe(true);
  });

  it('close() waits for a run in flight to end, and records it', async () => {
    const { app, storage, probe } = await startSlowRun(300);
    const closing = Date.now();
    await app.close();
    expect(Date.now() - closing).toBeGreaterThanOrEqual(250);
    expect(probe.events).toEqual(['slow:started', 'slow:finished']);
    const runs = await storage.getRuns('slow-job', 10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'success', output: 'slept 300 ms' });
    expect((await storage.getJob('slow-job'))?.status).toBe('completed');
  });

  it('close() aborts a run still going after shutdownTimeout and records it failed', async () => {
    const { app, storage, probe } = await startSlowRun(10_000, { shutdownTimeout: '100ms' });
    const closing = Date.now();
    await app.close();
    expect(Date.now() - closing).toBeLessThan(2_000);
    expect(probe.events).toEqual(['slow:started', 'slow:aborted']);
    const runs = await storage.getRuns('slow-job', 10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'failed' });
    expect(runs[0].error).toMatch(/shutdownTimeout/);
    expect(runs[0].endAt).toBeInstanceOf(Date);
    const job = await storage.getJob('slow-job');
    expect(job?.status).not.toBe('running');
    expect((await storage.listJobs('running')).length).toBe(0);
  });

  it('close() of an app whose scheduler never started is fine', async () => {
    const app = await apps.init({ imports: [JobModule.forRoot({ autoStart: false })] });
    await expect(app.close()).resolves.toBeUndefined();
  });
});
