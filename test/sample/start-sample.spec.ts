import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { mustRun } from '../package/consumer-app.js';

/**
 * `npm run start:sample`, as the README tells a new user to run it: the sample is built the way
 * `nest start` builds it (tsconfig.sample.json into dist-sample), runs its jobs on a fresh SQLite
 * file, and stops gracefully on SIGTERM.
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
  const child = spawn(process.execPath, [join(dir, 'out', 'sample', 'main.js')], {
    env: { ...process.env, SAMPLE_SQLITE_FILE: join(dir, 'sample.sqlite'), NO_COLOR: '1' },
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
  child.kill('SIGTERM');
  const ending = await exited;
  expect(output).toMatch(/✔ Scheduled cleanup/);
  expect(output).toMatch(/Scheduler stopped on SIGTERM/);
  expect(ending).toBe('SIGTERM');
}, 60_000);
