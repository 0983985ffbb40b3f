import { config } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobEvent } from '../../../lib/interfaces/job-event.interface.js';
import { advance, makeScheduler } from '../../utils/scheduler-harness.js';

const T0 = new Date('2026-05-01T12:00:00.000Z');

describe('Scheduler events$', () => {
  const reported: unknown[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    // rxjs reports an error thrown by a subscriber asynchronously; capture it instead of crashing.
    config.onUnhandledError = (err) => reported.push(err);
  });
  afterEach(() => {
    config.onUnhandledError = null;
    reported.length = 0;
    vi.useRealTimers();
  });

  it('carries every lifecycle event with job id, run id and error', async () => {
    const { scheduler, events } = makeScheduler({ retryDelay: 1000, jobTimeout: '1s' });
    scheduler.registerHandlerFunc('flaky', (_p, ctx) => {
      if (ctx.attempt === 1) throw new Error('first try fails');
      return 'ok';
    });
    scheduler.registerHandlerFunc('stuck', () => new Promise(() => {}));
    const flaky = await scheduler.addJob({ runAt: T0, handlerName: 'flaky', maxRetry: 1 });
    const stuck = await scheduler.addJob({ interval: '10s', handlerName: 'stuck' });
    await scheduler.pauseJob(stuck.id);
    await scheduler.resumeJob(stuck.id);
    await scheduler.start();
    await advance(12_000);
    await scheduler.removeJob(stuck.id);
    const of = (jobId: string) => events.filter((e) => e.jobId === jobId).map((e) => e.type);
    expect(of(flaky.id)).toEqual([
      'job.added',
      'run.started',
      'run.retrying',
      'run.started',
      'run.succeeded',
    ]);
    expect(of(stuck.id)).toEqual([
      'job.added',
      'job.paused',
      'job.resumed',
      'run.started',
      'run.timed_out',
      'run.failed',
      'job.removed',
    ]);
    const retrying = events.find((e) => e.type === 'run.retrying') as JobEvent;
    expect(retrying.error).toBe('Error: first try fails');
    expect(retrying.runId).toBe(retrying.run?.id);
    const timedOut = events.find((e) => e.type === 'run.timed_out') as JobEvent;
    expect(timedOut.error).toMatch(/timed out/);
    await scheduler.stop();
  });

  it('goes on when a subscriber throws: runs complete and other subscribers get every event', async () => {
    const { scheduler, events } = makeScheduler();
    scheduler.events$.subscribe(() => {
      throw new Error('a broken subscriber');
    });
    scheduler.registerHandlerFunc('h', () => 'ok');
    const job = await scheduler.addJob({ interval: '1s', handlerName: 'h' });
    await scheduler.start();
    await advance(3_000);
    expect(reported.map((e) => (e as Error).message)).toContain('a broken subscriber');
    expect(events.filter((e) => e.type === 'run.succeeded')).toHaveLength(3);
    expect((await scheduler.getRuns(job.id, 10)).map((r) => r.status)).toEqual([
      'success',
      'success',
      'success',
    ]);
    await scheduler.stop();
  });
});
