import { afterAll, expect, it } from 'vitest';
import { SampleApp } from '../utils/sample-app.js';

/**
 * `npm run start:sample`, as the README tells a new user to run it: the sample is built the way
 * `nest start` builds it, runs its jobs on a fresh SQLite file, serves the dashboard and its own
 * `POST /users` (a welcome mail job added in the user's transaction), and stops gracefully on
 * SIGTERM.
 */
const sample = new SampleApp('sample');
afterAll(() => sample.dispose());

it('builds, runs its jobs on SQLite, serves its dashboard and users, and stops on SIGTERM', async () => {
  await sample.build();
  const url = await sample.start();
  await sample.waitFor(/✔ Scheduled cleanup/);
  const page = await fetch(`${url}/jobs/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<base href="/jobs/">');
  expect((await fetch(`${url}/jobs/assets/app.js`)).status).toBe(200);
  const user = await fetch(`${url}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ada@example.com' }),
  });
  expect(user.status).toBe(201);
  await sample.waitFor(/Welcome mail sent to ada@example.com/);
  const ending = await sample.stop();
  expect(sample.output).toMatch(/Scheduler stopped on SIGTERM/);
  expect(ending).toBe('SIGTERM');
}, 90_000);
