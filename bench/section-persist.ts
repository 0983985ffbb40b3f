/**
 * Section 3 of `npm run bench`, the persisted drain: 20,000 no-op jobs due now, each leaving a
 * history record. Ours on PostgreSQL (TypeOrmStorage, batching off and on) against pg-boss on the
 * same server and BullMQ on Redis, with PostgreSQL's raw insert rates as the bound. The fast drains
 * (ours batched, the peers) run `ROUNDS` interleaved rounds and keep each one's best: load on the
 * machine only lowers a round.
 */
import { cleanUpOnInterrupt } from './common.js';
import { int, ms, num, ratio } from './format.js';
import { load } from './machine.js';
import { BULLMQ_CONCURRENCY, PGBOSS_BATCH, PGBOSS_LOOPS, PGBOSS_POLL_MS } from './peers.js';
import {
  cpuPerJob,
  printBound,
  printBullMq,
  printOff,
  printOn,
  printPgBoss,
} from './persist-print.js';
import { startPrivateRedis, type PrivateRedis } from './private-redis.js';
import { REDIS_URL } from './redis.js';
import { isSkipped, scenario, type Figures } from './scenario.js';
import type { Scoreboard } from './scoreboard.js';
import type { Transcript } from './transcript.js';

const JOBS = 20_000;
const BATCH_SIZE = 500;
const FLUSH_MS = 100;
const ROUNDS = 2;

interface Contender {
  key: string;
  title: string;
  run(): Promise<Figures | undefined>;
  print(out: Transcript, f: Figures): void;
}

/** CPU per job in µs, Node and server together. */
const cpuUs = (f: Figures | undefined, server: 'postgresCpuMs' | 'redisCpuMs'): number =>
  f ? ((Number(f.nodeCpuMs) + Number(f[server])) * 1000) / Number(f.jobs) : NaN;

/** Runs the section; resolves to whether PostgreSQL could be reached. */
export async function persistSection(out: Transcript, board: Scoreboard): Promise<boolean> {
  out.write(
    `\n3. persisted drain: ${int(JOBS)} no-op jobs due now, each leaving a history record;` +
      ` ours on PostgreSQL (TypeOrmStorage, concurrentRuns 50) against pg-boss and BullMQ\n`,
  );
  const bound = await scenario(out, './persist-postgres.ts', ['--mode=bound']);
  if (isSkipped(bound)) {
    out.write(
      `  skipped: PostgreSQL is not reachable at ${String(bound?.url)} (${String(bound?.reason)}).` +
        ' Start it, or set TEST_POSTGRES_URL.\n',
    );
    board.row('Persisted drain', 'skipped (no PostgreSQL)');
    return false;
  }
  if (bound) printBound(out, bound);

  const off = await scenario(out, './persist-postgres.ts', [
    '--mode=off',
    `--jobs=${JOBS}`,
    '--concurrent=50',
  ]);
  out.write(`  3a. ours, batch off (load after: ${load()})\n`);
  if (off) printOff(out, off, bound);

  let aof: PrivateRedis | undefined;
  try {
    aof = await startPrivateRedis();
  } catch (error) {
    out.write(`  (BullMQ on a Redis with AOF not measured: ${(error as Error).message})\n`);
  }
  const unregister = cleanUpOnInterrupt(async () => aof?.stop());
  const pgBoss = (batch: number): Contender => ({
    key: `pgboss${batch}`,
    title: `pg-boss, ${PGBOSS_LOOPS} work() loops x batchSize ${batch}, polling every ${PGBOSS_POLL_MS / 1000} s, same PostgreSQL`,
    run: () =>
      scenario(out, './persist-pgboss.ts', [
        `--jobs=${JOBS}`,
        `--loops=${PGBOSS_LOOPS}`,
        `--batch-size=${batch}`,
        `--poll-ms=${PGBOSS_POLL_MS}`,
      ]),
    print: printPgBoss,
  });
  const bullMq = (key: string, where: string, url: string): Contender => ({
    key,
    title: `BullMQ, concurrency ${BULLMQ_CONCURRENCY}, completed jobs kept, ${where}`,
    run: () =>
      scenario(
        out,
        './persist-bullmq.ts',
        [`--jobs=${JOBS}`, `--concurrent=${BULLMQ_CONCURRENCY}`],
        { TEST_REDIS_URL: url },
      ),
    print: printBullMq,
  });
  const contenders: Contender[] = [
    {
      key: 'on',
      title: `ours, batch on (batchSize ${BATCH_SIZE}, batchFlushInterval ${FLUSH_MS} ms)`,
      run: () =>
        scenario(out, './persist-postgres.ts', [
          '--mode=on',
          `--jobs=${JOBS}`,
          `--batch-size=${BATCH_SIZE}`,
          `--flush=${FLUSH_MS}`,
          '--concurrent=50',
        ]),
      print: (o, f) => printOn(o, f, bound),
    },
    pgBoss(PGBOSS_BATCH),
    pgBoss(PGBOSS_BATCH * 2),
    bullMq('bullmq', `Redis at ${REDIS_URL} as configured`, REDIS_URL),
  ];
  if (aof) {
    contenders.push(bullMq('bullmqAof', 'a private Redis with AOF, appendfsync everysec', aof.url));
  }
  const best: Record<string, Figures | undefined> = {};
  const rounds: Record<string, string[]> = {};
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of contenders) {
        const f = await c.run();
        (rounds[c.key] ??= []).push(isSkipped(f) ? 'skipped' : int(f?.runsPerSec));
        if (isSkipped(f)) best[c.key] = f;
        else if (f && !(Number(best[c.key]?.runsPerSec) >= Number(f.runsPerSec))) best[c.key] = f;
      }
    }
  } finally {
    await aof?.stop();
    unregister();
  }
  out.write(`  best of ${ROUNDS} interleaved rounds each (load after: ${load()}):\n`);
  let letter = 'b'.charCodeAt(0);
  for (const c of contenders) {
    const f = best[c.key];
    out.write(
      `  3${String.fromCharCode(letter++)}. ${c.title}: runs/s per round ${(rounds[c.key] ?? []).join(' / ')}\n`,
    );
    if (isSkipped(f)) out.write(`    skipped: ${String(f?.reason)} (${String(f?.url)})\n`);
    else if (f) c.print(out, f);
  }

  score(board, { bound, off, ...best });
  return true;
}

function score(board: Scoreboard, f: Record<string, Figures | undefined>): void {
  const { bound, off, on, bullmq, bullmqAof } = f;
  const pgboss = f[`pgboss${PGBOSS_BATCH}`];
  const pgboss2 = f[`pgboss${PGBOSS_BATCH * 2}`];
  const s = `Persisted drain (${int(JOBS)} due no-op jobs, a history record each): runs/s`;
  const rate = (x: Figures | undefined): number | undefined => x?.runsPerSec as number | undefined;
  const ourTimeline =
    `Where our time goes: start() reads the ${int(JOBS)} jobs (${ms(on?.startMs)} ms), every handler is done at ${ms(on?.handlersMs)} ms,` +
    ` and the last batched write of runs (its largest statement ${int(on?.maxRunsPerUpsert)} runs; a flush of 2,000 or more goes in two statements at once, then the jobs) ends at ${ms(on?.runsMs)} ms:` +
    ' the writes set the pace, and the last flush overlaps no other work';
  const cpus = (theirs: string): string =>
    `CPU per job: ${theirs}; ours ${cpuPerJob(on, 'postgres')}.`;
  const pgBossWhy = (p: Figures | undefined): string =>
    `${ourTimeline}. pg-boss fetches and completes up to ${int(p?.batchSize)} jobs per statement (${num(p?.statementsPerRun, 4)} statements per job),` +
    ` ${int(p?.loops)} batches at once, and hands a whole batch to one handler call. ${cpus(`pg-boss ${cpuPerJob(p, 'postgres')}`)}`;
  const redisWhy = (b: Figures | undefined): string =>
    `${ourTimeline}. BullMQ finishes a job and takes the next in one Lua script call (${num(b?.scriptCallsPerJob)} per job) inside Redis, in memory` +
    ` (${String(b?.persistence)}), 50 jobs at a time, and no disk write is waited for (with AOF, Redis fsyncs once a second in the background). ${cpus(`BullMQ ${cpuPerJob(b, 'redis')}`)}`;
  const offWhy =
    `Without batching each run is ${num(off?.statementsPerRun)} statements, each its own commit, so it is bound by the server's commit rate` +
    ` (${int(bound?.commitsPerSec)} single-row commits/s here); turn on enableBatchUpdate for throughput.`;

  const vs = (
    label: string,
    ours: Figures | undefined,
    theirs: Figures | undefined,
    who: string,
    note: string,
    why: string,
  ): void =>
    board.compare({
      scenario: `${s}, ${label}`,
      ours: rate(ours),
      theirs: rate(theirs),
      who,
      note: `(${note})`,
      better: 'higher',
      format: int,
      why: isSkipped(theirs) ? 'skipped' : why,
    });
  const pgBossNote = (batch: number): string => `pg-boss, ${PGBOSS_LOOPS} loops x ${batch}`;
  vs(
    'ours batch on vs pg-boss',
    on,
    pgboss,
    'pg-boss',
    pgBossNote(PGBOSS_BATCH),
    pgBossWhy(pgboss),
  );
  vs(
    'ours batch on vs pg-boss, larger batches',
    on,
    pgboss2,
    'pg-boss',
    pgBossNote(PGBOSS_BATCH * 2),
    pgBossWhy(pgboss2),
  );
  vs(
    'ours batch on vs BullMQ',
    on,
    bullmq,
    'BullMQ',
    `BullMQ, Redis ${String(bullmq?.persistence ?? '')}`,
    redisWhy(bullmq),
  );
  if (bullmqAof) {
    vs(
      'ours batch on vs BullMQ on Redis with AOF',
      on,
      bullmqAof,
      'BullMQ',
      'BullMQ, Redis appendonly=yes, appendfsync=everysec',
      redisWhy(bullmqAof),
    );
  }
  vs('ours batch off vs pg-boss', off, pgboss, 'pg-boss', pgBossNote(PGBOSS_BATCH), offWhy);
  vs('ours batch off vs BullMQ', off, bullmq, 'BullMQ', 'BullMQ, local Redis', offWhy);
  board.row(
    `${s}, ours batch on vs PostgreSQL's bound`,
    int(rate(on)),
    `${int(bound?.rowsPerSec100)} rows/s (100-row INSERTs, one connection)`,
    `${ratio(rate(on), bound?.rowsPerSec100)} (${ratio(Number(rate(on)) * 2, bound?.rowsPerSec100)} in rows: each run writes its run and its job)`,
  );
  board.row(
    `${s}, ours batch off vs PostgreSQL's bound`,
    int(rate(off)),
    `${int(bound?.commitsPerSec)} commits/s (single-row INSERTs)`,
    `${ratio(rate(off), bound?.commitsPerSec)} (${num(off?.statementsPerRun)} statements per run)`,
  );
  board.row(
    'Persisted drain: statements per run, ours batch off / on',
    `${num(off?.statementsPerRun)} / ${num(on?.statementsPerRun, 4)}`,
    `${num(pgboss?.statementsPerRun, 4)} per job (pg-boss, ${PGBOSS_LOOPS} x ${PGBOSS_BATCH}); ${num(bullmq?.scriptCallsPerJob)} script calls per job (BullMQ)`,
  );
  const cpuWhy =
    'A run of ours is a full run: a claim, a run record created and ended, the job updated, a context, an id and its awaits, and two batched writes; the peers move a job with less.';
  for (const [who, theirs, server] of [
    ['pg-boss', pgboss, 'postgresCpuMs'],
    ['BullMQ', bullmq, 'redisCpuMs'],
  ] as const) {
    board.compare({
      scenario: `Persisted drain: CPU per job, µs (Node + ${server === 'redisCpuMs' ? 'Redis' : 'PostgreSQL'}), ours batch on vs ${who}`,
      ours: cpuUs(on, 'postgresCpuMs'),
      theirs: cpuUs(theirs, server),
      who,
      better: 'lower',
      format: int,
      why: cpuWhy,
    });
  }
}
