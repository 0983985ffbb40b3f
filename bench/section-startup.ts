/**
 * Section 5 of `npm run bench`, start-up: a boot with 100,000 stored jobs (all due in an hour but
 * one, due now): time to that one's fire, and the heap the boot keeps. Ours on PostgreSQL and on
 * SQLite (better-sqlite3), pg-boss on the same PostgreSQL, BullMQ on Redis.
 */
import { int, mib, ms, secs } from './format.js';
import { load } from './machine.js';
import { BULLMQ_CONCURRENCY, PGBOSS_BATCH, PGBOSS_LOOPS, PGBOSS_POLL_MS } from './peers.js';
import { isSkipped, scenario, type Figures } from './scenario.js';
import type { Scoreboard } from './scoreboard.js';
import type { Transcript } from './transcript.js';

const JOBS = 100_000;

function print(out: Transcript, title: string, f: Figures | undefined): void {
  out.write(`  ${title} (load after: ${load()})\n`);
  if (!f) return;
  if (isSkipped(f)) {
    out.write(`    skipped: ${String(f.reason)} (${String(f.url)})\n`);
    return;
  }
  const steps =
    f.startMs === undefined
      ? ''
      : f.connectMs === undefined
        ? `; start() resolved at ${ms(f.startMs)} ms`
        : `; connect ${ms(f.connectMs)} ms, start() (loads every job) ${ms(f.startMs)} ms`;
  out.write(
    `    first fire ${ms(f.firstFireMs)} ms after the boot began${steps}\n` +
      `    heap kept by the boot ${mib(f.heapRetained)}${f.heapPerJob === undefined ? '' : ` (${int(f.heapPerJob)} B per stored job)`},` +
      ` heapUsed ${mib(f.heapUsed)}, rss ${mib(f.rss)}; storing the jobs took ${ms(f.fillMs)} ms\n`,
  );
}

const TIME_WHY =
  'Our start() reads every stored job into memory (a timer heap of all of them, so each fires on time without polling); pg-boss and BullMQ leave stored jobs in the database and fetch due ones as they poll, so their boot does not grow with the jobs stored.';
const HEAP_WHY =
  'We keep every stored job in memory (its record and its timer entry); the queues keep none of them in the process.';

export async function startupSection(
  out: Transcript,
  board: Scoreboard,
  pgReachable: boolean,
): Promise<void> {
  out.write(
    `\n5. start-up with ${int(JOBS)} stored jobs (all due in an hour but one, due now): time to that one's fire, heap kept\n`,
  );
  const args = [`--jobs=${JOBS}`];
  const oursPg = pgReachable
    ? await scenario(out, './startup-ours.ts', [...args, '--db=postgres'])
    : undefined;
  print(out, '5a. ours, PostgreSQL (TypeOrmStorage)', oursPg);
  const oursSqlite = await scenario(out, './startup-ours.ts', [...args, '--db=sqlite']);
  print(out, '5b. ours, SQLite (TypeOrmStorage on better-sqlite3, a file)', oursSqlite);
  const pgBoss = pgReachable
    ? await scenario(out, './startup-pgboss.ts', [
        ...args,
        `--loops=${PGBOSS_LOOPS}`,
        `--batch-size=${PGBOSS_BATCH}`,
        `--poll-ms=${PGBOSS_POLL_MS}`,
      ])
    : undefined;
  print(
    out,
    `5c. pg-boss, same PostgreSQL, ${PGBOSS_LOOPS} work() loops x ${PGBOSS_BATCH}`,
    pgBoss,
  );
  const bullMq = await scenario(out, './startup-bullmq.ts', [
    ...args,
    `--concurrent=${BULLMQ_CONCURRENCY}`,
  ]);
  print(out, `5d. BullMQ, Redis, a Worker with concurrency ${BULLMQ_CONCURRENCY}`, bullMq);

  const s = `Start-up with ${int(JOBS)} stored jobs`;
  const compare = (
    label: string,
    ours: Figures | undefined,
    theirs: Figures | undefined,
    who: string,
  ): void => {
    board.compare({
      scenario: `${s}: time to the first fire, ${label}`,
      ours: ours?.firstFireMs as number | undefined,
      theirs: isSkipped(theirs) ? undefined : (theirs?.firstFireMs as number | undefined),
      who,
      better: 'lower',
      format: secs,
      why: TIME_WHY,
    });
    board.compare({
      scenario: `${s}: heap kept by the boot, ${label}`,
      ours: ours?.heapRetained as number | undefined,
      theirs: isSkipped(theirs) ? undefined : (theirs?.heapRetained as number | undefined),
      who,
      better: 'lower',
      format: mib,
      why: HEAP_WHY,
    });
  };
  compare('ours on PostgreSQL vs pg-boss', oursPg, pgBoss, 'pg-boss');
  compare('ours on PostgreSQL vs BullMQ (Redis)', oursPg, bullMq, 'BullMQ');
  board.row(
    `${s}, ours on SQLite: time to the first fire; heap kept (no peer stores jobs in SQLite)`,
    `${secs(oursSqlite?.firstFireMs)}; ${mib(oursSqlite?.heapRetained)}`,
    `${secs(oursPg?.firstFireMs)}; ${mib(oursPg?.heapRetained)} (ours on PostgreSQL)`,
  );
}
