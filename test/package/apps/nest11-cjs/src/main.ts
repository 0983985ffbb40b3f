import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { declaredJobId, SchedulerService } from 'nestjs-job-scheduler';
import { AppModule } from './app.module';
import { firstSuccess } from './runs';

// Boots, runs the declared cron job and a job added at run time, asks /health, then shuts down and
// prints what it saw as one JSON line. The process must then exit on its own.
async function bootstrap() {
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
    const health = (await (await fetch(`${await app.getUrl()}/health`)).json()) as {
      status: string;
    };
    // The dashboard's page and API, from the installed package (its files found beside it).
    const page = await (await fetch(`${await app.getUrl()}/jobs/`)).text();
    const apiJobs = (await (await fetch(`${await app.getUrl()}/jobs/api/jobs`)).json()) as {
      items: unknown[];
    };
    const script = await fetch(`${await app.getUrl()}/jobs/assets/app.js`);
    // The types of the two builds differ as far as TypeScript knows; the classes must not.
    const viaImport: { SchedulerService: unknown } = await import('nestjs-job-scheduler');
    console.log(
      JSON.stringify({
        greeted: greeted.output,
        ticked: ticked.output,
        health: health.status,
        dashboard: page.includes('<base href="/jobs/">') && script.status === 200,
        apiJobs: apiJobs.items.length,
        oneCopy: viaImport.SchedulerService === SchedulerService,
        loadedFrom: require.resolve('nestjs-job-scheduler'),
      }),
    );
  } finally {
    await app.close();
  }
}
void bootstrap();
