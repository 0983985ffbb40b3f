import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import type { Run } from '../../../../lib/interfaces/run.interface.js';
import { TypeOrmStorage } from '../../../../lib/storage/typeorm/index.js';
import { makeJob, makeRun } from '../../../../lib/testing/fixtures.js';
import {
  createTestDataSource,
  describeWithDatabase,
  dropTables,
  tablesOf,
  TEST_DATABASES,
  uniqueTablePrefix,
  unavailableReason,
} from '../../../utils/databases.js';

const postgres = TEST_DATABASES.postgres;
const RUNS = 100_000;
const JOBS = 100;

/**
 * The history queries at scale on PostgreSQL: a page walk over 100,000 runs visits every run once,
 * newest first, with runs of equal instants and runs written during the walk.
 */
describeWithDatabase(
  postgres,
  await unavailableReason(postgres),
  'TypeOrmStorage on PostgreSQL: a page walk over 100,000 runs',
  () => {
    let dataSource: DataSource;
    let storage: TypeOrmStorage;
    const ids = new Set<string>();
    const base = Date.UTC(2031, 5, 1);

    beforeAll(async () => {
      dataSource = await createTestDataSource(postgres);
      storage = new TypeOrmStorage(dataSource, { tablePrefix: uniqueTablePrefix() });
      const jobs = Array.from({ length: JOBS }, (_, i) => makeJob({ id: `walk-job-${i}` }));
      for (const job of jobs) await storage.createJob(job);
      // 10 runs per second of history: many share an instant (to the millisecond, 1 in 5 do).
      for (let from = 0; from < RUNS; from += 10_000) {
        const runs: Run[] = [];
        for (let i = from; i < from + 10_000; i++) {
          const run = makeRun(`walk-job-${i % JOBS}`, {
            id: `walk-run-${i}`,
            status: i % 20 === 0 ? 'failed' : 'success',
            startAt: new Date(base + Math.floor(i / 5) * 100),
          });
          runs.push(run);
          ids.add(run.id);
        }
        await storage.batchUpdateRuns(runs);
      }
    }, 120_000);

    afterAll(async () => {
      if (storage) await dropTables(dataSource, tablesOf(storage));
      if (dataSource?.isInitialized) await dataSource.destroy();
    });

    it('visits each of them once, newest first, while newer runs are written', async () => {
      const seen = new Set<string>();
      let previous: Run | undefined;
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await storage.findRuns({
          limit: 500,
          cursor,
          to: new Date(base + 86_400_000),
        });
        for (const run of page.items) {
          expect(seen.has(run.id)).toBe(false);
          seen.add(run.id);
          if (previous !== undefined) {
            const order =
              previous.startAt.getTime() - run.startAt.getTime() || (previous.id > run.id ? 1 : -1);
            expect(order).toBeGreaterThan(0);
          }
          previous = run;
        }
        cursor = page.nextCursor;
        pages++;
        // A run written during the walk, newer than every page: never in a later page.
        if (pages % 20 === 0) {
          await storage.createRun(
            makeRun('walk-job-0', { startAt: new Date(base + 3_600_000 + pages) }),
          );
        }
      } while (cursor !== null);
      expect(pages).toBe(RUNS / 500);
      expect(seen.size).toBe(RUNS);
      for (const id of ids) expect(seen.has(id)).toBe(true);
    }, 120_000);

    it('walks one job’s runs and the failed runs the same way', async () => {
      for (const [query, expected] of [
        [{ jobId: 'walk-job-7' }, RUNS / JOBS],
        [{ status: 'failed' as const }, RUNS / 20],
      ] as const) {
        let cursor: string | null = null;
        let count = 0;
        do {
          const page = await storage.findRuns({
            ...query,
            limit: 200,
            cursor,
            to: new Date(base + 86_400_000),
          });
          count += page.items.length;
          cursor = page.nextCursor;
        } while (cursor !== null);
        expect([query, count]).toStrictEqual([query, expected]);
      }
    }, 120_000);
  },
);
