import { vi } from 'vitest';
import { Dispatcher } from '../../lib/core/dispatcher.js';
import { FireTimer } from '../../lib/core/fire-timer.js';
import { HandlerRegistry } from '../../lib/core/handler-registry.js';
import { HandlerWait } from '../../lib/core/handler-wait.js';
import { IdGenerator } from '../../lib/core/ids.js';
import { InFlight } from '../../lib/core/in-flight.js';
import type { ActiveRun, Fire, JobEntry } from '../../lib/core/job-entry.js';
import { JobTable } from '../../lib/core/job-table.js';
import { normalizeSchedulerOptions } from '../../lib/core/normalize-options.js';
import { RetriedWrites } from '../../lib/core/retried-writes.js';
import type { CoordinatorHost } from '../../lib/core/run-coordinator.js';
import { RunContext } from '../../lib/core/run-context.js';
import { SchedulerSignals } from '../../lib/core/scheduler-signals.js';
import { StorageFaultLog } from '../../lib/core/storage-fault-log.js';
import type { Job } from '../../lib/interfaces/job.interface.js';
import type { JobLogger } from '../../lib/interfaces/logger.interface.js';
import type { SchedulerOptions } from '../../lib/interfaces/scheduler-options.interface.js';
import type { JobStorage } from '../../lib/interfaces/job-storage.js';
import { JobMetrics } from '../../lib/telemetry/job-metrics.js';
import { UNTRACED } from '../../lib/interfaces/job-tracer.js';
import { NoopJobTracer } from '../../lib/telemetry/noop-job-tracer.js';
import { makeRun } from '../../lib/testing/fixtures.js';

/** A logger that keeps what it is told, by level. */
export function recordingLogger(): JobLogger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at =
    (level: string) =>
    (message: string): void => {
      lines.push({ level, message });
    };
  return { lines, log: at('log'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/**
 * Test only: a coordinator's host made of the scheduler's real parts over `storage`, with the
 * callbacks into the scheduler (`adopt`, `execute`, `restart`, `followUp`, `pump`) as spies.
 */
export function coordinatorHost(storage: JobStorage, options: SchedulerOptions = {}) {
  const logger = recordingLogger();
  const normalized = normalizeSchedulerOptions({ ...options, logger }, () => logger);
  const now = (): number => Date.now();
  const faults = new StorageFaultLog(logger, now);
  const slots = new Dispatcher(normalized.concurrentRuns, normalized.cluster !== null);
  const timers = new FireTimer(() => undefined, now);
  const waits = new HandlerWait(logger);
  const signals = new SchedulerSignals(now, () => ({
    runningNow: slots.active.size,
    queuedNow: slots.queued,
    scheduledJobs: timers.size,
    jobsWithoutHandler: waits.count(),
  }));
  const host = {
    options: normalized,
    storage,
    store: storage,
    table: new JobTable(now),
    timers,
    slots,
    signals,
    writes: new RetriedWrites(faults, logger, now),
    faults,
    tracer: new NoopJobTracer(),
    telemetry: new JobMetrics({ scheduler: () => signals.snapshot() }),
    handlers: new HandlerRegistry(),
    waits,
    ids: new IdGenerator(),
    flight: new InFlight(),
    isStarted: () => true,
    now,
    adopt: vi.fn<CoordinatorHost['adopt']>(),
    execute: vi.fn<CoordinatorHost['execute']>(),
    restart: vi.fn<CoordinatorHost['restart']>(),
    followUp: vi.fn<CoordinatorHost['followUp']>(),
    pump: vi.fn<CoordinatorHost['pump']>(),
  } satisfies CoordinatorHost;
  return { host, logger };
}

/** The run of a job's fire, as the executor makes it when the fire gets a slot (its job marked running). */
export function activeRun(host: CoordinatorHost, entry: JobEntry): ActiveRun {
  const job = entry.job;
  const fire: Fire = {
    at: Date.now(),
    seq: 0,
    entry,
    gen: entry.gen,
    attempt: 1,
    scheduledAt: Date.now(),
    manual: false,
    deferred: false,
    link: undefined,
    restarts: 0,
    missed: false,
    unsure: null,
  };
  const run = makeRun(job.id);
  const active: ActiveRun = {
    fire,
    run,
    handlerName: job.handlerName,
    ctx: new RunContext(job, run, 1),
    startedAt: Date.now(),
    deadline: Infinity,
    timeout: 0,
    settled: false,
    aborted: false,
    trace: UNTRACED,
    expectedVersion: job.version,
    claim: '',
    statusBefore: job.status,
    lastRunBefore: job.lastRunAt,
    endedAt: NaN,
    versionBefore: job.version,
    decidedNext: false,
  };
  job.status = 'running';
  host.table.touch(job);
  host.flight.begin();
  return active;
}

/** Holds `job` in the host's table (a copy, as the scheduler holds what it read). */
export function hold(host: CoordinatorHost, job: Job): JobEntry {
  return host.table.track(structuredClone(job), host.table.scheduleOf(job));
}
