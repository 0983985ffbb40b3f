import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { JobHandler, SchedulerService, type JobEvent } from '../../lib/index.js';

/**
 * Prints every run as it ends, from `SchedulerService.events$`; and declares an interval job that
 * prints the scheduler's metrics.
 */
@Injectable()
export class RunReporter implements OnApplicationShutdown {
  private readonly logger = new Logger('Runs');
  private readonly subscription: Subscription;

  constructor(private readonly scheduler: SchedulerService) {
    // Subscribed from the start, so that the declared jobs created at bootstrap are printed too.
    this.subscription = this.scheduler.events$.subscribe((event) => this.print(event));
  }

  // Unsubscribe last: runs still ending during the scheduler's graceful stop (in
  // beforeApplicationShutdown) are printed too.
  onApplicationShutdown(signal?: string): void {
    this.subscription.unsubscribe();
    this.logger.log(`Scheduler stopped${signal ? ` on ${signal}` : ''}: ${this.snapshot()}`);
  }

  @JobHandler('monitoring.metrics', { interval: '7s', description: 'Prints the scheduler metrics' })
  snapshot(): string {
    const m = this.scheduler.metrics();
    return `started ${m.runsStarted}, succeeded ${m.runsSucceeded}, failed ${m.runsFailed}, retried ${m.runsRetried}, running ${m.runningNow}, scheduled ${m.scheduledJobs}`;
  }

  private print(event: JobEvent): void {
    const name = event.job?.name ?? event.jobId;
    const run = event.run;
    switch (event.type) {
      case 'run.succeeded':
        this.logger.log(`✔ ${name} (attempt ${run?.attempt}, ${run?.duration} ms): ${run?.output}`);
        break;
      case 'run.retrying':
        this.logger.warn(`↻ ${name} failed (attempt ${run?.attempt}), will retry: ${event.error}`);
        break;
      case 'run.failed':
      case 'run.timed_out':
        this.logger.error(`✘ ${name} (attempt ${run?.attempt}): ${event.error}`);
        break;
      case 'job.added':
      case 'job.updated':
        this.logger.log(
          `${event.type === 'job.added' ? '+' : '~'} ${name} [${event.jobId}] next at ${event.job?.nextRunAt?.toISOString() ?? '-'}`,
        );
        break;
    }
  }
}
