/**
 * Fire burst, the peer `@nestjs/schedule`: a Nest application context with
 * `ScheduleModule.forRoot()`, and `--jobs` cron jobs added as its docs show for dynamic cron jobs
 * (https://docs.nestjs.com/techniques/task-scheduling#dynamic-cron-jobs):
 * `new CronJob('* * * * * *', onTick)`, `schedulerRegistry.addCronJob(name, job)`, `job.start()`.
 * The registry wraps each tick in its error handler; `app.close()` stops the jobs.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { runPeerBurst } from './burst-peer.js';

@Module({ imports: [ScheduleModule.forRoot()] })
class BurstAppModule {}

await runPeerBurst(async () => {
  const app = await NestFactory.createApplicationContext(BurstAppModule, { logger: false });
  await app.init();
  const registry = app.get(SchedulerRegistry);
  return {
    add(index, onTick) {
      const job = new CronJob('* * * * * *', onTick);
      registry.addCronJob(`burst-${index}`, job);
      job.start();
    },
    stop: () => app.close(),
  };
});
