import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { mustRun } from '../package/consumer-app.js';

/**
 * `npm run start:sample`, as the README tells a new user to run it: the sample is built the way
 * `nest start` builds it (tsconfig.sample.json into dist-sample, the dashboard's files copied as
 * nest-cli.json's assets say), runs its jobs on a fresh SQLite file, serves the dashboard and its
 * own `POST /users` (a welcome mail job added in the user's transaction), and stops gracefully on
 * SIGTERM.
 */
// Inside the tree (.scratch is ignored by git), so that the build finds node_modules.
mkdirSync('.scratch', { recursive: true });
const dir = mkdtempSync(join('.scratch', 'sample-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('builds, runs its jobs on SQLite and stops gracefully on SIGTERM', async () => {
  await mustRun(
    'npx',
    ['tsc', '-p', 'tsconfig.sample.json', '--outDir', join(dir, 'out')],
    '.',
    120_000,
  );
  cpSync('lib/admin/ui', join(dir, 'out', 'lib', 'admin', 'ui'), { recursive: true });
  const child = spawn(process.execPath, [join(dir, 'out', 'sample', 'main.js')], {
    env: {
      ...process.env,
      SAMPLE_SQLITE_FILE: join(dir, 'sample.sqlite'),
      NO_COLOR: '1',
      PORT: '0',
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // Nest's shutdown hook closes the app, then raises the signal again: the process ends by SIGTERM.
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? `code ${code}`)),
  );
  const deadline = Date.now() + 20_000;
  while (!/✔ Scheduled cleanup/.test(output) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const dashboard = /Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/jobs\//.exec(output)?.[1];
  expect(dashboard).toBeDefined();
  const page = await fetch(`${dashboard}/jobs/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<base href="/jobs/">');
  expect((await fetch(`${dashboard}/jobs/assets/app.js`)).status).toBe(200);
  const user = await fetch(`${dashboard}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com' }),
  });
  expect(user.status).toBe(201);
  while (!/Welcome mail sent to ada@example.com/.test(output) && Date.now() < deadline + 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGTERM');
  const ending = await exited;
  expect(output).toMatch(/✔ Scheduled cleanup/);
  expect(output).toMatch(/Welcome mail sent to ada@example.com/);
  expect(output).toMatch(/Scheduler stopped on SIGTERM/);
  expect(ending).toBe('SIGTERM');
}, 60_000);
