/**
 * Cluster mode when a write's answer is lost: the write landed, but the connection dropped before
 * the instance heard so (or it failed without landing). Each conditional write of a fire (the claim,
 * the run's insert, its end, the job's release) must then be neither lost nor mistaken for another
 * instance's: the fire runs once and the job is released. On the in-memory shared storage, with
 * fake timers; the same against real servers: test/integration/faults.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../../lib/scheduler.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { SharedMemoryClusterStorage } from '../../utils/shared-memory-cluster-storage.js';
import { advance, stopLettingTimePass } from '../../utils/scheduler-harness.js';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const CLUSTER = { instanceId: 'a', leaseTtl: 3_000, heartbeatInterval: 1_000, pollInterval: 500 };

type Method = 'writeJobIf' | 'createClaimedRun' | 'finishRun';
const FAULTY: ReadonlySet<string | symbol> = new Set([
  'writeJobIf',
  'createClaimedRun',
  'finishRun',
]);

describe('Scheduler in cluster mode when a write fails or its answer is lost', () => {
  let db: SharedMemoryClusterStorage;
  let scheduler: Scheduler;
  let warn: { mock: { calls: unknown[][] } };
  /** Per method, what its next calls do: 'lost' lands then throws, 'failed' throws without landing. */
  let faults: Map<Method, ('lost' | 'failed')[]>;

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    vi.setSystemTime(T0);
    db = new SharedMemoryClusterStorage();
    faults = new Map();
    const view = new Proxy(db, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        if (!FAULTY.has(key)) return (value as (...a: unknown[]) => unknown).bind(target);
        return async (...args: unknown[]) => {
          const fault = faults.get(key as Method)?.shift();
          if (fault === 'failed') throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (fault === 'lost') throw new Error('Connection terminated unexpectedly');
          return result;
        };
      },
    });
    const logger = new NopLogger();
    warn = vi.spyOn(logger, 'warn');
    scheduler = new Scheduler(view, { logger, cluster: CLUSTER });
    scheduler.registerHandlerFunc('work', () => 'done');
  });

  afterEach(async () => {
    await stopLettingTimePass(scheduler, 10_000);
    vi.useRealTimers();
  });

  /** Starts the scheduler with a job due in 1 s, makes its first calls of `method` do `what`. */
  async function fireWith(method: Method, what: ('lost' | 'failed')[]): Promise<string> {
    const job = await scheduler.addJob({
      id: 'j',
      runAt: new Date(T0 + 1_000),
      handlerName: 'work',
    });
    await scheduler.start();
    faults.set(method, what);
    await advance(5_000);
    return job.id;
  }

  /** The warnings other than the fault log's (which begins an episode once). */
  const otherWarnings = (): string[] =>
    warn.mock.calls
      .map((args: unknown[]) => String(args[0]))
      .filter((message: string) => !message.startsWith('Storage fault:'));

  it.each([
    ['landed, its answer lost', ['lost']],
    ['failed', ['failed']],
    ['failed, then landed with its answer lost', ['failed', 'lost']],
  ] as const)('a claim that %s: the fire runs once, and the job is released', async (_, what) => {
    const id = await fireWith('writeJobIf', [...what]);
    const runs = await db.getRuns(id, 10);
    expect(runs.map((run) => [run.status, run.attempt])).toStrictEqual([['success', 1]]);
    expect(db.claimOf(id)).toBeNull();
    expect((await db.getJob(id))?.status).toBe('completed');
    expect(otherWarnings()).toStrictEqual([]);
  });

  it("a run's insert that landed with its answer lost: written once, the run goes on", async () => {
    const id = await fireWith('createClaimedRun', ['lost']);
    const runs = await db.getRuns(id, 10);
    expect(runs.map((run) => [run.status, run.output])).toStrictEqual([['success', 'done']]);
    expect(db.claimOf(id)).toBeNull();
    expect(scheduler.metrics()).toMatchObject({ runsStarted: 1, firesSkipped: 0 });
  });

  it("a run's end that landed with its answer lost is not taken for another instance's record: the job is released", async () => {
    // The job is claimed, the run inserted; its end (finishRun) lands and the answer is lost.
    const id = await fireWith('finishRun', ['lost']);
    expect((await db.getRuns(id, 10)).map((run) => run.status)).toStrictEqual(['success']);
    expect(db.claimOf(id)).toBeNull();
    expect((await db.getJob(id))?.status).toBe('completed');
    expect(otherWarnings()).toStrictEqual([]);
  });

  it("the job's release after a run, landed with its answer lost: no conflict is reported, the job is released", async () => {
    const job = await scheduler.addJob({ id: 'r', interval: '10s', handlerName: 'work' });
    await scheduler.start();
    // The claim of the first fire (10 s) goes through; the release after it is lost once.
    faults.set('writeJobIf', [undefined as never, 'lost']);
    await advance(11_000);
    expect((await db.getRuns(job.id, 10)).map((run) => run.status)).toStrictEqual(['success']);
    expect(db.claimOf(job.id)).toBeNull();
    expect(otherWarnings()).toStrictEqual([]);
    await advance(10_000);
    expect(await db.getRuns(job.id, 10)).toHaveLength(2);
  });
});
