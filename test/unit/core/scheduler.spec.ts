import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HandlerNotFoundError,
  InvalidArgumentError,
  JobNotFoundError,
  JobPausedError,
  JobRunningError,
  SchedulerAlreadyStartedError,
  SchedulerNotStartedError,
} from '../../../lib/errors/index.js';
import type { JobContext } from '../../../lib/interfaces/handler.interface.js';
import {
  advance,
  deferred,
  makeScheduler,
  sleep,
  stopLettingTimePass,
} from '../../utils/scheduler-harness.js';

const T0 = new Date('2026-05-01T12:00:00.000Z');

describe('Scheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  describe('cron jobs', () => {
    it('fires a 6-field cron job at its exact seconds and records each run', async () => {
      const { scheduler } = makeScheduler();
      const seen: number[] = [];
      scheduler.registerHandlerFunc('tick', (payload, ctx) => {
        seen.push(Date.now());
        expect(payload).toEqual({ action: 'cleanup' });
        expect(ctx.attempt).toBe(1);
        return `ran at ${ctx.run.scheduledAt.toISOString()}`;
      });
      const job = await scheduler.addJob({
        name: 'cleanup',
        cron: '*/5 * * * * *',
        type: 'cron',
        handlerName: 'tick',
        payload: { action: 'cleanup' },
        maxRetry: 3,
      });
      expect(job.id).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(job.nextRunAt?.toISOString()).toBe('2026-05-01T12:00:05.000Z');
      await scheduler.start();
      await advance(15_000);
      expect(seen.map((t) => new Date(t).toISOString())).toEqual([
        '2026-05-01T12:00:05.000Z',
        '2026-05-01T12:00:10.000Z',
        '2026-05-01T12:00:15.000Z',
      ]);
      const runs = await scheduler.getRuns(job.id, 10);
      expect(runs).toHaveLength(3);
      expect(runs.map((r) => r.status)).toEqual(['success', 'success', 'success']);
      expect(runs[0]!.output).toBe('ran at 2026-05-01T12:00:15.000Z');
      expect(runs[0]!.scheduledAt.toISOString()).toBe('2026-05-01T12:00:15.000Z');
      const stored = await scheduler.getJob(job.id);
      expect(stored.status).toBe('pending');
      expect(stored.lastResult).toBe('ran at 2026-05-01T12:00:15.000Z');
      expect(stored.nextRunAt?.toISOString()).toBe('2026-05-01T12:00:20.000Z');
      expect(stored.lastRunAt?.toISOString()).toBe('2026-05-01T12:00:15.000Z');
      await scheduler.stop();
    });

    it('reads a 5-field expression as firing at second 0', async () => {
      const { scheduler } = makeScheduler();
      scheduler.registerHandlerFunc('h', () => 'ok');
      const job = await scheduler.addJob({ cron: '*/2 * * * *', handlerName: 'h' });
      expect(job.type).toBe('cron');
      expect(job.cron).toBe('*/2 * * * *');
      expect(job.nextRunAt?.toISOString()).toBe('2026-05-01T12:02:00.000Z');
    });

    it('computes the next fire from the scheduled instant, so a slow run does not drift', async () => {
      const { scheduler } = makeScheduler();
      const starts: number[] = [];
      scheduler.registerHandlerFunc('slow', async () => {
        starts.push(Date.now());
        await sleep(700);
      });
      await scheduler.addJob({ cron: '* * * * * *', handlerName: 'slow' });
      await scheduler.start();
      await advance(5_000);
      expect(starts.map((t) => t % 1000)).toEqual([0, 0, 0, 0, 0]);
      await stopLettingTimePass(scheduler);
    });

    it('never overlaps a job with itself: a fire during its run is skipped and counted', async () => {
      const { scheduler, events } = makeScheduler();
      let running = 0;
      let maxRunning = 0;
      scheduler.registerHandlerFunc('long', async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(2_500);
        running--;
      });
      const job = await scheduler.addJob({ cron: '* * * * * *', handlerName: 'long' });
      await scheduler.start();
      await advance(6_000);
      await stopLettingTimePass(scheduler);
      expect(maxRunning).toBe(1);
      expect(scheduler.metrics().firesSkipped).toBeGreaterThanOrEqual(3);
      expect(events.some((e) => e.type === 'run.skipped' && e.jobId === job.id)).toBe(true);
    });

    it('fires a daily 02:30 New York job once on the spring-forward day, right after the jump', async () => {
      vi.setSystemTime(new Date('2026-03-07T12:00:00Z'));
      const { scheduler } = makeScheduler();
      const fires: string[] = [];
      scheduler.registerHandlerFunc('nightly', () => void fires.push(new Date().toISOString()));
      await scheduler.addJob({
        cron: '0 30 2 * * *',
        timezone: 'America/New_York',
        handlerName: 'nightly',
      });
      await scheduler.start();
      await advance(3 * 24 * 3600_000);
      await scheduler.stop();
      expect(fires).toEqual([
        '2026-03-08T07:30:00.000Z', // 03:30 EDT: 02:30 did not exist that day
        '2026-03-09T06:30:00.000Z',
        '2026-03-10T06:30:00.000Z',
      ]);
    });

    it('fires a daily 01:30 New York job once on the fall-back day, though 01:30 happens twice', async () => {
      vi.setSystemTime(new Date('2026-10-31T12:00:00Z'));
      const { scheduler } = makeScheduler();
      const fires: string[] = [];
      scheduler.registerHandlerFunc('nightly', () => void fires.push(new Date().toISOString()));
      await scheduler.addJob({
        cron: '0 30 1 * * *',
        timezone: 'America/New_York',
        handlerName: 'nightly',
      });
      await scheduler.start();
      await advance(3 * 24 * 3600_000);
      await scheduler.stop();
      expect(fires).toEqual([
        '2026-11-01T05:30:00.000Z', // 01:30 EDT, the first of the two
        '2026-11-02T06:30:00.000Z',
        '2026-11-03T06:30:00.000Z',
      ]);
    });
  });

  describe('interval and once jobs', () => {
    it('fires an interval job every interval from its scheduled instants', async () => {
      const { scheduler } = makeScheduler();
      const starts: number[] = [];
      scheduler.registerHandlerFunc('beat', async () => {
        starts.push(Date.now() - T0.getTime());
        await sleep(300);
      });
      const job = await scheduler.addJob({ interval: '500ms', handlerName: 'beat' });
      expect(job.type).toBe('interval');
      expect(job.interval).toBe(500);
      await scheduler.start();
      await advance(2_100);
      await stopLettingTimePass(scheduler);
      expect(starts).toEqual([500, 1000, 1500, 2000]);
    });

    it('runs a once job at its runAt and completes it', async () => {
      const { scheduler } = makeScheduler();
      const handler = vi.fn(() => 'done');
      scheduler.registerHandlerFunc('once', handler);
      const job = await scheduler.addJob({
        runAt: new Date(T0.getTime() + 3_000),
        handlerName: 'once',
      });
      await scheduler.start();
      await advance(2_999);
      expect(handler).not.toHaveBeenCalled();
      await advance(1);
      expect(handler).toHaveBeenCalledTimes(1);
      await advance(10_000);
      const stored = await scheduler.getJob(job.id);
      expect(stored.status).toBe('completed');
      expect(stored.nextRunAt).toBeNull();
      expect(handler).toHaveBeenCalledTimes(1);
      await scheduler.stop();
    });

    it('runs a once job whose runAt has passed once, at once', async () => {
      const { scheduler } = makeScheduler();
      const handler = vi.fn();
      scheduler.registerHandlerFunc('late', handler);
      const job = await scheduler.addJob({
        type: 'once',
        runAt: '2020-01-01T00:00:00Z',
        handlerName: 'late',
      });
      expect(job.nextRunAt?.getTime()).toBe(T0.getTime());
      await scheduler.start();
      await advance(0);
      expect(handler).toHaveBeenCalledTimes(1);
      await advance(60_000);
      expect(handler).toHaveBeenCalledTimes(1);
      await scheduler.stop();
    });

    it('waits past the 2^31-1 ms timer limit for a far once job, and fires it on time', async () => {
      const { scheduler } = makeScheduler();
      const fired: number[] = [];
      scheduler.registerHandlerFunc('far', () => void fired.push(Date.now()));
      const at = T0.getTime() + 40 * 24 * 3600_000;
      await scheduler.addJob({ runAt: at, handlerName: 'far' });
      await scheduler.start();
      await advance(30 * 24 * 3600_000);
      expect(fired).toEqual([]);
      await advance(10 * 24 * 3600_000);
      expect(fired).toEqual([at]);
      await scheduler.stop();
    });
  });

  describe('executor', () => {
    it('runs at most concurrentRuns handlers at once, due work waiting in due-time order', async () => {
      const { scheduler } = makeScheduler({ concurrentRuns: 2 });
      let running = 0;
      let maxRunning = 0;
      const order: string[] = [];
      scheduler.registerHandlerFunc('work', async (payload: string) => {
        order.push(payload);
        running++;
        maxRunning = Math.max(maxRunning, running);
        await sleep(1_000);
        running--;
      });
      // Added in reverse: due order, not insertion order, decides.
      for (const [name, offset] of [
        ['e', 5],
        ['d', 4],
        ['c', 3],
        ['b', 2],
        ['a', 1],
      ] as const) {
        await scheduler.addJob({
          runAt: T0.getTime() + offset,
          handlerName: 'work',
          payload: name,
        });
      }
      await scheduler.start();
      await advance(10);
      expect(scheduler.metrics()).toMatchObject({ runningNow: 2, queuedNow: 3 });
      await advance(5_000);
      expect(maxRunning).toBe(2);
      expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
      await scheduler.stop();
    });

    it('holds a handler to its concurrency, without holding up the fires of other handlers', async () => {
      const { scheduler } = makeScheduler({ concurrentRuns: 5 });
      let slowNow = 0;
      let slowMost = 0;
      let slowDone = 0;
      const other: number[] = [];
      scheduler.registerHandlerFunc(
        'slow',
        async () => {
          slowMost = Math.max(slowMost, ++slowNow);
          await sleep(1_000);
          slowNow--;
          slowDone++;
        },
        { concurrency: 2 },
      );
      scheduler.registerHandlerFunc('other', () => void other.push(Date.now()));
      for (let i = 0; i < 5; i++) await scheduler.addJob({ runAt: T0, handlerName: 'slow' });
      // Due after every slow fire, yet not behind them: their handler is at its concurrency.
      await scheduler.addJob({ runAt: T0.getTime() + 1, handlerName: 'other' });
      await scheduler.start();
      await advance(1);
      expect(other).toHaveLength(1);
      expect(slowNow).toBe(2);
      expect(scheduler.metrics().queuedNow).toBe(3);
      await advance(3_000);
      expect(slowDone).toBe(5);
      expect(slowMost).toBe(2);
      expect(() =>
        scheduler.registerHandlerFunc('bad', () => undefined, { concurrency: 0 }),
      ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS', option: 'concurrency' }));
      expect(scheduler.hasHandler('bad')).toBe(false);
      await scheduler.stop();
    });

    it('times out a handler that ignores its signal: records it failed, frees the slot, ignores the late result', async () => {
      const { scheduler, events } = makeScheduler({ concurrentRuns: 1, jobTimeout: '1s' });
      let signal: AbortSignal | undefined;
      scheduler.registerHandlerFunc('stuck', async (_p, ctx: JobContext) => {
        signal = ctx.signal;
        await sleep(5_000);
        return 'too late';
      });
      const other = vi.fn(() => 'other ran');
      scheduler.registerHandlerFunc('other', other);
      const stuck = await scheduler.addJob({ runAt: T0.getTime(), handlerName: 'stuck' });
      await scheduler.addJob({ runAt: T0.getTime() + 1, handlerName: 'other' });
      await scheduler.start();
      await advance(999);
      expect(other).not.toHaveBeenCalled();
      await advance(2);
      expect(signal?.aborted).toBe(true);
      expect(other).toHaveBeenCalledTimes(1);
      await advance(10_000);
      const [run] = await scheduler.getRuns(stuck.id, 5);
      expect(run!.status).toBe('failed');
      expect(run!.error).toMatch(/JobTimeoutError: .*timed out.*jobTimeout \(1000 ms\)/);
      expect(run!.output).toBe('');
      expect(run!.duration).toBe(1000);
      expect((await scheduler.getJob(stuck.id)).status).toBe('failed');
      expect(scheduler.metrics()).toMatchObject({ runsTimedOut: 1, runningNow: 0 });
      expect(events.filter((e) => e.type === 'run.timed_out')).toHaveLength(1);
      await scheduler.stop();
    });

    it('turns every kind of thrown value into readable error text', async () => {
      const { scheduler } = makeScheduler({ concurrentRuns: 10 });
      const circular: Record<string, unknown> = { kind: 'circular' };
      circular.self = circular;
      const throwers: Record<string, () => unknown> = {
        string: () => {
          throw 'a plain string';
        },
        undefined: () => {
          throw undefined;
        },
        circular: async () => {
          throw circular;
        },
        sync: () => {
          throw new RangeError('sync failure');
        },
        rejected: () => Promise.reject(new Error('async failure')),
      };
      const ids: Record<string, string> = {};
      for (const [name, fn] of Object.entries(throwers)) {
        scheduler.registerHandlerFunc(name, fn);
        ids[name] = (await scheduler.addJob({ runAt: T0, handlerName: name })).id;
      }
      await scheduler.start();
      await advance(10);
      const errorOf = async (name: string) => (await scheduler.getRuns(ids[name]!, 1))[0]!.error;
      expect(await errorOf('string')).toBe('a plain string');
      expect(await errorOf('undefined')).toBe('undefined was thrown');
      expect(await errorOf('circular')).toContain("kind: 'circular'");
      expect(await errorOf('sync')).toBe('RangeError: sync failure');
      expect(await errorOf('rejected')).toBe('Error: async failure');
      for (const id of Object.values(ids)) {
        expect((await scheduler.getRuns(id, 5)).map((r) => r.status)).toEqual(['failed']);
      }
      await scheduler.stop();
    });

    it('JSON-encodes non-string output and bounds it to maxOutputSize', async () => {
      const { scheduler } = makeScheduler({ maxOutputSize: 100 });
      scheduler.registerHandlerFunc('obj', () => ({ ok: true, n: 3 }));
      scheduler.registerHandlerFunc('big', () => 'x'.repeat(10_000));
      const a = await scheduler.addJob({ runAt: T0, handlerName: 'obj' });
      const b = await scheduler.addJob({ runAt: T0, handlerName: 'big' });
      await scheduler.start();
      await advance(10);
      expect((await scheduler.getRuns(a.id, 1))[0]!.output).toBe('{"ok":true,"n":3}');
      const big = (await scheduler.getRuns(b.id, 1))[0]!.output;
      expect(Buffer.byteLength(big)).toBeLessThanOrEqual(100);
      expect(big).toMatch(/truncated/);
      await scheduler.stop();
    });

    it('lets a job whose handler is not registered wait, recording no run, until one is', async () => {
      const first = makeScheduler();
      first.scheduler.registerHandlerFunc('gone', () => 'ok');
      const once = await first.scheduler.addJob({
        runAt: T0.getTime() + 1000,
        handlerName: 'gone',
      });
      const tick = await first.scheduler.addJob({ cron: '* * * * * *', handlerName: 'gone' });
      const { Scheduler } = await import('../../../lib/scheduler.js');
      const { NopLogger } = await import('../../../lib/loggers/nop-logger.js');
      const logger = new NopLogger();
      const warn = vi.spyOn(logger, 'warn');
      const error = vi.spyOn(logger, 'error');
      // The next deploy: the handler's class was deleted from the code.
      const second = new Scheduler(first.storage, { logger });
      await second.start();
      await advance(3_000);
      expect(await second.getRuns(once.id, 5)).toEqual([]);
      expect(await second.getRuns(tick.id, 5)).toEqual([]);
      expect((await second.getJob(once.id)).status).toBe('pending');
      expect(second.metrics().jobsWithoutHandler).toBe(2);
      expect((await second.health()).jobsWithoutHandler).toBe(2);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/no handler "gone" is registered.*registerHandlerFunc\('gone'/),
      );
      expect(error).not.toHaveBeenCalled();
      await expect(second.triggerJob(once.id)).rejects.toBeInstanceOf(HandlerNotFoundError);
      // Registered again: each job fires at once (its missed fires as one, per 'fire-once').
      const ran: string[] = [];
      second.registerHandlerFunc('gone', (_p, ctx) => void ran.push(ctx.job.id));
      expect(second.metrics().jobsWithoutHandler).toBe(0);
      await advance(0);
      expect(ran.sort()).toEqual([once.id, tick.id].sort());
      expect((await second.getJob(once.id)).status).toBe('completed');
      await advance(2_000);
      expect(ran.filter((id) => id === tick.id)).toHaveLength(3);
      expect(warn).toHaveBeenCalledTimes(1);
      await second.stop();
    });

    it('lets a job wait for its handler when it is paused meanwhile: resumed, it still waits', async () => {
      const first = makeScheduler();
      first.scheduler.registerHandlerFunc('late', () => 'ok');
      const job = await first.scheduler.addJob({ interval: '1s', handlerName: 'late' });
      const { Scheduler } = await import('../../../lib/scheduler.js');
      const second = new Scheduler(first.storage, { logger: first.scheduler.options.logger });
      await second.start();
      expect(second.metrics().jobsWithoutHandler).toBe(1);
      await second.pauseJob(job.id);
      expect(second.metrics().jobsWithoutHandler).toBe(0);
      await second.resumeJob(job.id);
      expect(second.metrics().jobsWithoutHandler).toBe(1);
      let runs = 0;
      second.registerHandlerFunc('late', () => void runs++);
      await advance(1_000);
      expect(runs).toBe(1);
      await second.stop();
    });
  });

  describe('retries', () => {
    it('retries after retryDelay until it succeeds, then resets retryCount', async () => {
      const { scheduler, events } = makeScheduler({ retryDelay: '5s' });
      let calls = 0;
      const attempts: number[] = [];
      scheduler.registerHandlerFunc('flaky', (_p, ctx: JobContext) => {
        attempts.push(ctx.attempt);
        if (++calls < 3) throw new Error(`failure ${calls}`);
        return 'finally';
      });
      const job = await scheduler.addJob({ runAt: T0, handlerName: 'flaky', maxRetry: 3 });
      await scheduler.start();
      await advance(0);
      let stored = await scheduler.getJob(job.id);
      expect(stored).toMatchObject({
        status: 'pending',
        retryCount: 1,
        lastResult: 'Error: failure 1',
      });
      expect(stored.nextRunAt?.getTime()).toBe(T0.getTime() + 5_000);
      await advance(4_999);
      expect(attempts).toEqual([1]);
      await advance(1);
      expect(attempts).toEqual([1, 2]);
      await advance(5_000);
      expect(attempts).toEqual([1, 2, 3]);
      stored = await scheduler.getJob(job.id);
      expect(stored).toMatchObject({ status: 'completed', retryCount: 0, lastResult: 'finally' });
      const runs = await scheduler.getRuns(job.id, 10);
      expect(runs.map((r) => [r.attempt, r.status])).toEqual([
        [3, 'success'],
        [2, 'failed'],
        [1, 'failed'],
      ]);
      expect(runs.every((r) => r.scheduledAt.getTime() === T0.getTime())).toBe(true);
      expect(scheduler.metrics()).toMatchObject({
        runsStarted: 3,
        runsFailed: 2,
        runsRetried: 2,
        runsSucceeded: 1,
      });
      expect(events.filter((e) => e.type === 'run.retrying')).toHaveLength(2);
      await scheduler.stop();
    });

    it('fails a once job when its retries run out', async () => {
      const { scheduler } = makeScheduler({ retryDelay: 1000 });
      scheduler.registerHandlerFunc('broken', () => {
        throw new Error('always');
      });
      const job = await scheduler.addJob({ runAt: T0, handlerName: 'broken', maxRetry: 2 });
      await scheduler.start();
      await advance(10_000);
      const stored = await scheduler.getJob(job.id);
      expect(stored.status).toBe('failed');
      expect(stored.retryCount).toBe(2);
      expect(await scheduler.getRuns(job.id, 10)).toHaveLength(3);
      await scheduler.stop();
    });

    it('puts a cron job back on its schedule when its retries run out', async () => {
      const { scheduler } = makeScheduler({ retryDelay: 1000 });
      const starts: number[] = [];
      scheduler.registerHandlerFunc('broken', () => {
        starts.push(Date.now() - T0.getTime());
        throw new Error('always');
      });
      const job = await scheduler.addJob({
        cron: '*/10 * * * * *',
        handlerName: 'broken',
        maxRetry: 1,
      });
      await scheduler.start();
      await advance(20_500);
      expect(starts).toEqual([10_000, 11_000, 20_000]);
      const stored = await scheduler.getJob(job.id);
      expect(stored.status).toBe('pending');
      await scheduler.stop();
    });
  });

  describe('run policies of a job', () => {
    it('times a run out by its job own timeout, others by jobTimeout', async () => {
      const { scheduler } = makeScheduler({ jobTimeout: '1m' });
      scheduler.registerHandlerFunc('hang', () => new Promise(() => {}));
      const quick = await scheduler.addJob({ runAt: T0, handlerName: 'hang', timeout: '2s' });
      const slow = await scheduler.addJob({ runAt: T0, handlerName: 'hang' });
      await scheduler.start();
      await advance(2_000);
      expect((await scheduler.getRuns(quick.id, 1))[0]).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(
          /JobTimeoutError.*2000 ms|JobTimeoutError.*2s|JobTimeoutError/,
        ),
      });
      expect((await scheduler.getRuns(slow.id, 1))[0]!.status).toBe('running');
      await advance(58_000);
      expect((await scheduler.getRuns(slow.id, 1))[0]!.status).toBe('failed');
      await scheduler.stop();
    });

    it('spaces retries by the job backoff: doubling, capped', async () => {
      const { scheduler } = makeScheduler({ retryDelay: '1m' });
      const tries: number[] = [];
      scheduler.registerHandlerFunc('flaky', () => {
        tries.push(Date.now() - T0.getTime());
        throw new Error('down');
      });
      await scheduler.addJob({
        runAt: T0,
        handlerName: 'flaky',
        maxRetry: 4,
        retryDelay: '1s',
        backoff: 'exponential',
        maxRetryDelay: '5s',
      });
      await scheduler.start();
      await advance(20_000);
      expect(tries).toEqual([0, 1_000, 3_000, 7_000, 12_000]);
      await scheduler.stop();
    });
  });

  describe('management', () => {
    it('triggers a job now, and refuses when stopped, paused or already running', async () => {
      const { scheduler } = makeScheduler();
      const gate = deferred();
      scheduler.registerHandlerFunc('gate', () => gate.promise);
      const job = await scheduler.addJob({ cron: '0 0 0 1 1 *', handlerName: 'gate' });
      await expect(scheduler.triggerJob(job.id)).rejects.toBeInstanceOf(SchedulerNotStartedError);
      await scheduler.start();
      await expect(scheduler.triggerJob('missing')).rejects.toBeInstanceOf(JobNotFoundError);
      await scheduler.triggerJob(job.id);
      await advance(0);
      expect((await scheduler.getJob(job.id)).status).toBe('running');
      const running = await scheduler.triggerJob(job.id).catch((e: unknown) => e);
      expect(running).toBeInstanceOf(JobRunningError);
      expect((running as JobRunningError).code).toBe('JOB_RUNNING');
      expect((running as Error).message).toContain(job.id);
      gate.resolve();
      await advance(0);
      expect((await scheduler.getJob(job.id)).status).toBe('pending');
      await scheduler.pauseJob(job.id);
      await expect(scheduler.triggerJob(job.id)).rejects.toBeInstanceOf(JobPausedError);
      const runs = await scheduler.getRuns(job.id, 5);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.status).toBe('success');
      await scheduler.stop();
    });

    it('frees a job whose fire waited for a slot when it is paused: resumed, it runs again', async () => {
      const { scheduler } = makeScheduler({ concurrentRuns: 1 });
      scheduler.registerHandlerFunc('hog', () => sleep(5_000));
      const ran = vi.fn(() => 'ran');
      scheduler.registerHandlerFunc('waiter', ran);
      await scheduler.addJob({ runAt: T0, handlerName: 'hog' });
      const waiter = await scheduler.addJob({ interval: '1s', handlerName: 'waiter' });
      await scheduler.start();
      await advance(1_000);
      expect(scheduler.metrics().queuedNow).toBe(1);
      await scheduler.pauseJob(waiter.id);
      await scheduler.resumeJob(waiter.id);
      // Not "already running": the fire that waited was dropped by the pause.
      await scheduler.triggerJob(waiter.id);
      await advance(4_100); // the hog ends at 5 s: the trigger's run, then the interval's
      const afterHog = ran.mock.calls.length;
      expect(afterHog).toBeGreaterThanOrEqual(1);
      await advance(2_000);
      expect(ran.mock.calls.length).toBe(afterHog + 2);
      await stopLettingTimePass(scheduler);
    });

    it('pauses and resumes a job', async () => {
      const { scheduler, events } = makeScheduler();
      const handler = vi.fn();
      scheduler.registerHandlerFunc('h', handler);
      const job = await scheduler.addJob({ interval: '1s', handlerName: 'h' });
      await scheduler.start();
      await advance(1_000);
      expect(handler).toHaveBeenCalledTimes(1);
      await scheduler.pauseJob(job.id);
      expect(await scheduler.getJob(job.id)).toMatchObject({ status: 'paused', nextRunAt: null });
      await advance(5_000);
      expect(handler).toHaveBeenCalledTimes(1);
      await scheduler.resumeJob(job.id);
      const resumed = await scheduler.getJob(job.id);
      expect(resumed.status).toBe('pending');
      expect(resumed.nextRunAt?.getTime()).toBe(Date.now() + 1_000);
      await advance(1_000);
      expect(handler).toHaveBeenCalledTimes(2);
      expect(events.map((e) => e.type)).toContain('job.paused');
      expect(events.map((e) => e.type)).toContain('job.resumed');
      await scheduler.stop();
    });

    it('never fires a removed job again, and forgets it', async () => {
      const { scheduler } = makeScheduler();
      const handler = vi.fn();
      scheduler.registerHandlerFunc('h', handler);
      const job = await scheduler.addJob({ interval: 1000, handlerName: 'h' });
      await scheduler.start();
      await advance(1_000);
      await scheduler.removeJob(job.id);
      await advance(5_000);
      expect(handler).toHaveBeenCalledTimes(1);
      await expect(scheduler.getJob(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
      await expect(scheduler.removeJob(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
      expect(await scheduler.listJobs()).toEqual([]);
      await scheduler.stop();
    });

    it('rejects a job for an unregistered handler and stores nothing', async () => {
      const { scheduler } = makeScheduler();
      const err = await scheduler
        .addJob({ cron: '* * * * * *', handlerName: 'nobody' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HandlerNotFoundError);
      expect((err as Error).message).toContain('"nobody"');
      expect(await scheduler.listJobs()).toEqual([]);
    });

    it('rejects a bad getRuns limit', async () => {
      const { scheduler } = makeScheduler();
      expect(() => scheduler.getRuns('x', 0)).toThrow(InvalidArgumentError);
      expect(() => scheduler.getRuns('x', 1.5)).toThrow(/"limit".*1\.5/);
    });

    it("hands the handler copies: mutating ctx.job or ctx.run's dates changes nothing stored", async () => {
      const { scheduler } = makeScheduler();
      scheduler.registerHandlerFunc('vandal', (_p, ctx: JobContext) => {
        ctx.run.startAt.setTime(0);
        ctx.run.scheduledAt.setTime(0);
        ctx.job.createdAt.setTime(0);
        expect(Object.isFrozen(ctx.run)).toBe(true);
        return 'ok';
      });
      const twin = vi.fn();
      scheduler.registerHandlerFunc('twin', twin);
      const a = await scheduler.addJob({ runAt: T0, handlerName: 'vandal' });
      const b = await scheduler.addJob({ runAt: T0, handlerName: 'twin' });
      await scheduler.start();
      await advance(0);
      for (const id of [a.id, b.id]) {
        const [run] = await scheduler.getRuns(id, 1);
        expect(run!.startAt.getTime()).toBe(T0.getTime());
        expect(run!.scheduledAt.getTime()).toBe(T0.getTime());
        expect((await scheduler.getJob(id)).createdAt.getTime()).toBe(T0.getTime());
      }
      await scheduler.stop();
    });

    it('ensureJob creates a declared job once, even when two instances race to create it', async () => {
      const { scheduler, storage } = makeScheduler();
      const { Scheduler } = await import('../../../lib/scheduler.js');
      const other = new Scheduler(storage, { logger: scheduler.options.logger });
      for (const s of [scheduler, other]) s.registerHandlerFunc('h', () => 'ok');
      const definition = { id: 'handler:h', cron: '0 0 * * * *', handlerName: 'h' };
      const [a, b] = await Promise.all([
        scheduler.ensureJob(definition),
        other.ensureJob(definition),
      ]);
      expect(a.id).toBe('handler:h');
      expect(b.id).toBe('handler:h');
      expect(await storage.listJobs()).toHaveLength(1);
      const changed = await other.ensureJob({ ...definition, cron: '0 30 * * * *' });
      expect(changed.cron).toBe('0 30 * * * *');
      expect((await storage.getJob('handler:h'))!.cron).toBe('0 30 * * * *');
    });

    it('returns copies: changing a returned job changes nothing stored', async () => {
      const { scheduler } = makeScheduler();
      scheduler.registerHandlerFunc('h', () => 'ok');
      const job = await scheduler.addJob({
        id: 'fixed-id',
        interval: '1m',
        handlerName: 'h',
        payload: { n: 1 },
      });
      job.name = 'changed';
      job.nextRunAt!.setTime(0);
      const again = await scheduler.getJob('fixed-id');
      expect(again.name).toBe('h');
      expect(again.nextRunAt?.getTime()).toBe(T0.getTime() + 60_000);
    });
  });

  describe('lifecycle', () => {
    it('refuses a second start, and a stop is idempotent', async () => {
      const { scheduler } = makeScheduler();
      await scheduler.start();
      expect(scheduler.isStarted()).toBe(true);
      await expect(scheduler.start()).rejects.toBeInstanceOf(SchedulerAlreadyStartedError);
      await scheduler.stop();
      await scheduler.stop();
      expect(scheduler.isStarted()).toBe(false);
    });

    it('starts from what is stored: jobs held before start that are gone or changed are taken as stored', async () => {
      const { scheduler, storage } = makeScheduler();
      const payloads: unknown[] = [];
      scheduler.registerHandlerFunc('work', (payload) => void payloads.push(payload));
      const runAt = new Date(T0.getTime() + 1_000);
      const kept = await scheduler.addJob({ runAt, handlerName: 'work', payload: { v: 1 } });
      const gone = await scheduler.addJob({ runAt, handlerName: 'work', payload: { v: 2 } });
      // Another process changes the storage before this one starts.
      await storage.deleteJob(gone.id);
      const stored = (await storage.getJob(kept.id))!;
      await storage.updateJob({ ...stored, payload: { v: 3 }, version: stored.version + 1 });
      await scheduler.start();
      expect(scheduler.metrics().scheduledJobs).toBe(1);
      await expect(scheduler.triggerJob(gone.id)).rejects.toBeInstanceOf(JobNotFoundError);
      await advance(1_000);
      expect(payloads).toEqual([{ v: 3 }]);
      await scheduler.stop();
      // Restarted after a stop, the same holds: the table is what is stored.
      await storage.updateJob({
        ...(await storage.getJob(kept.id))!,
        status: 'pending',
        runAt: new Date(T0.getTime() + 5_000),
        nextRunAt: new Date(T0.getTime() + 5_000),
        payload: { v: 4 },
      });
      await scheduler.start();
      await advance(5_000);
      expect(payloads).toEqual([{ v: 3 }, { v: 4 }]);
      await scheduler.stop();
    });

    it('stop waits for runs in flight to end', async () => {
      const { scheduler } = makeScheduler({ shutdownTimeout: '10s' });
      scheduler.registerHandlerFunc('work', async () => {
        await sleep(2_000);
        return 'finished';
      });
      const job = await scheduler.addJob({ runAt: T0, handlerName: 'work' });
      await scheduler.start();
      await advance(0);
      let stopped = false;
      const stopping = scheduler.stop().then(() => (stopped = true));
      await advance(1_999);
      expect(stopped).toBe(false);
      await advance(1);
      await stopping;
      const [run] = await scheduler.getRuns(job.id, 1);
      expect(run).toMatchObject({ status: 'success', output: 'finished' });
    });

    it('stop aborts runs still going after shutdownTimeout and records them failed', async () => {
      const { scheduler } = makeScheduler({ shutdownTimeout: '1s' });
      let signal: AbortSignal | undefined;
      scheduler.registerHandlerFunc('forever', (_p, ctx: JobContext) => {
        signal = ctx.signal;
        return new Promise(() => {});
      });
      const job = await scheduler.addJob({ runAt: T0, handlerName: 'forever' });
      await scheduler.start();
      await advance(0);
      const stopping = scheduler.stop();
      await advance(1_000);
      await stopping;
      expect(signal?.aborted).toBe(true);
      const [run] = await scheduler.getRuns(job.id, 1);
      expect(run!.status).toBe('failed');
      expect(run!.error).toMatch(/RunAbortedError: .*shutdownTimeout \(1000 ms\)/);
      expect((await scheduler.getJob(job.id)).status).not.toBe('running');
      expect(scheduler.metrics().runningNow).toBe(0);
    });

    it('recovers a job left running by a process that died', async () => {
      const { scheduler, storage } = makeScheduler();
      scheduler.registerHandlerFunc('h', () => new Promise(() => {}));
      const job = await scheduler.addJob({ cron: '*/10 * * * * *', handlerName: 'h' });
      await scheduler.start();
      await advance(10_000);
      expect((await storage.getJob(job.id))!.status).toBe('running');
      // The process "dies": a new scheduler opens the same storage.
      const { Scheduler } = await import('../../../lib/scheduler.js');
      const next = new Scheduler(storage, { logger: scheduler.options.logger });
      next.registerHandlerFunc('h', () => 'ok');
      await next.start();
      const [stale] = await next.getRuns(job.id, 1);
      expect(stale!.status).toBe('failed');
      expect(stale!.error).toContain('stopped before the run ended');
      expect((await next.getJob(job.id)).status).toBe('pending');
      await advance(10_000);
      const runs = await next.getRuns(job.id, 5);
      expect(runs.map((r) => r.status)).toEqual(['success', 'failed']);
      await next.stop();
    });

    it('fails a once job without retries whose run was lost, and retries one that has retries', async () => {
      const { scheduler, storage } = makeScheduler();
      scheduler.registerHandlerFunc('h', () => new Promise(() => {}));
      const plain = await scheduler.addJob({ runAt: T0, handlerName: 'h' });
      const retried = await scheduler.addJob({ runAt: T0, handlerName: 'h', maxRetry: 2 });
      await scheduler.start();
      await advance(0);
      const { Scheduler } = await import('../../../lib/scheduler.js');
      const next = new Scheduler(storage, { logger: scheduler.options.logger });
      next.registerHandlerFunc('h', () => 'second life');
      await next.start();
      await advance(0);
      expect(await next.getJob(plain.id)).toMatchObject({ status: 'failed', nextRunAt: null });
      expect((await next.getJob(plain.id)).lastResult).toContain('RunAbortedError');
      expect(await next.getJob(retried.id)).toMatchObject({ status: 'completed', retryCount: 0 });
      const runs = await next.getRuns(retried.id, 5);
      expect(runs.map((r) => [r.attempt, r.status])).toEqual([
        [2, 'success'],
        [1, 'failed'],
      ]);
      await next.stop();
    });

    it('fires once for all fires missed while stopped', async () => {
      const { scheduler } = makeScheduler();
      const handler = vi.fn();
      scheduler.registerHandlerFunc('h', handler);
      await scheduler.addJob({ cron: '* * * * * *', handlerName: 'h' });
      await advance(10_000);
      await scheduler.start();
      await advance(0);
      expect(handler).toHaveBeenCalledTimes(1);
      await advance(1_000);
      expect(handler).toHaveBeenCalledTimes(2);
      await scheduler.stop();
    });
  });

  describe('metrics and events', () => {
    it('counts runs and emits lifecycle events with job and run ids', async () => {
      const { scheduler, events } = makeScheduler();
      scheduler.registerHandlerFunc('ok', () => 'fine');
      const job = await scheduler.addJob({ runAt: T0, handlerName: 'ok' });
      await scheduler.start();
      await advance(0);
      expect(scheduler.metrics()).toMatchObject({
        runsStarted: 1,
        runsSucceeded: 1,
        runsFailed: 0,
        runningNow: 0,
        queuedNow: 0,
      });
      const types = events.map((e) => e.type);
      expect(types).toEqual(['job.added', 'run.started', 'run.succeeded']);
      const done = events[2]!;
      expect(done.jobId).toBe(job.id);
      expect(done.run?.status).toBe('success');
      expect(done.runId).toBe(done.run?.id);
      await scheduler.stop();
    });
  });
});
