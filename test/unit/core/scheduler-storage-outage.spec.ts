/**
 * The scheduler on a storage that fails, hangs or is slow (fake timers, an in-memory storage): what
 * a fire whose start could not be written becomes, what a run's time-out counts, and what is logged.
 * The same against real servers, with real connection faults: test/integration/faults.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../../lib/scheduler.js';
import type { MisfirePolicy } from '../../../lib/interfaces/job.interface.js';
import type { Job } from '../../../lib/interfaces/job.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { advance, sleep } from '../../utils/scheduler-harness.js';

const T0 = Date.UTC(2026, 4, 1, 12, 0, 0);
const at = (seconds: number): number => T0 + seconds * 1_000;

/** A MemoryStorage whose calls fail while `down`, take `latency` ms each, or never answer while `hung`. */
class FaultyStorage extends MemoryStorage {
  down = false;
  hung = false;
  latency = 0;
  /** Runs stored, then the answer lost (the write landed, the caller saw an error): how many more. */
  loseCreateRunAnswers = 0;
  failedCalls = 0;

  private async gate(): Promise<void> {
    if (this.latency > 0) await sleep(this.latency);
    if (this.hung) await new Promise(() => undefined);
    if (this.down) {
      this.failedCalls++;
      throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    }
  }

  override async updateJob(job: Job): Promise<void> {
    await this.gate();
    return super.updateJob(job);
  }

  override async createRun(run: Run): Promise<void> {
    await this.gate();
    await super.createRun(run);
    if (this.loseCreateRunAnswers > 0) {
      this.loseCreateRunAnswers--;
      throw new Error('Connection terminated unexpectedly');
    }
  }

  override async updateRun(run: Run): Promise<void> {
    await this.gate();
    return super.updateRun(run);
  }
}

describe('Scheduler on a failing storage', () => {
  let storage: FaultyStorage;
  let logger: NopLogger;
  let scheduler: Scheduler;

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    storage = new FaultyStorage();
    logger = new NopLogger();
  });

  afterEach(async () => {
    storage.down = false;
    storage.hung = false;
    const stopping = scheduler.stop();
    await advance(60_000);
    await stopping;
    vi.useRealTimers();
  });

  function newScheduler(options: ConstructorParameters<typeof Scheduler>[1] = {}): Scheduler {
    scheduler = new Scheduler(storage, { logger, retryDelay: '5s', ...options });
    return scheduler;
  }

  /** A started scheduler with a job every second of `policy` (`maxMisfires` 3) running `handler`. */
  async function everySecond(policy: MisfirePolicy, handler: () => string = () => 'ok') {
    const s = newScheduler();
    s.registerHandlerFunc('tick', handler);
    const job = await s.addJob({
      cron: '* * * * * *',
      handlerName: 'tick',
      misfirePolicy: policy,
      maxMisfires: 3,
    });
    await s.start();
    return job;
  }

  /** The instants of the fires that ran, per job, from the runs stored. */
  async function firesRan(job: Job): Promise<number[]> {
    const runs = await storage.getRuns(job.id, 1_000);
    return runs
      .filter((run) => run.status === 'success')
      .map((run) => run.scheduledAt.getTime())
      .sort((a, b) => a - b);
  }

  it('a fire whose start write failed is tried again at once and runs on time, once, as its own instant', async () => {
    const s = newScheduler();
    s.registerHandlerFunc('tick', () => 'ok');
    const job = await s.addJob({ cron: '* * * * * *', handlerName: 'tick' });
    await s.start();
    await advance(900);
    storage.down = true; // the fire at 1 s fails its start
    await advance(220);
    expect(storage.failedCalls).toBeGreaterThanOrEqual(2);
    storage.down = false;
    await advance(2_000);
    expect(await firesRan(job)).toStrictEqual([at(1), at(2), at(3)]);
    const [, , first] = await storage.getRuns(job.id, 10);
    expect(first!.startAt.getTime() - at(1)).toBeLessThan(1_000);
    expect(s.metrics()).toMatchObject({ runsStarted: 3, firesSkipped: 0, firesMissed: 0 });
  });

  describe('down for 10 s: each job does what its misfire policy says with the missed fires', () => {
    async function outage(policy: MisfirePolicy) {
      const job = await everySecond(policy);
      await advance(1_500);
      storage.down = true; // from 1.5 s to 11.5 s
      await advance(10_000);
      storage.down = false;
      await advance(5_000);
      const ran = await firesRan(job);
      return { during: ran.filter((t) => t > at(1.5) && t < at(11.5)), ran };
    }

    it("'fire-once': the first missed fire runs once, late; then the regular ones", async () => {
      const { during, ran } = await outage('fire-once');
      expect(during).toStrictEqual([at(2)]);
      expect(ran.filter((t) => t >= at(13))).toStrictEqual([at(13), at(14), at(15), at(16)]);
    });

    it("'skip': none of the missed fires runs", async () => {
      const { during, ran } = await outage('skip');
      // 11 s was due 0.5 s before the storage came back: within misfireThreshold, it runs on time.
      expect(during.filter((t) => t < at(11))).toStrictEqual([]);
      expect(ran.filter((t) => t >= at(12))).toStrictEqual([
        at(12),
        at(13),
        at(14),
        at(15),
        at(16),
      ]);
      expect(scheduler.metrics().firesMissed).toBeGreaterThanOrEqual(1);
    });

    it("'fire-all': the first maxMisfires missed fires run, one after the other", async () => {
      const { during, ran } = await outage('fire-all');
      expect(during).toStrictEqual([at(2), at(3), at(4)]);
      expect(ran.filter((t) => t >= at(13))).toStrictEqual([at(13), at(14), at(15), at(16)]);
    });

    it('the outage is logged once (warn) and its end once (log), whatever failed', async () => {
      const warn = vi.spyOn(logger, 'warn');
      const log = vi.spyOn(logger, 'log');
      const error = vi.spyOn(logger, 'error');
      const s = newScheduler();
      s.registerHandlerFunc('tick', () => 'ok');
      for (let i = 0; i < 20; i++) await s.addJob({ cron: '* * * * * *', handlerName: 'tick' });
      await s.start();
      await advance(1_500);
      storage.down = true;
      await advance(10_000);
      storage.down = false;
      await advance(8_000);
      expect(storage.failedCalls).toBeGreaterThan(200);
      const lines = (spy: typeof warn): string[] =>
        spy.mock.calls.map((args) => String((args as unknown[])[0]));
      expect(lines(warn).map((line) => line.slice(0, 14))).toStrictEqual(['Storage fault:']);
      expect(lines(log).filter((line) => line.startsWith('Storage recovered'))).toHaveLength(1);
      expect(error).not.toHaveBeenCalled();
    });
  });

  describe("while a run's records cannot be written for 5 s, the job's fires due meanwhile are judged by its misfire policy", () => {
    async function slowEnd(policy: MisfirePolicy) {
      let first = true;
      const job = await everySecond(policy, () => {
        // The storage goes away as the first run ends: its records wait until 6.5 s.
        if (first) storage.down = true;
        first = false;
        return 'ok';
      });
      await advance(1_500);
      await advance(5_000);
      storage.down = false;
      await advance(5_000);
      const ran = await firesRan(job);
      return { during: ran.filter((t) => t > at(1) && t < at(6.5)), ran };
    }

    it("'fire-once': the first of them runs once the records are written", async () => {
      const { during, ran } = await slowEnd('fire-once');
      expect(during).toStrictEqual([at(2)]);
      expect(ran.filter((t) => t >= at(8))).toStrictEqual([at(8), at(9), at(10), at(11)]);
    });

    it("'skip': none of them runs", async () => {
      const { during, ran } = await slowEnd('skip');
      expect(during).toStrictEqual([]);
      expect(ran.filter((t) => t >= at(8))).toStrictEqual([at(8), at(9), at(10), at(11)]);
    });

    it("'fire-all': the first maxMisfires of them run, one after the other, then the schedule", async () => {
      const { during, ran } = await slowEnd('fire-all');
      expect(during).toStrictEqual([at(2), at(3), at(4)]);
      expect(ran.filter((t) => t >= at(8))).toStrictEqual([at(8), at(9), at(10), at(11)]);
    });
  });

  it("a fire that falls due while the job's last run is still being started follows it, rather than being skipped", async () => {
    const s = newScheduler();
    s.registerHandlerFunc('tick', () => {
      storage.latency = 0; // only the first run's start writes are slow (1.2 s)
      return 'ok';
    });
    const job = await s.addJob({ cron: '* * * * * *', handlerName: 'tick', misfirePolicy: 'skip' });
    storage.latency = 600;
    await s.start();
    await advance(5_500);
    // The fire at 2 s fell due while the run of 1 s was being started; it ran at about 2.2 s.
    expect(await firesRan(job)).toStrictEqual([at(1), at(2), at(3), at(4), at(5)]);
    expect(s.metrics().firesSkipped).toBe(0);
  });

  it('a run insert whose answer was lost is written again under the same id: one row, never left running', async () => {
    const s = newScheduler();
    s.registerHandlerFunc('work', () => 'done');
    const job = await s.addJob({ runAt: new Date(at(1)), handlerName: 'work' });
    storage.loseCreateRunAnswers = 2;
    await s.start();
    await advance(3_000);
    const runs = await storage.getRuns(job.id, 10);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: 'success', output: 'done', attempt: 1 });
    expect((await storage.getJob(job.id))?.status).toBe('completed');
  });

  it("a run's time-out counts its handler, not the time its start took to be written", async () => {
    const s = newScheduler({ jobTimeout: '500ms' });
    s.registerHandlerFunc('work', () => new Promise((resolve) => setTimeout(resolve, 400, 'ok')));
    const job = await s.addJob({ runAt: new Date(at(1)), handlerName: 'work' });
    storage.latency = 300; // the start writes take 600 ms
    await s.start();
    await advance(5_000);
    const [run] = await storage.getRuns(job.id, 1);
    expect(run).toMatchObject({ status: 'success', output: 'ok' });
    expect(s.metrics().runsTimedOut).toBe(0);
  });

  it("a retry due while the failed run's records are still being written follows them, rather than being skipped", async () => {
    const s = newScheduler({ retryDelay: '100ms' });
    let calls = 0;
    s.registerHandlerFunc('flaky', () => {
      calls++;
      if (calls === 1) throw new Error('first try fails');
      return 'second try';
    });
    const job = await s.addJob({ runAt: new Date(at(1)), handlerName: 'flaky', maxRetry: 1 });
    storage.latency = 1_000; // each write takes 1 s: the end of the failed try takes 2 s
    await s.start();
    await advance(15_000);
    const runs = await storage.getRuns(job.id, 10);
    expect(runs.map((run) => [run.attempt, run.status])).toStrictEqual([
      [2, 'success'],
      [1, 'failed'],
    ]);
    expect(s.metrics().firesSkipped).toBe(0);
  });

  it('stop() ends within its time-outs when the storage never answers, saying what was not written', async () => {
    const error = vi.spyOn(logger, 'error');
    const s = newScheduler({ shutdownTimeout: '2s' });
    s.registerHandlerFunc('work', () => {
      storage.hung = true; // the end of this run will never be written
      return 'done';
    });
    await s.addJob({ runAt: new Date(at(1)), handlerName: 'work' });
    await s.start();
    await advance(1_100);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await advance(2_100);
    expect(stopped).toBe(true);
    await stopping;
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/still had records unwritten/));
  });
});
