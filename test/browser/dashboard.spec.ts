import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SampleApp } from '../utils/sample-app.js';

/**
 * The dashboard in a real browser (Debian's chromium through playwright-core), on the sample app as
 * `npm run start:sample` runs it, with jobs whose name, payload, output and error hold an XSS
 * payload. Screenshots of each step go to test/artifacts/ (git-ignored).
 */
const XSS = '<img src=x onerror=alert(1)>';
/** One without spaces, so that the sample's handler takes it as an email address and echoes it. */
const XSS_EMAIL = '<svg/onload=alert(2)>@example.com';
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join('test', 'artifacts');

describe('the dashboard in Chromium', () => {
  const sample = new SampleApp('browser');
  let browser: Browser;
  let page: Page;
  let url = '';
  const consoleErrors: string[] = [];
  const dialogs: string[] = [];

  /** A change through the API, as the page makes it (JSON, same origin). */
  const api = async (method: string, path: string, body: unknown = {}): Promise<unknown> => {
    const response = await fetch(`${url}/jobs/api/${path}`, {
      method,
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify(body),
    });
    if (response.status >= 300)
      throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };

  const shot = (name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: true });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; npm test does it as root)`,
      );
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    await sample.build();
    url = await sample.start();
    // Jobs whose every user-written text is an XSS payload; the handler fails on it (error text) or echoes it (output).
    await api('POST', 'jobs', {
      id: 'xss-fails',
      name: XSS,
      description: XSS,
      handlerName: 'welcome-mail',
      interval: '1h',
      payload: { email: XSS },
    });
    await api('POST', 'jobs', {
      id: 'xss-echoes',
      name: `ok ${XSS}`,
      handlerName: 'welcome-mail',
      interval: '1h',
      payload: { email: XSS_EMAIL },
    });
    await api('POST', 'jobs/xss-fails/trigger');
    await api('POST', 'jobs/xss-echoes/trigger');
    await sample.waitFor(/Welcome mail sent to <svg/);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
      timezoneId: 'America/New_York',
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void dialog.dismiss();
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await sample.dispose();
  });

  it('shows the overview: counts, the runs-per-hour chart, the jobs failing now, health', async () => {
    await page.goto(`${url}/jobs/`);
    await page.getByTestId('chart').waitFor();
    await page.getByTestId('failing-row').first().waitFor();
    expect(await page.getByTestId('failing-table').textContent()).toContain(XSS);
    await shot('overview');
  });

  it('lists the jobs with the XSS texts as plain text, and searches them', async () => {
    await page.getByTestId('nav-jobs').click();
    await page.getByTestId('job-row').first().waitFor();
    const ids = await page
      .getByTestId('job-row')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job-id')));
    expect(ids).toEqual(expect.arrayContaining(['handler:cleanup', 'xss-fails', 'xss-echoes']));
    expect(await page.getByTestId('jobs-table').textContent()).toContain(XSS);
    await shot('jobs-all');
    // The README's picture (docs/dashboard.png is a copy of one such run's).
    await page.screenshot({
      path: join(ARTIFACTS, 'dashboard-readme.png'),
      clip: { x: 0, y: 0, width: 1280, height: 470 },
    });
    await page.getByTestId('jobs-search').fill('xss');
    await expect
      .poll(async () =>
        (
          await page
            .getByTestId('job-row')
            .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job-id')))
        ).sort(),
      )
      .toEqual(['xss-echoes', 'xss-fails']);
    await shot('jobs');
  });

  it('opens a job, shows its payload as text, triggers it and shows the new run without a reload', async () => {
    await page.goto(`${url}/jobs/#/jobs/xss-fails`);
    await page.getByTestId('job-payload').waitFor();
    expect(await page.getByTestId('job-payload').textContent()).toContain(XSS);
    await page.getByTestId('run-row').first().waitFor();
    const before = await page.getByTestId('run-row').count();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    await page.getByTestId('action-trigger').click();
    await page.getByTestId('confirm-ok').click();
    await expect
      .poll(() => page.getByTestId('run-row').count(), { timeout: 10_000 })
      .toBe(before + 1);
    expect(navigations.filter((to) => !to.includes('#'))).toEqual([]); // no reload
    expect(await page.getByTestId('runs-table').textContent()).toContain('failed');
    await shot('job');
  });

  it('pauses a job (after a confirmation) and shows its new status', async () => {
    await page.getByTestId('action-pause').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-ok').click();
    await expect
      .poll(() => page.getByTestId('job-status').textContent(), { timeout: 10_000 })
      .toContain('paused');
    const stored = await (await fetch(`${url}/jobs/api/jobs/xss-fails`)).json();
    expect(stored).toMatchObject({ status: 'paused' });
  });

  it('switches between UTC and local time, the zone labelled', async () => {
    const first = await page.getByTestId('time').first().textContent();
    const mode = (await page.getByTestId('tz-toggle').textContent())?.trim();
    await page.getByTestId('tz-toggle').click();
    await expect
      .poll(async () => (await page.getByTestId('tz-toggle').textContent())?.trim())
      .not.toBe(mode);
    const title = await page.getByTestId('time').first().getAttribute('title');
    expect(title).toBeTruthy();
    await expect.poll(() => page.getByTestId('time').first().textContent()).not.toBe(first);
  });

  it('lists runs of all jobs and finds the failed one by its error text', async () => {
    await page.getByTestId('nav-runs').click();
    await page.getByTestId('run-row').first().waitFor();
    await page.getByTestId('runs-search').fill('not an email');
    await expect
      .poll(async () =>
        page
          .getByTestId('run-row')
          .evaluateAll(
            (rows) =>
              rows.length > 0 && rows.every((row) => (row.textContent ?? '').includes('xss-fails')),
          ),
      )
      .toBe(true);
    await shot('runs');
  });

  it('never opened a dialog, never ran an injected script, and logged no error (a CSP violation is one)', async () => {
    expect(dialogs).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(await page.locator('img[src="x"], svg[onload]').count()).toBe(0);
  });
});
