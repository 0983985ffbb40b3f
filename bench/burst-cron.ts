/**
 * Fire burst, the peer `cron` (what @nestjs/schedule runs on): `--jobs` `CronJob`s on
 * `* * * * * *` with a no-op onTick, made with `CronJob.from({ ..., start: true })`.
 */
import { CronJob } from 'cron';
import { runPeerBurst } from './burst-peer.js';

await runPeerBurst(async () => {
  const cronJobs: CronJob[] = [];
  return {
    add(_index, onTick) {
      cronJobs.push(CronJob.from({ cronTime: '* * * * * *', onTick, start: true }));
    },
    async stop() {
      for (const job of cronJobs) void job.stop();
    },
  };
});
