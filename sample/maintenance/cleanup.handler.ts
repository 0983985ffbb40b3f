import { Injectable } from '@nestjs/common';
import { JobHandler, type Handler, type JobContext } from '../../lib/index.js';
import { CacheService } from './cache.service.js';

interface CleanupPayload {
  action: 'cleanup';
}

/**
 * The seed's example, declared in code: a cron job every 5 seconds, payload `{ action: 'cleanup' }`,
 * retried up to 3 times. It is created in storage at bootstrap under the id `handler:cleanup`.
 */
@JobHandler('cleanup', {
  cron: '*/5 * * * * *',
  payload: { action: 'cleanup' },
  maxRetry: 3,
  jobName: 'Scheduled cleanup',
  description: 'Clears expired cache entries every 5 seconds',
})
@Injectable()
export class CleanupHandler implements Handler<CleanupPayload, string> {
  private generation = 0;

  constructor(private readonly cache: CacheService) {}

  execute(payload: CleanupPayload, ctx: JobContext<CleanupPayload>): string {
    // Some traffic between two sweeps: a few entries that expire at once, one that stays.
    this.generation++;
    this.cache.set(`session:${this.generation}`, { user: this.generation }, 60_000);
    for (let i = 0; i < 3; i++) this.cache.set(`page:${this.generation}:${i}`, '<html/>', 0);
    const removed = this.cache.removeExpired();
    const retry = ctx.attempt > 1 ? ` (retry ${ctx.attempt - 1})` : '';
    return `${payload.action}${retry}: removed ${removed} expired entries, ${this.cache.size} left`;
  }
}
