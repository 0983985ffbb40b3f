import type { Run, SchedulerService } from 'nestjs-job-scheduler';

/** The first successful run of a job, waiting for it up to `timeoutMs`. */
export async function firstSuccess(
  scheduler: SchedulerService,
  jobId: string,
  timeoutMs = 15_000,
): Promise<Run> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const run = (await scheduler.getRuns(jobId, 10)).find((r) => r.status === 'success');
    if (run) return run;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${jobId} had no successful run within ${timeoutMs} ms`);
}
