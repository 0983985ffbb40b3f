import type { Run } from '../interfaces/run.interface.js';
import type { Firing } from './firing.js';
import { firstFire } from './job-definition.js';
import type { JobEntry } from './job-entry.js';
import { applyLostRun } from './lost-run.js';
import type { RunCoordinator } from './run-coordinator.js';
import { errorForLog } from './run-output.js';
import type { SchedulerContext } from './scheduler-context.js';

/**
 * Loads the jobs from storage at start and books their next fires. A job left `running` by a
 * process that died (alone; in a cluster it runs elsewhere until its instance's lease expires) is
 * recovered: its unfinished runs are recorded failed, and it goes on per its retry policy.
 */
export async function loadJobs(
  ctx: SchedulerContext,
  coordinator: RunCoordinator,
  firing: Firing,
): Promise<void> {
  const { table, timers, options } = ctx;
  table.clear();
  timers.clear();
  ctx.waits.clear();
  const jobs = await ctx.store.listJobs();
  const now = ctx.now();
  for (const job of jobs) {
    let entry: JobEntry;
    try {
      entry = table.track(job, table.scheduleOf(job), true);
    } catch (err) {
      options.logger.error(
        `Job "${job.id}" cannot be scheduled and is skipped: ${errorForLog(err)}`,
      );
      continue;
    }
    entry.syncedAt = coordinator.round;
    const runningElsewhere = job.status === 'running' && coordinator.runningElsewhere(job);
    if (job.status === 'running' && !runningElsewhere) {
      const lost = await recover(ctx, firing, entry, now);
      if (lost !== undefined) continue; // recover() booked what comes next
    }
    // A job running elsewhere has its fires skipped meanwhile, so they are booked too (a running
    // once job's only fire is the one running).
    if (job.status !== 'pending' && !(runningElsewhere && entry.schedule !== null)) continue;
    const due =
      job.nextRunAt?.getTime() ??
      firstFire({ runAt: job.runAt?.getTime() ?? NaN, schedule: entry.schedule }, now);
    firing.scheduleAt(entry, due, job.retryCount > 0 ? job.retryCount + 1 : 1);
  }
}

/**
 * A job left `running` by a process that died: its unfinished runs are recorded failed, and the
 * lost run counts as a failed attempt: retried (as its next attempt, now) while retries are left,
 * else a once job fails and a recurring one goes on to its next fire. Resolves to the lost run,
 * or undefined when none was recorded (the process died before recording it).
 */
async function recover(
  ctx: SchedulerContext,
  firing: Firing,
  entry: JobEntry,
  now: number,
): Promise<Run | undefined> {
  const { store, table } = ctx;
  const job = entry.job;
  let lost: Run | undefined;
  for (const run of await store.getRuns(job.id, 10)) {
    if (run.status !== 'running') continue;
    run.status = 'failed';
    run.endAt = table.clockDate(now);
    run.duration = Math.max(0, now - run.startAt.getTime());
    run.error =
      'RunAbortedError: the process running it stopped before the run ended (recovered at start)';
    await store.updateRun(run);
    lost ??= run; // newest first
  }
  const booked = applyLostRun(job, entry.schedule, lost, now);
  // Without a lost run, loadJobs() books the job's next fire.
  if (lost !== undefined && booked !== null) {
    firing.scheduleAt(entry, booked.at, booked.attempt, booked.scheduledAt);
  }
  table.touch(job);
  await store.updateJob(job);
  const outcome =
    lost === undefined
      ? 'no run of it was recorded; it is scheduled again'
      : job.status === 'failed'
        ? 'its unfinished run was recorded failed, and the job failed (no retries left)'
        : 'its unfinished run was recorded failed, and the job goes on per its retry policy';
  ctx.options.logger.warn(`Job "${job.id}" was left running by a stopped process: ${outcome}.`);
  return lost;
}
