/**
 * The peers `npm run bench` measures us against: their installed versions, the settings each is
 * given (its fairest: what its docs recommend for the case) and where those are documented.
 */
import { existsSync, readFileSync } from 'node:fs';

/** pg-boss 10's fast path: several `work()` loops with large batches, polling as often as it allows. */
export const PGBOSS_LOOPS = 10;
export const PGBOSS_BATCH = 500;
/** pg-boss's least polling interval (`pollingIntervalSeconds` 0.5). */
export const PGBOSS_POLL_MS = 500;
/** BullMQ's Worker `concurrency`, as our `concurrentRuns`. */
export const BULLMQ_CONCURRENCY = 50;

/** The installed version of a package (or `?`), read from node_modules. */
export function versionOf(pkg: string, under = ''): string {
  const file = new URL(`../node_modules/${under}${pkg}/package.json`, import.meta.url);
  if (!existsSync(file)) return under ? versionOf(pkg) : '?';
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

export interface Peer {
  name: string;
  version: string;
  /** What it is given in the benchmark. */
  settings: string;
  /** Where those settings are documented. */
  docs: string;
}

export function peers(): Peer[] {
  return [
    {
      name: 'cron',
      version: versionOf('cron'),
      settings:
        "burst: `CronJob.from({ cronTime: '* * * * * *', onTick, start: true })`, defaults (a tick later than `threshold`, 250 ms, is skipped with a warning; no `waitForCompletion`)",
      docs: 'https://github.com/kelektiv/node-cron#readme',
    },
    {
      name: '@nestjs/schedule',
      version: `${versionOf('@nestjs/schedule')} (on cron ${versionOf('cron', '@nestjs/schedule/node_modules/')})`,
      settings:
        "burst: a Nest application context with `ScheduleModule.forRoot()`; per job `new CronJob('* * * * * *', onTick)`, `schedulerRegistry.addCronJob(name, job)`, `job.start()`",
      docs: 'https://docs.nestjs.com/techniques/task-scheduling#dynamic-cron-jobs',
    },
    {
      name: 'croner',
      version: versionOf('croner'),
      settings: "burst: `new Cron('* * * * * *', onTick)`, defaults (no `protect`)",
      docs: 'https://github.com/Hexagon/croner#options',
    },
    {
      name: 'pg-boss',
      version: versionOf('pg-boss'),
      settings:
        `drain: ${PGBOSS_LOOPS} \`work()\` loops x \`batchSize\` ${PGBOSS_BATCH} (and, as a second row, x ${PGBOSS_BATCH * 2}), \`pollingIntervalSeconds\` ${PGBOSS_POLL_MS / 1000} (its least),` +
        ' pool `max` 10 (default), the job table ANALYZEd after filling, completed jobs kept as `completed` rows (its default; archived after 12 h);' +
        ' the handler awaits an async no-op per job; start-up: the same workers',
      docs: 'https://github.com/timgit/pg-boss/blob/10.4.0/docs/api/workers.md',
    },
    {
      name: 'BullMQ',
      version: `${versionOf('bullmq')} (ioredis ${versionOf('ioredis')})`,
      settings:
        `drain and start-up: a Worker with \`concurrency\` ${BULLMQ_CONCURRENCY}, completed jobs kept (its default, no \`removeOnComplete\`),` +
        ' `maxRetriesPerRequest: null`; on the local Redis as it is configured, and on a private Redis with AOF `appendfsync everysec` (what its docs recommend)',
      docs: 'https://docs.bullmq.io/guide/workers/concurrency, https://docs.bullmq.io/guide/workers/auto-removal-of-jobs, https://docs.bullmq.io/guide/going-to-production',
    },
  ];
}
