/**
 * Fire burst, the peer `croner`: `--jobs` `new Cron('* * * * * *', onTick)` (6 fields: seconds
 * first), each started at creation, with croner's defaults (https://github.com/Hexagon/croner#options):
 * no `protect`, so a tick never waits for the last one, as with the other peers. Each job's parsed
 * pattern keeps a 10,000-entry year table (croner accepts a 7th, year, field), whatever `mode`
 * says: that is most of its heap per job.
 */
import { Cron } from 'croner';
import { runPeerBurst } from './burst-peer.js';

await runPeerBurst(async () => {
  const jobs: Cron[] = [];
  return {
    add(_index, onTick) {
      jobs.push(new Cron('* * * * * *', onTick));
    },
    async stop() {
      for (const job of jobs) job.stop();
    },
  };
});
