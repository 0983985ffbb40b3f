import 'reflect-metadata';
import { createRequire } from 'node:module';
import { NestFactory } from '@nestjs/core';
import { declaredJobId, SchedulerService } from 'nestjs-job-scheduler';
import { AppModule } from './app.module.js';
import { firstSuccess } from './runs.js';

// Boots, runs the declared cron job and a job added at run time, asks /health, then shuts down and
// prints what it saw as one JSON line. The process must then exit on its own.
const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
try {
  await app.listen(0, '127.0.0.1');
  const scheduler = app.get(SchedulerService);
  const added = await scheduler.addJob({
    name: 'greeting',
    handlerName: 'greet',
    runAt: new Date(),
    payload: { name: 'consumer' },
  });
  const greeted = await firstSuccess(scheduler, added.id);
  const ticked = await firstSuccess(scheduler, declaredJobId('tick'));
  const health = (await (await fetch(`${await app.getUrl()}/health`)).json()) as { status: string };
  // The dashboard's page and API, from the installed package (its files found beside it).
  const page = await (await fetch(`${await app.getUrl()}/jobs/`)).text();
  const apiJobs = (await (await fetch(`${await app.getUrl()}/jobs/api/jobs`)).json()) as {
    items: unknown[];
  };
  const script = await fetch(`${await app.getUrl()}/jobs/assets/app.js`);
  const viaRequire = createRequire(import.meta.url)('nestjs-job-scheduler') as {
    SchedulerService: unknown;
  };
  console.log(
    JSON.stringify({
      greeted: greeted.output,
      ticked: ticked.output,
      health: health.status,
      dashboard: page.includes('<base href="/jobs/">') && script.status === 200,
      apiJobs: apiJobs.items.length,
      oneCopy: viaRequire.SchedulerService === SchedulerService,
      loadedFrom: import.meta.resolve('nestjs-job-scheduler'),
    }),
  );
} finally {
  await app.close();
}
