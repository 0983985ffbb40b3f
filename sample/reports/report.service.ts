import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JobHandler, SchedulerService, type JobContext } from '../../lib/index.js';

interface SummaryPayload {
  date: string;
  recipients: string[];
}

/**
 * A plain service whose method is a handler. At startup it adds a once job for it with
 * `SchedulerService.addJob()`, due a few seconds later; the first attempt fails (the figures are
 * "not ready yet"), and the retry after `retryDelay` succeeds.
 */
@Injectable()
export class ReportService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ReportService.name);

  constructor(private readonly scheduler: SchedulerService) {}

  async onApplicationBootstrap(): Promise<void> {
    const date = yesterday();
    const id = `daily-summary:${date}`;
    // Jobs are stored: after a restart the day's job is there already (and maybe done).
    const existing = await this.scheduler.getJob(id).catch(() => null);
    if (existing) {
      this.logger.log(
        `Once job ${id} is stored already (status ${existing.status}): not added again`,
      );
      return;
    }
    const job = await this.scheduler.addJob({
      id,
      name: 'Daily summary',
      description: 'Mails yesterday’s figures once, shortly after startup',
      handlerName: 'reports.daily-summary',
      runAt: new Date(Date.now() + 3_000),
      payload: { date, recipients: ['ops@example.com'] },
      maxRetry: 2,
    });
    this.logger.log(`Added once job ${job.id} (${job.name}), due at ${job.runAt?.toISOString()}`);
  }

  @JobHandler('reports.daily-summary')
  async sendDailySummary(
    payload: SummaryPayload,
    ctx: JobContext<SummaryPayload>,
  ): Promise<object> {
    if (ctx.attempt === 1) throw new Error(`figures for ${payload.date} are not ready yet`);
    await new Promise((resolve) => setTimeout(resolve, 200)); // building and sending the mail
    return { date: payload.date, sentTo: payload.recipients, orders: 128, revenue: 4_096.5 };
  }
}

function yesterday(): string {
  return new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
}
