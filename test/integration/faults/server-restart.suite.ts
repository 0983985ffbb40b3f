/**
 * A real restart of the database server under a running app: one scheduler and three cluster
 * instances side by side. The server ends every session ("terminating connection due to
 * administrator command"), refuses connections while it is down, then comes back; the apps must
 * hold the invariants of every fault and fire on schedule again within a few seconds.
 *
 * These files run in a phase of their own, after every other suite (vitest.config.mts), since a
 * restart cuts every connection to the server. The restart is `scripts/restart-database.sh`, or the
 * command in TEST_POSTGRES_RESTART / TEST_MARIADB_RESTART for a server it cannot restart.
 */
import { exec } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { ChaosApp } from '../../utils/chaos/chaos-app.js';
import { halfSecond } from '../../utils/chaos/faults.js';
import {
  createTestDataSource,
  describeWithDatabase,
  unavailableReason,
  type TestDatabase,
} from '../../utils/databases.js';
import { expectInvariants, runScenario } from './chaos.suite.js';

const run = promisify(exec);

/** The command that restarts the server of `database` and returns once it is back. */
function restartCommand(database: TestDatabase): string {
  const kind = database.kind === 'postgres' ? 'postgres' : 'mariadb';
  const variable = kind === 'postgres' ? 'TEST_POSTGRES_RESTART' : 'TEST_MARIADB_RESTART';
  return process.env[variable] ?? `bash scripts/restart-database.sh ${kind}`;
}

/**
 * When the server last started, in ms since the epoch (MariaDB: to the second, from its uptime).
 * Asked again until it answers: the admin connection may be one the restart has just ended.
 */
async function serverStartedAt(admin: DataSource, database: TestDatabase): Promise<number> {
  const sql =
    database.kind === 'postgres'
      ? 'SELECT pg_postmaster_start_time() AS at'
      : "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE AS at FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'UPTIME'";
  for (let attempt = 1; ; attempt++) {
    try {
      const [row] = (await admin.query(sql)) as { at: Date | string | number }[];
      const at = row!.at;
      return at instanceof Date ? at.getTime() : Number(at) * 1000;
    } catch (error) {
      if (attempt >= 5) throw error;
      await halfSecond();
    }
  }
}

export async function describeServerRestart(database: TestDatabase): Promise<void> {
  const reason = await unavailableReason(database);

  describeWithDatabase(
    database,
    reason,
    `Database server restart on ${database.label}: one instance and three cluster instances`,
    () => {
      let admin: DataSource;
      const apps: ChaosApp[] = [];

      beforeAll(async () => {
        admin = await createTestDataSource(database);
      });

      afterEach(async () => {
        for (const app of apps.splice(0)) {
          await app.stop();
          await app.dispose();
        }
      });

      afterAll(async () => {
        if (admin?.isInitialized) await admin.destroy();
      });

      it('a restart mid-run: nothing crashes, doubles or stays running, and every job fires again within seconds', async () => {
        for (const instances of [1, 3] as const) {
          apps.push(await ChaosApp.open({ database, admin, instances, jobs: { count: 20 } }));
        }
        const command = restartCommand(database);
        const startedBefore = await serverStartedAt(admin, database);
        const results = await runScenario(database, 'server restart', apps, async () => {
          await halfSecond();
          const from = Date.now();
          try {
            await run(command, { timeout: 60_000 });
          } catch (error) {
            throw new Error(
              `Could not restart ${database.label} with \`${command}\` (set ${database.kind === 'postgres' ? 'TEST_POSTGRES_RESTART' : 'TEST_MARIADB_RESTART'} to a command that restarts the test server): ${String(error)}`,
            );
          }
          return { injected: 1, from, to: Date.now() };
        });
        // The server did restart. An app need not have had a call fail: a quick restart can fall
        // between two fires, and sessions ended while idle are replaced without an error.
        expect(await serverStartedAt(admin, database)).toBeGreaterThan(startedBefore);
        for (const { app, figures, done, window } of results) {
          console.log(
            `  ${database.label} was down or restarting for ${done.to - done.from} ms (${app.label})`,
          );
          await expectInvariants(app, figures, done, window, { min: 0, max: 1 });
        }
      }, 90_000);
    },
  );
}
