import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from 'nestjs-job-scheduler';

/** A declared recurring job: every second. */
@JobHandler('tick', { cron: '* * * * * *' })
@Injectable()
export class TickHandler {
  execute(_payload: unknown, ctx: JobContext): string {
    return `tick due at ${ctx.run.scheduledAt.toISOString()}`;
  }
}

/** The handler of the jobs the app adds at run time through SchedulerService. */
@Injectable()
export class GreetingService {
  @JobHandler('greet')
  greet(payload: { name: string }): string {
    return `hello ${payload.name}`;
  }
}
