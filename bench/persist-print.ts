/**
 * How section 3 (persisted drain) prints each contender's figures: the server bound, ours with
 * batching off and on, pg-boss and BullMQ.
 */
import { int, ms, num, ratio } from './format.js';
import type { Figures } from './scenario.js';
import type { Transcript } from './transcript.js';

const counts = (f: Figures): Record<string, number> =>
  (f.counts ?? {}) as unknown as Record<string, number>;

/** µs of CPU per job, e.g. `node 55 µs + postgres 85 µs`. */
export function cpuPerJob(f: Figures | undefined, server: 'postgres' | 'redis'): string {
  if (!f) return 'n/a';
  const jobs = Number(f.jobs);
  const serverMs = Number(server === 'postgres' ? f.postgresCpuMs : f.redisCpuMs);
  return `node ${int((Number(f.nodeCpuMs) * 1000) / jobs)} µs + ${server} ${int((serverMs * 1000) / jobs)} µs`;
}

export function printBound(out: Transcript, bound: Figures): void {
  out.write(
    `  server bound, one connection, best of 3 rounds (${String(bound.settings)}):\n` +
      `    single-row INSERT commits/s ${int(bound.commitsPerSec)}` +
      ` (bare pg ${int(bound.commitsPerSecRaw)}; a fresh QueryRunner each ${int(bound.commitsPerSecFreshRunner)})\n` +
      `    100-row INSERTs rows/s ${int(bound.rowsPerSec100)} (bare pg ${int(bound.rowsPerSec100Raw)})\n` +
      `    SELECT 1 round trips/s ${int(bound.selectsPerSec)}` +
      ` (bare pg ${int(bound.selectsPerSecRaw)}; a fresh QueryRunner each ${int(bound.selectsPerSecFreshRunner)})\n`,
  );
}

export function printOff(out: Transcript, off: Figures, bound: Figures | undefined): void {
  const c = counts(off);
  const perSec = Number(off.statements) / (Number(off.runsMs) / 1000);
  out.write(
    `    runs/s ${int(off.runsPerSec)} persisted (every run row written ${ms(off.runsMs)} ms after start(),` +
      ` of which start() ${ms(off.startMs)} ms; every job row ${ms(off.jobsMs)} ms)\n` +
      `    statements ${int(off.statements)} = ${num(off.statementsPerRun)} per run` +
      ` (run upserts ${int(c.runUpsert)}, job updates ${int(c.jobUpdate)}, selects ${int(c.select)}, begin/commit ${int(off.controlStatements)})` +
      ` = ${int(perSec)} statements/s, ${ratio(perSec, bound?.commitsPerSec)} the single-row commit bound\n` +
      `    CPU during the drain: node ${int(off.nodeCpuMs)} ms, postgres ${int(off.postgresCpuMs)} ms` +
      ` (${int((Number(off.postgresCpuMs) * 1000) / Number(off.statements))} µs per statement)\n`,
  );
}

export function printOn(out: Transcript, on: Figures, bound: Figures | undefined): void {
  const c = counts(on);
  const flushes = Number(on.flushes);
  const records = Number(on.upsertedRuns) + Number(on.batchUpdatedJobs);
  const flushStatements = Number(on.statements) - c.select!;
  const slow = (on.slowMs ?? {}) as unknown as Record<string, number>;
  out.write(
    `    runs/s ${int(on.runsPerSec)} persisted (every run row written ${ms(on.runsMs)} ms after start():` +
      ` start() ${ms(on.startMs)} ms, handlers all done at ${ms(on.handlersMs)} ms; every job row at ${ms(on.jobsMs)} ms)\n` +
      `    statements ${int(on.statements)} = ${num(on.statementsPerRun, 4)} per run` +
      ` (run upserts ${int(c.runUpsert)}, job batch updates ${int(c.jobBatchUpdate)}, single job updates ${int(c.jobUpdate)},` +
      ` selects ${int(c.select)}, begin/commit ${int(on.controlStatements)})\n` +
      `    flushes ${int(flushes)} (failed ${int(on.flushFailures)}): ${num(flushStatements / flushes, 1)} round trips per flush,` +
      ` ${int(records / flushes)} records per flush (runs ${int(on.upsertedRuns)}, jobs ${int(on.batchUpdatedJobs)}), largest run upsert ${int(on.maxRunsPerUpsert)} rows\n` +
      `    time in flush statements (TypeORM slow-query log, ≥1 ms): run upserts ${int(slow.runUpsert)} ms,` +
      ` job updates ${int(slow.jobBatchUpdate)} ms\n` +
      `    CPU during the drain: node ${int(on.nodeCpuMs)} ms, postgres ${int(on.postgresCpuMs)} ms (${cpuPerJob(on, 'postgres')} per run)\n` +
      `    ours / bound: ${ratio(on.runsPerSec, bound?.rowsPerSec100)} of the 100-row INSERT rows/s in runs/s;` +
      ` each run writes 2 rows (its run, its job), so ${ratio(Number(on.runsPerSec) * 2, bound?.rowsPerSec100)} in rows\n` +
      `    aim (≥ 10,000 runs/s, ≤ 1 round trip per batch write; a flush makes two: its runs, then its jobs): runs/s ${Number(on.runsPerSec) >= 10_000 ? 'met' : 'NOT met'},` +
      ` round trips per batch write ${num(flushStatements / flushes / 2, 1)} (${flushStatements / flushes / 2 <= 1 ? 'met' : 'NOT met'})\n`,
  );
}

export function printPgBoss(out: Transcript, f: Figures): void {
  out.write(
    `    runs/s ${int(f.runsPerSec)} (every job \`completed\` ${ms(f.runsMs)} ms after the first work(); handlers all called at ${ms(f.handlersMs)} ms;` +
      ` inserting the jobs took ${ms(f.addMs)} ms)\n` +
      `    statements ${int(f.statements)} = ${num(f.statementsPerRun, 4)} per job (a fetch and a completion per batch, and the empty polls at the end)\n` +
      `    CPU during the drain: node ${int(f.nodeCpuMs)} ms, postgres ${int(f.postgresCpuMs)} ms (${cpuPerJob(f, 'postgres')} per job)\n`,
  );
}

export function printBullMq(out: Transcript, f: Figures): void {
  out.write(
    `    runs/s ${int(f.runsPerSec)} (every job in the completed set ${ms(f.runsMs)} ms after worker.run(); addBulk took ${ms(f.addMs)} ms;` +
      ` ${int(f.completedKept)} completed jobs kept)\n` +
      `    Lua script calls ${num(f.scriptCallsPerJob)} per job (server-wide count); Redis ${String(f.redisVersion)}, ${String(f.persistence)}\n` +
      `    CPU during the drain: node ${int(f.nodeCpuMs)} ms, redis ${int(f.redisCpuMs)} ms (${cpuPerJob(f, 'redis')} per job)\n`,
  );
}
