import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASES, uniqueTablePrefix, urlOf } from '../utils/databases.js';
import {
  installApp,
  installedVersion,
  mustRun,
  packPackage,
  removePacked,
  runApp,
  type PackedPackage,
} from './consumer-app.js';

/**
 * The package as users get it: `npm pack`, then a plain `npm install` of the tarball into two
 * fresh apps (test/package/apps), each type-checked, built and booted: a Nest 12 ES-module app on
 * PostgreSQL, and a Nest 11 CommonJS app set up as the Nest 11 starter is, on SQLite, which also
 * runs its own Jest test. Installing takes a minute or two (better-sqlite3 compiles from source).
 */
const NEST12_ESM = 'nest12-esm';
const NEST11_CJS = 'nest11-cjs';

describe('the packed package, installed into fresh apps', () => {
  let packed: PackedPackage | undefined;
  const apps = new Map<string, string>();

  beforeAll(async () => {
    packed = await packPackage();
    const [esm, cjs] = await Promise.all([
      installApp(packed, NEST12_ESM),
      installApp(packed, NEST11_CJS),
    ]);
    apps.set(NEST12_ESM, esm).set(NEST11_CJS, cjs);
  }, 900_000);

  afterAll(() => removePacked(packed));

  const app = (name: string): string => {
    const dir = apps.get(name);
    if (!dir) throw new Error(`${name} was not installed`);
    return dir;
  };

  it('holds only what a user needs: both builds with their types, the readme and licence', () => {
    const files = packed!.files;
    const stray = files.filter(
      (file) =>
        !/^(package\.json|README\.md|LICENSE|dist\/(esm|cjs)\/.+\.(js|d\.ts|cjs|d\.cts))$/.test(
          file,
        ) &&
        file !== 'dist/cjs/package.json' &&
        // The dashboard's page, styles and icon, served by the admin module as they are.
        !/^dist\/(esm|cjs)\/admin\/ui\/[a-z0-9._-]+\.(html|css|svg)$/.test(file),
    );
    expect(stray).toEqual([]);
    for (const build of ['esm', 'cjs']) {
      expect(files).toContain(`dist/${build}/admin/ui/index.html`);
      expect(files).toContain(`dist/${build}/admin/ui/app.js`);
      // The browser's files are copied, never compiled: no declarations beside them.
      expect(
        files.filter(
          (file) => file.startsWith(`dist/${build}/admin/ui/`) && file.endsWith('.d.ts'),
        ),
      ).toEqual([]);
    }
    for (const entry of [
      'index',
      'storage/typeorm/index',
      'health/index',
      'testing/index',
      'admin/index',
    ]) {
      for (const build of ['esm', 'cjs']) {
        expect(files).toContain(`dist/${build}/${entry}.js`);
        expect(files).toContain(`dist/${build}/${entry}.d.ts`);
      }
    }
    expect(files).toContain('dist/cjs/package.json');
    expect(files).toContain('LICENSE');
  });

  describe('Nest 12, ES modules, TypeScript 6 (module nodenext), PostgreSQL', () => {
    const prefix = uniqueTablePrefix();

    afterAll(async () => {
      const client = new pg.Client({ connectionString: urlOf(TEST_DATABASES.postgres) });
      client.on('error', () => undefined);
      await client.connect();
      try {
        for (const table of ['job_runs', 'jobs', 'job_leases']) {
          await client.query(`DROP TABLE IF EXISTS "${prefix}${table}"`);
        }
      } finally {
        await client.end();
      }
    });

    it('installs with Nest 12 and TypeORM 1', () => {
      expect(installedVersion(app(NEST12_ESM), '@nestjs/core')).toMatch(/^12\./);
      expect(installedVersion(app(NEST12_ESM), 'typeorm')).toMatch(/^1\./);
    });

    it('type-checks (with the libraries too) and builds', async () => {
      await mustRun('npm', ['run', 'build'], app(NEST12_ESM), 120_000);
    }, 150_000);

    it('runs a declared cron job and an added job, answers /health, serves the dashboard, and exits cleanly', async () => {
      const seen = await runApp(app(NEST12_ESM), {
        DATABASE_URL: urlOf(TEST_DATABASES.postgres),
        TABLE_PREFIX: prefix,
      });
      expect(seen).toMatchObject({
        greeted: 'hello consumer',
        health: 'ok',
        oneCopy: true,
        dashboard: true,
        apiJobs: 2,
      });
      expect(seen.ticked).toMatch(/^tick due at /);
      expect(seen.loadedFrom).toMatch(/\/dist\/esm\/index\.js$/);
    }, 90_000);
  });

  describe('Nest 11, CommonJS, the Nest 11 starter setup (TypeScript 5.9), SQLite', () => {
    it('installs with Nest 11, TypeORM 0.3 and TypeScript 5.9', () => {
      expect(installedVersion(app(NEST11_CJS), '@nestjs/core')).toMatch(/^11\./);
      expect(installedVersion(app(NEST11_CJS), 'typeorm')).toMatch(/^0\.3\./);
      expect(installedVersion(app(NEST11_CJS), 'typescript')).toMatch(/^5\.9\./);
    });

    it('type-checks and builds to CommonJS', async () => {
      await mustRun('npm', ['run', 'build'], app(NEST11_CJS), 120_000);
    }, 150_000);

    it('runs a declared cron job and an added job, answers /health, serves the dashboard, and exits cleanly', async () => {
      const seen = await runApp(app(NEST11_CJS), { DATABASE_FILE: ':memory:' });
      expect(seen).toMatchObject({
        greeted: 'hello consumer',
        health: 'ok',
        oneCopy: true,
        dashboard: true,
        apiJobs: 2,
      });
      expect(seen.ticked).toMatch(/^tick due at /);
      // Node 20.19+ requires the ES build (the `module-sync` condition): one copy for require and import.
      expect(seen.loadedFrom).toMatch(/\/dist\/esm\/index\.js$/);
    }, 90_000);

    it('reports its version from both builds (the instrumentation scope of spans and metrics)', async () => {
      const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
      for (const build of ['esm', 'cjs']) {
        const file = `./node_modules/nestjs-job-scheduler/dist/${build}/telemetry/otel-api.js`;
        const { stdout } = await mustRun(
          'node',
          [
            '-e',
            `import(${JSON.stringify(file)}).then((m) => console.log(m.instrumentationVersion()))`,
          ],
          app(NEST11_CJS),
          30_000,
        );
        expect(`${build}: ${stdout.trim()}`).toBe(`${build}: ${version}`);
      }
    });

    it("passes its own Jest tests (Jest 30 + ts-jest, the starter's jest block), the storage conformance suite of /testing among them", async () => {
      const { stdout, stderr } = await mustRun('npm', ['test'], app(NEST11_CJS), 180_000);
      const output = `${stdout}${stderr}`;
      expect(output).toMatch(/PASS src\/app\.module\.spec\.ts/);
      expect(output).toMatch(/PASS src\/storage\.conformance\.spec\.ts/);
      // The app's 2 tests and the suite's (about 70 on a BatchStorage such as MemoryStorage).
      const [, passed, total] = /Tests:\s+(\d+) passed, (\d+) total/.exec(output) ?? [];
      expect(Number(passed)).toBe(Number(total));
      expect(Number(passed)).toBeGreaterThan(60);
    }, 200_000);
  });
});
