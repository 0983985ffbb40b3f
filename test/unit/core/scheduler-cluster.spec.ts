import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../../lib/scheduler.js';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { JobConflictError } from '../../../lib/errors/job-conflict.error.js';
import { JobRunningError } from '../../../lib/errors/job-running.error.js';
import type { JobEvent } from '../../../lib/interfaces/job-event.interface.js';
import type { JobDefinition } from '../../../lib/interfaces/job.interface.js';
import type { Run } from '../../../lib/interfaces/run.interface.js';
import type { SchedulerOptions } from '../../../lib/interfaces/scheduler-options.interface.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { MemoryStorage } from '../../../lib/storage/memory/memory.storage.js';
import { preferredLease } from '../../../lib/cluster/preferred-instance.js';
import { makeJob } from '../../../lib/testing/fixtures.js';
import { SharedMemoryClusterStorage } from '../../utils/shared-memory-cluster-storage.js';
import { advance, deferred, sleep, stopLettingTimePass } from '../../utils/scheduler-harness.js';

const T0 = Date.UTC(2030, 0, 1, 0, 0, 0);
const CLUSTER = { leaseTtl: 3_000, heartbeatInterval: 1_000, pollInterval: 500 };

/**
 * One instance of a cluster in this process: a Scheduler on its own view of the shared storage. The
 * view can be cut off (every call hangs, as behind a network partition) and healed, or killed (cut
 * for good, its timers left to fire into nothing).
 */
interface Instance {
  name: string;
  scheduler: Scheduler;
  events: JobEvent[];
  ran: Run[];
  cut(): void;
  heal(): void;
}

describe('Scheduler in cluster mode', () => {
  let db: SharedMemoryClusterStorage;
  const instances: Instance[] = [];

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    vi.setSystemTime(T0);
    db = new SharedMemoryClusterStorage();
  });

  afterEach(async () => {
    for (const instance of instances.splice(0)) {
      instance.heal();
      await stopLettingTimePass(instance.scheduler, 10_000);
    }
    vi.useRealTimers();
  });

  /** An instance whose handler `work` takes `ms` of fake time (or waits for `gate`). */
  function instance(
    name: string,
    options: { ms?: number; gate?: Promise<void>; handlers?: boolean } & SchedulerOptions = {},
  ): Instance {
    const { ms = 10, gate, handlers = true, ...schedulerOptions } = options;
    let cut = false;
    const view = new Proxy(db, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (cut) return new Promise(() => undefined); // never answers
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const scheduler = new Scheduler(view, {
      logger: new NopLogger(),
      cluster: { instanceId: name, ...CLUSTER },
      retryDelay: 1_000,
      shutdownTimeout: 1_000,
      ...schedulerOptions,
    });
    const events: JobEvent[] = [];
    const ran: Run[] = [];
    scheduler.events$.subscribe((event) => {
      events.push(event);
      if (event.type === 'run.started' && event.run) ran.push(event.run);
    });
    if (handlers) {
      scheduler.registerHandlerFunc('work', async () => {
        if (gate) await gate;
        else await sleep(ms);
        return name;
      });
    }
    const made: Instance = {
      name,
      scheduler,
      events,
      ran,
      cut: () => (cut = true),
      heal: () => (cut = false),
    };
    instances.push(made);
    return made;
  }

  const every = (id: string, interval = 1_000, extra: Partial<JobDefinition> = {}) =>
    ({
      id,
      name: id,
      type: 'interval',
      interval,
      handlerName: 'work',
      ...extra,
    }) as JobDefinition;

  /** Every stored run of a job, oldest fire first. */
  async function runsOf(jobId: string): Promise<Run[]> {
    const runs = await db.getRuns(jobId, 10_000);
    return runs.sort(
      (a, b) => a.scheduledAt.getTime() - b.scheduledAt.getTime() || a.attempt - b.attempt,
    );
  }

  describe('refuses what cannot be shared', () => {
    it('MemoryStorage: it is single-instance', () => {
      expect(() => new Scheduler(new MemoryStorage(), { cluster: true })).toThrow(
        InvalidOptionsError,
      );
      expect(() => new Scheduler(new MemoryStorage(), { cluster: true })).toThrow(
        /"cluster".*MemoryStorage is single-instance/,
      );
      expect(() => new Scheduler(undefined, { cluster: { instanceId: 'a' } })).toThrow(
        /single-instance/,
      );
    });

    it.each(['enableBatchUpdate', 'enableCache'] as const)('%s: true', (option) => {
      expect(() => new Scheduler(db, { cluster: true, [option]: true })).toThrow(
        new RegExp(`"${option}".*false in cluster mode`),
      );
    });

    it('a storage whose backend cannot be shared says why', () => {
      const sqliteLike = Object.assign(Object.create(db) as SharedMemoryClusterStorage, {
        clusterUnsupportedReason: () => 'SQLite is one process file',
      });
      expect(() => new Scheduler(sqliteLike, { cluster: true })).toThrow(
        /SQLite is one process file/,
      );
    });
  });

  it('runs each fire once across three instances', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((name) => instance(name, { ms: 50 }));
    for (let i = 0; i < 10; i++) await a.scheduler.addJob(every(`job-${i}`));
    for (const i of [a, b, c]) await i!.scheduler.start();
    await advance(20_500); // the fire at 20 s has ended, the next is not due

    for (let i = 0; i < 10; i++) {
      const runs = await runsOf(`job-${i}`);
      const instants = runs.map((run) => run.scheduledAt.getTime());
      // Every second from the first fire, none twice, none missing.
      expect(new Set(instants).size).toBe(instants.length);
      expect(instants.length).toBeGreaterThanOrEqual(19);
      for (let k = 1; k < instants.length; k++) expect(instants[k]! - instants[k - 1]!).toBe(1_000);
      expect(runs.every((run) => run.status === 'success')).toBe(true);
    }
    const total = a!.ran.length + b!.ran.length + c!.ran.length;
    let stored = 0;
    for (let i = 0; i < 10; i++) stored += (await runsOf(`job-${i}`)).length;
    expect(total).toBe(stored);
    // Each job is left first to the instance it prefers: once the instances know each other (each
    // lists the leases at each renewal), every fire runs there, and claims are lost only before.
    const leases: string[] = [];
    for (const i of [a!, b!, c!]) leases.push((await i.scheduler.health()).cluster!.leaseId);
    const sorted = [...leases].sort();
    [a!, b!, c!].forEach((i, k) => {
      const later = i.ran.filter((run) => run.scheduledAt.getTime() >= T0 + 2 * 1_000);
      for (const run of later) expect(preferredLease(run.jobId, sorted)).toBe(leases[k]);
    });
    const claimedElsewhere = [a, b, c].reduce(
      (sum, i) => sum + i!.scheduler.metrics().firesClaimedElsewhere,
      0,
    );
    expect(claimedElsewhere).toBeLessThan(total / 10);
  });

  it('drains a backlog of once jobs across instances: each runs once, a lost claim is no skip', async () => {
    // No lease listed: no job prefers an instance, so all three race for every fire.
    vi.spyOn(db, 'listLeases').mockResolvedValue([]);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => instance(name, { ms: 50, concurrentRuns: 2 }));
    for (let i = 0; i < 30; i++) {
      await a.scheduler.addJob({
        id: `once-${i}`,
        runAt: new Date(T0 + 500),
        handlerName: 'work',
      });
    }
    for (const i of [a, b, c]) await i!.scheduler.start();
    await advance(5_000);
    for (let i = 0; i < 30; i++) {
      expect(await runsOf(`once-${i}`)).toMatchObject([{ status: 'success', attempt: 1 }]);
      expect((await db.getJob(`once-${i}`))?.status).toBe('completed');
    }
    const metrics = [a, b, c].map((i) => i!.scheduler.metrics());
    expect(metrics.reduce((sum, m) => sum + m.runsStarted, 0)).toBe(30);
    expect(metrics.reduce((sum, m) => sum + m.firesSkipped, 0)).toBe(0);
    expect(metrics.reduce((sum, m) => sum + m.firesClaimedElsewhere, 0)).toBeGreaterThan(0);
  });

  it('knows the instances that joined after it by its next poll, before a backlog falls due', async () => {
    // a joins alone; b and c join 100 ms later. The backlog falls due at 700 ms: after a's first
    // poll (500 ms), before its first renewal (1 s), the only other time it lists the leases.
    const [a, b, c] = ['a', 'b', 'c'].map((name) => instance(name, { ms: 50, concurrentRuns: 2 }));
    await a!.scheduler.start();
    await advance(100);
    await b!.scheduler.start();
    await c!.scheduler.start();
    for (let i = 0; i < 30; i++) {
      await a!.scheduler.addJob({
        id: `once-${i}`,
        runAt: new Date(T0 + 700),
        handlerName: 'work',
      });
    }
    await advance(5_000);
    for (let i = 0; i < 30; i++) {
      expect(await runsOf(`once-${i}`)).toMatchObject([{ status: 'success', attempt: 1 }]);
    }
    // a left the jobs that prefer b or c to them, as they left a's to a: until the hand-off
    // (pollInterval + 250 ms after the fire) each ran only the jobs that prefer it. (Later, one that
    // ran its share may take another's last jobs, and lose a claim or two: that race is not timed.)
    const metrics = [a, b, c].map((i) => i!.scheduler.metrics());
    expect(metrics.map((m) => m.firesDeferred > 0)).toStrictEqual([true, true, true]);
    const leases: string[] = [];
    for (const i of [a!, b!, c!]) leases.push((await i.scheduler.health()).cluster!.leaseId);
    const sorted = [...leases].sort();
    const handOff = T0 + 700 + CLUSTER.pollInterval + 250;
    [a!, b!, c!].forEach((i, k) => {
      const early = i.ran.filter((run) => run.startAt.getTime() < handOff);
      expect(early.length).toBeGreaterThan(0);
      for (const run of early) expect(preferredLease(run.jobId, sorted)).toBe(leases[k]);
    });
  });

  it('never overlaps a job across instances: fires due while it runs elsewhere are skipped', async () => {
    const [a, b] = ['a', 'b'].map((name) => instance(name, { ms: 2_500 }));
    await a.scheduler.addJob(every('slow'));
    await a.scheduler.start();
    await b.scheduler.start();
    await advance(12_000);
    const runs = (await runsOf('slow')).filter((run) => run.endAt !== null);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const byStart = [...runs].sort((x, y) => x.startAt.getTime() - y.startAt.getTime());
    for (let k = 1; k < byStart.length; k++) {
      expect(byStart[k]!.startAt.getTime()).toBeGreaterThanOrEqual(
        byStart[k - 1]!.endAt!.getTime(),
      );
    }
    const skipped = a.scheduler.metrics().firesSkipped + b.scheduler.metrics().firesSkipped;
    expect(skipped).toBeGreaterThan(0);
  });

  it('takes in jobs added, paused, resumed and removed on another instance within pollInterval', async () => {
    const [a, b] = ['a', 'b'].map((name) => instance(name));
    await a.scheduler.start();
    await b.scheduler.start();
    await a.scheduler.addJob(every('shared', 1_000));
    await advance(CLUSTER.pollInterval + 1_600);
    expect((await runsOf('shared')).length).toBeGreaterThan(0);

    await b.scheduler.pauseJob('shared');
    await advance(CLUSTER.pollInterval + 10);
    const paused = (await runsOf('shared')).length;
    await advance(5_000);
    expect((await runsOf('shared')).length).toBe(paused);
    expect((await a.scheduler.getJob('shared')).status).toBe('paused');

    await a.scheduler.resumeJob('shared');
    await advance(3_000);
    expect((await runsOf('shared')).length).toBeGreaterThan(paused);

    await b.scheduler.removeJob('shared');
    const ranBefore = a!.ran.length + b!.ran.length;
    await advance(5_000);
    expect(a!.ran.length + b!.ran.length).toBe(ranBefore);
  });

  it("polls the jobs' versions, and reads in full only the jobs changed on another instance", async () => {
    const [a, b] = ['a', 'b'].map((name) => instance(name));
    await a.scheduler.start();
    await b.scheduler.start();
    for (let i = 0; i < 20; i++) await a.scheduler.addJob(every(`hourly-${i}`, 3_600_000));
    await advance(2 * CLUSTER.pollInterval + 10);
    const full = vi.spyOn(db, 'listJobs');
    const some = vi.spyOn(db, 'getJobsById');
    const versions = vi.spyOn(db, 'listJobVersions');
    // Nothing changed: each poll is one narrow read.
    await advance(5 * CLUSTER.pollInterval);
    expect(versions.mock.calls.length).toBeGreaterThanOrEqual(2 * 4);
    expect(full).not.toHaveBeenCalled();
    expect(some).not.toHaveBeenCalled();

    await b.scheduler.pauseJob('hourly-3');
    await b.scheduler.addJob(every('added-on-b', 3_600_000));
    await advance(CLUSTER.pollInterval + 10);
    // a reads the two jobs b wrote; b (which holds what it wrote) reads nothing.
    expect(some.mock.calls.flatMap(([ids]) => [...ids]).sort()).toStrictEqual([
      'added-on-b',
      'hourly-3',
    ]);
    expect(full).not.toHaveBeenCalled();
    full.mockRestore();
    some.mockRestore();
    versions.mockRestore();
    expect((await a.scheduler.listJobs()).map((job) => job.id)).toContain('added-on-b');
  });

  it('leaves a fire first to the instance the job prefers, and runs it pollInterval + 250 ms later when that one does not', async () => {
    // b has no handler for the jobs (a rolling deployment): it leaves them all to a.
    const a = instance('a');
    const b = instance('b', { handlers: false });
    b.scheduler.registerHandlerFunc('other', () => 'x');
    await a.scheduler.start();
    await b.scheduler.start();
    await advance(CLUSTER.heartbeatInterval + 10); // each lists both leases
    const leases: string[] = [];
    for (const i of [a, b]) leases.push((await i.scheduler.health()).cluster!.leaseId);
    const ofB = Array.from({ length: 50 }, (_, k) => `pref-${k}`).filter(
      (id) => preferredLease(id, [...leases].sort()) === leases[1],
    );
    const ofA = Array.from({ length: 50 }, (_, k) => `pref-${k}`).filter(
      (id) => preferredLease(id, [...leases].sort()) === leases[0],
    );
    expect(ofA.length).toBeGreaterThan(5);
    expect(ofB.length).toBeGreaterThan(5);
    const due = Date.now() + 2_000;
    for (const id of [...ofA.slice(0, 5), ...ofB.slice(0, 5)]) {
      await a.scheduler.addJob({ id, name: id, handlerName: 'work', runAt: new Date(due) });
    }
    await advance(3_000);
    // a ran its own at once; b's were left to b for pollInterval + 250 ms, then a ran them.
    for (const id of ofA.slice(0, 5)) {
      const [run] = await runsOf(id);
      expect(run?.startAt.getTime()).toBe(due);
    }
    for (const id of ofB.slice(0, 5)) {
      const [run] = await runsOf(id);
      expect(run?.startAt.getTime()).toBe(due + CLUSTER.pollInterval + 250);
      expect(run?.status).toBe('success');
    }
    expect(a.ran).toHaveLength(10);
    expect(b.ran).toHaveLength(0);
    expect(a.scheduler.metrics()).toMatchObject({ firesClaimedElsewhere: 0, firesDeferred: 5 });
  });

  /**
   * Two started instances and a once-job `race` due between two regular polls (every 500 ms from
   * T0): with no lease listed, neither knows the other, so both try its fire.
   */
  async function raceForOneFire() {
    const a = instance('a');
    const b = instance('b');
    await a.scheduler.start();
    await b.scheduler.start();
    const due = T0 + 4 * CLUSTER.pollInterval + 250;
    await a.scheduler.addJob({
      id: 'race',
      name: 'race',
      handlerName: 'work',
      runAt: new Date(due),
    });
    return { a, b, due };
  }

  it('polls early (within 100 ms) after losing a claim, instead of at its next pollInterval', async () => {
    // No lease listed: no instance knows the others, so both try the fire at once.
    const listed: number[] = [];
    const leases = vi.spyOn(db, 'listLeases').mockImplementation(async () => {
      listed.push(Date.now());
      return [];
    });
    const { a, b, due } = await raceForOneFire();
    await advance(2 * CLUSTER.pollInterval);
    const polls: number[] = [];
    const versions = vi.spyOn(db, 'listJobVersions');
    versions.mockImplementation(async function (this: SharedMemoryClusterStorage) {
      polls.push(Date.now());
      return SharedMemoryClusterStorage.prototype.listJobVersions.call(this);
    });
    await advance(due - Date.now() + 120);
    versions.mockRestore();
    leases.mockRestore();
    const lost =
      a.scheduler.metrics().firesClaimedElsewhere + b.scheduler.metrics().firesClaimedElsewhere;
    expect(lost).toBe(1);
    expect(await runsOf('race')).toHaveLength(1);
    // The regular polls fall on T0 + k * 500 ms; the loser's early one within 100 ms of the race.
    const early = polls.filter((at) => at >= due && at < due + 110);
    expect(early).toHaveLength(1);
    expect(polls.filter((at) => (at - T0) % CLUSTER.pollInterval !== 0)).toStrictEqual(early);
    // That poll also lists the leases again (another instance may have joined); renewals list them
    // on the whole seconds.
    expect(listed.filter((at) => at >= due && at < due + 110)).toStrictEqual(early);
  });

  it('polls early no sooner than 10 times its last poll took, when polls are slow (many jobs)', async () => {
    const leases = vi.spyOn(db, 'listLeases').mockImplementation(async () => []);
    const { a, b, due } = await raceForOneFire();
    // Each poll's read takes 30 ms: an early poll comes 300 ms after the last one began at the
    // soonest (not 100 ms), unless the regular one comes first.
    const polls: number[] = [];
    const versions = vi.spyOn(db, 'listJobVersions');
    versions.mockImplementation(async function (this: SharedMemoryClusterStorage) {
      polls.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 30));
      return SharedMemoryClusterStorage.prototype.listJobVersions.call(this);
    });
    await advance(due - Date.now() + CLUSTER.pollInterval);
    versions.mockRestore();
    leases.mockRestore();
    expect(
      a.scheduler.metrics().firesClaimedElsewhere + b.scheduler.metrics().firesClaimedElsewhere,
    ).toBe(1);
    // The loser's next poll: 300 ms after its last began (with a 100 ms gap alone it came at once,
    // at the race, 160 ms after that poll); its regular one would have come 530 ms after.
    const lastBefore = Math.max(...polls.filter((at) => at < due));
    expect(due - lastBefore).toBeLessThan(300);
    expect(polls.filter((at) => at >= due)[0]).toBe(lastBefore + 300);
  });

  it('reads a job it cannot schedule once per version, not on every poll', async () => {
    const a = instance('a');
    await a.scheduler.start();
    // Written by something else (say, a newer release) with a cron this instance cannot parse.
    const odd = makeJob({ id: 'odd', cron: 'not a cron', nextRunAt: new Date(T0 + 60_000) });
    await db.createJob(odd);
    const some = vi.spyOn(db, 'getJobsById');
    await advance(4 * CLUSTER.pollInterval + 10);
    expect(some.mock.calls).toStrictEqual([[['odd']]]);
    await db.updateJob({ ...odd, version: odd.version + 1 });
    await advance(4 * CLUSTER.pollInterval);
    expect(some.mock.calls).toStrictEqual([[['odd']], [['odd']]]);
    some.mockRestore();
    expect(a.ran).toHaveLength(0);
  });

  it('gives a change up with JobConflictError when other instances keep changing the job, writing nothing', async () => {
    const a = instance('a');
    await a.scheduler.start();
    await a.scheduler.addJob(every('contended', 60_000));
    const stored = await db.getJob('contended');
    // Every conditional write finds the job changed (as if another instance wrote it each time).
    const write = vi.spyOn(db, 'writeJobIf').mockResolvedValue(false);
    const error = await a.scheduler.pauseJob('contended').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobConflictError);
    expect(error).toMatchObject({
      code: 'JOB_CONFLICT',
      jobId: 'contended',
      message: expect.stringMatching(
        /Could not pause job "contended".*5 tries.*Nothing was written/,
      ),
    });
    expect(write).toHaveBeenCalledTimes(5);
    write.mockRestore();
    expect(await db.getJob('contended')).toEqual(stored);
    // Once the others let it be, the change goes through.
    await a.scheduler.pauseJob('contended');
    expect((await db.getJob('contended'))?.status).toBe('paused');
  });

  it('leaves a job to the instances that have its handler', async () => {
    const a = instance('a', { handlers: false });
    a.scheduler.registerHandlerFunc('other', () => 'x');
    const b = instance('b');
    await a.scheduler.start();
    await b.scheduler.start();
    await b.scheduler.addJob(every('only-b'));
    await advance(6_500);
    expect(a.ran.filter((run) => run.jobId === 'only-b')).toHaveLength(0);
    expect(b.ran.length).toBeGreaterThanOrEqual(5);
    expect((await runsOf('only-b')).every((run) => run.status === 'success')).toBe(true);
  });

  it('refuses to trigger a job running on another instance', async () => {
    const gate = deferred();
    const a = instance('a', { gate: gate.promise });
    const b = instance('b', { handlers: true });
    await a.scheduler.start();
    await a.scheduler.addJob(every('long', 60_000));
    await advance(60_000 + 10);
    expect(a.ran).toHaveLength(1);
    await b.scheduler.start();
    await expect(b.scheduler.triggerJob('long')).rejects.toThrow(JobRunningError);
    gate.resolve();
    await advance(100);
    await b.scheduler.triggerJob('long');
    await advance(100);
    expect(b.ran).toHaveLength(1);
    expect(b.ran[0]!.scheduledAt.getTime()).not.toBe(a.ran[0]!.scheduledAt.getTime());
  });

  it('records the run of a lost instance failed once its lease expires, and retries it elsewhere; its late end is fenced', async () => {
    const gate = deferred();
    const a = instance('a', { gate: gate.promise });
    const b = instance('b', { ms: 10 });
    await a.scheduler.addJob(every('job', 60_000, { maxRetry: 1 }));
    await a.scheduler.start();
    await advance(60_000 + 10);
    expect(a.ran).toHaveLength(1);
    await b.scheduler.start();
    const lostRun = a.ran[0]!;

    a.cut(); // a hangs: no renewal, no write
    await advance(CLUSTER.leaseTtl + CLUSTER.heartbeatInterval + 100);
    const recorded = (await runsOf('job')).find((run) => run.id === lostRun.id)!;
    expect(recorded.status).toBe('failed');
    expect(recorded.error).toMatch(/InstanceLostError: .*lease a#[0-9a-f]+.* stopped renewing/);
    // Retried on b (attempt 2 of the same fire), per maxRetry.
    await advance(100);
    const retry = (await runsOf('job')).find((run) => run.attempt === 2);
    expect(retry).toMatchObject({ status: 'success', output: 'b' });
    expect(retry!.scheduledAt.getTime()).toBe(lostRun.scheduledAt.getTime());
    expect(b.events.some((e) => e.type === 'run.failed' && e.runId === lostRun.id)).toBe(true);

    // a comes back and its handler ends: its record is not written over b's.
    a.heal();
    gate.resolve();
    await advance(CLUSTER.heartbeatInterval + 100);
    const after = (await runsOf('job')).find((run) => run.id === lostRun.id)!;
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/InstanceLostError/);
    // Its outcome there is not reported as an outcome of the run either.
    expect(a.events.filter((e) => e.runId === lostRun.id).map((e) => e.type)).toEqual([
      'run.started',
    ]);
    // a took a new lease and goes on as a member.
    const health = await a.scheduler.health();
    expect(health.cluster?.leaseValid).toBe(true);
    const oldLease = /lease (a#[0-9a-f]+)/.exec(recorded.error)![1];
    expect(health.cluster?.leaseId).not.toBe(oldLease);
    const leases = await db.listLeases();
    expect(leases.map((lease) => lease.instanceId).sort()).toEqual(['a', 'b']);
    expect(leases.some((lease) => lease.id === oldLease)).toBe(false);
    expect(db.claimOf('job')).toBeNull();
  });

  it('stops claiming once its lease is older than leaseTtl, and starts again once renewed', async () => {
    const a = instance('a');
    await a.scheduler.start();
    await a.scheduler.addJob(every('job'));
    await advance(2_100);
    const before = a.ran.length;
    expect(before).toBeGreaterThan(0);
    // Renewals hang: claims stop once the lease is leaseTtl old (by the local monotonic clock).
    const renew = vi.spyOn(db, 'renewLease').mockImplementation(() => new Promise(() => undefined));
    await advance(CLUSTER.leaseTtl + CLUSTER.heartbeatInterval);
    const stalled = a.ran.length;
    await advance(5_000);
    expect(a.ran.length).toBe(stalled);
    expect((await a.scheduler.health()).cluster?.leaseValid).toBe(false);
    renew.mockRestore();
    await advance(CLUSTER.heartbeatInterval * 2 + 2_000);
    expect(a.ran.length).toBeGreaterThan(stalled);
  });

  it('keeps renewing its lease when a look for lost instances hangs', async () => {
    const a = instance('a');
    await a.scheduler.start();
    const renew = vi.spyOn(db, 'renewLease');
    await advance(2_500);
    const renewed = renew.mock.calls.length;
    expect(renewed).toBeGreaterThanOrEqual(2);
    // The next look-up never answers (the database went silent just after a renewal).
    vi.spyOn(db, 'findOrphanedJobs').mockImplementationOnce(() => new Promise(() => undefined));
    await advance(20_000);
    expect(renew.mock.calls.length).toBeGreaterThanOrEqual(renewed + 18);
    expect((await a.scheduler.health()).cluster?.leaseValid).toBe(true);
  });

  it('times leases by the database clock, not the host clock', async () => {
    // The host runs an hour ahead of the database: leases still live for leaseTtl of database time.
    const skew = 3_600_000;
    db.dbClock = () => Date.now() - skew;
    const [a, b] = ['a', 'b'].map((name) => instance(name));
    await a.scheduler.start();
    await b.scheduler.start();
    await advance(10_000);
    const leases = await db.listLeases();
    expect(leases).toHaveLength(2);
    for (const lease of leases) {
      expect(lease.expiresAt - (Date.now() - skew)).toBeGreaterThan(0);
      expect(lease.expiresAt - (Date.now() - skew)).toBeLessThanOrEqual(CLUSTER.leaseTtl);
    }
    expect((await a.scheduler.health()).cluster?.leaseValid).toBe(true);
  });

  it('after all instances were down, applies the misfire policy once across the cluster', async () => {
    const setup = instance('setup');
    await setup.scheduler.addJob(every('once-policy', 1_000));
    await setup.scheduler.addJob(every('skip-policy', 1_000, { misfirePolicy: 'skip' }));
    await setup.scheduler.addJob(
      every('all-policy', 1_000, { misfirePolicy: 'fire-all', maxMisfires: 4 }),
    );
    instances.splice(0); // never started
    vi.setSystemTime(T0 + 60_000); // a minute of downtime
    const [a, b, c] = ['a', 'b', 'c'].map((name) => instance(name));
    for (const i of [a, b, c]) await i!.scheduler.start();
    await advance(300);
    expect((await runsOf('once-policy')).map((run) => run.scheduledAt.getTime())).toEqual([
      T0 + 1_000,
    ]);
    expect(await runsOf('skip-policy')).toHaveLength(0);
    await advance(500);
    // fire-all: the first maxMisfires missed fires, once each, for the whole cluster (the instance
    // that won the first one runs the catch-up; the others wait for the regular schedule).
    const all = await runsOf('all-policy');
    expect(all.map((run) => run.scheduledAt.getTime())).toEqual(
      [1, 2, 3, 4].map((k) => T0 + k * 1_000),
    );
    await advance(1_000);
    const later = (await runsOf('all-policy')).map((run) => run.scheduledAt.getTime());
    expect(later.slice(0, 4)).toEqual([1, 2, 3, 4].map((k) => T0 + k * 1_000));
    // Then one regular fire (an interval job restarts its beat from the end of the catch-up).
    expect(later).toHaveLength(5);
    expect(later[4]).toBeGreaterThan(T0 + 60_000);
  });

  it('after a clock jump forward, runs the missed fires per policy once across the cluster', async () => {
    const [a, b] = ['a', 'b'].map((name) => instance(name));
    await a.scheduler.addJob(every('jump', 1_000));
    await a.scheduler.start();
    await b.scheduler.start();
    await advance(3_500);
    const before = (await runsOf('jump')).length;
    vi.setSystemTime(Date.now() + 3_600_000); // an hour later, at once
    await advance(600);
    const after = await runsOf('jump');
    // fire-once: one run for the hour of missed fires, not one per instance.
    expect(after.length).toBe(before + 1);
    await advance(2_000);
    const instants = (await runsOf('jump')).map((run) => run.scheduledAt.getTime());
    expect(new Set(instants).size).toBe(instants.length);
    expect(instants.length).toBe(before + 3);
  });

  it('never re-runs a fire after the clock is moved back', async () => {
    const [a, b] = ['a', 'b'].map((name) => instance(name));
    await a.scheduler.addJob(every('job'));
    await a.scheduler.start();
    await b.scheduler.start();
    await advance(5_000);
    vi.setSystemTime(Date.now() - 3_000);
    await advance(6_000);
    const instants = (await runsOf('job')).map((run) => run.scheduledAt.getTime());
    expect(new Set(instants).size).toBe(instants.length);
  });

  it('a graceful stop ends its runs, releases its claims and its lease; the others go on', async () => {
    const [a, b] = ['a', 'b'].map((name) => instance(name, { ms: 400 }));
    await a.scheduler.addJob(every('job'));
    await a.scheduler.start();
    await advance(1_100);
    expect(a!.ran).toHaveLength(1);
    await b.scheduler.start();
    await stopLettingTimePass(a.scheduler, 1_000);
    instances.splice(instances.indexOf(a!), 1);
    expect((await runsOf('job'))[0]).toMatchObject({ status: 'success' });
    expect((await db.listLeases()).map((lease) => lease.instanceId)).toEqual(['b']);
    await advance(3_500);
    expect(b!.ran.length).toBeGreaterThanOrEqual(2);
    expect((await runsOf('job')).map((run) => run.status)).not.toContain('failed');
  });
});
