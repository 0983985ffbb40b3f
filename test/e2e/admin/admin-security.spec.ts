import { afterEach, describe, expect, it } from 'vitest';
import { InvalidOptionsError } from '../../../lib/errors/invalid-options.error.js';
import { JobAdminModule } from '../../../lib/admin/index.js';
import { ApiKeyGuard, adminApp, XSS, type AdminApp } from './admin-app.js';

const CSP = "default-src 'self'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/** Every mutation of the API, with a body. */
const MUTATIONS: ReadonlyArray<readonly [string, string, unknown]> = [
  ['POST', 'api/jobs', { id: 'new', handlerName: 'ok', interval: '1h' }],
  ['POST', 'api/jobs/kept/pause', {}],
  ['POST', 'api/jobs/kept/resume', {}],
  ['POST', 'api/jobs/kept/trigger', {}],
  ['DELETE', 'api/jobs/kept', {}],
];

describe('JobAdminModule: security', () => {
  let admin: AdminApp;

  afterEach(async () => {
    await admin?.close();
  });

  it('refuses every mutation with 403 in readOnly mode, changing nothing, and still serves reads', async () => {
    admin = await adminApp({ readOnly: true });
    await admin.scheduler.addJob({ id: 'kept', handlerName: 'ok', interval: '1h' });
    for (const [method, path, body] of MUTATIONS) {
      const response = await admin.call(method, path, body);
      expect([method, path, response.status, response.json.code]).toStrictEqual([
        method,
        path,
        403,
        'READ_ONLY',
      ]);
    }
    const kept = await admin.scheduler.getJob('kept');
    expect(kept.status).toBe('pending');
    expect((await admin.scheduler.getRuns('kept', 10)).length).toBe(0);
    expect((await admin.call('GET', 'api/jobs/kept')).status).toBe(200);
    expect((await admin.call('GET', 'api/health')).json.readOnly).toBe(true);
    expect(admin.logger.lines.filter((line) => line.includes('READ_ONLY'))).toHaveLength(
      MUTATIONS.length,
    );
  });

  it('refuses a mutation from another site or origin (403) and one that is not JSON (415)', async () => {
    admin = await adminApp();
    await admin.scheduler.addJob({ id: 'kept', handlerName: 'ok', interval: '1h' });
    for (const [method, path, body] of MUTATIONS) {
      for (const site of ['cross-site', 'same-site']) {
        const response = await admin.call(method, path, body, { 'sec-fetch-site': site });
        expect([path, site, response.status, response.json.code]).toStrictEqual([
          path,
          site,
          403,
          'CROSS_SITE',
        ]);
      }
      for (const origin of ['http://evil.example', 'null', `http://localhost:1`]) {
        const response = await admin.call(method, path, body, { origin });
        expect([path, origin, response.status]).toStrictEqual([path, origin, 403]);
      }
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const response = await admin.call(method, path, JSON.stringify(body), {
          'content-type': type,
        });
        expect([path, type, response.status, response.json.code]).toStrictEqual([
          path,
          type,
          415,
          'UNSUPPORTED_MEDIA_TYPE',
        ]);
      }
    }
    expect((await admin.scheduler.getJob('kept')).status).toBe('pending');
    await expect(admin.scheduler.getJob('new')).rejects.toThrow();
    // The same request from the page's own origin, as a browser sends it, is served.
    const own = await admin.call(
      'POST',
      'api/jobs/kept/pause',
      {},
      { origin: admin.origin, 'sec-fetch-site': 'same-origin' },
    );
    expect(own.status).toBe(200);
  });

  it('serves only loopback clients without guards or allowRemote; a proxied request is not loopback', async () => {
    admin = await adminApp();
    const proxied = await admin.call('GET', 'api/jobs', undefined, {
      'x-forwarded-for': '203.0.113.9',
    });
    expect([proxied.status, proxied.json.code]).toStrictEqual([403, 'REMOTE_CLIENT']);
    expect((await admin.call('GET', '', undefined, { forwarded: 'for=203.0.113.9' })).status).toBe(
      403,
    );
    expect((await admin.call('GET', 'api/jobs')).status).toBe(200);
    await admin.close();
    admin = await adminApp({ allowRemote: true });
    expect(
      (await admin.call('GET', 'api/jobs', undefined, { 'x-forwarded-for': '203.0.113.9' })).status,
    ).toBe(200);
  });

  it("applies the app's guards to every route, API and page", async () => {
    admin = await adminApp({ guards: [ApiKeyGuard] });
    for (const path of ['', 'api/jobs', 'api/health', 'assets/app.js']) {
      expect([path, (await admin.call('GET', path)).status]).toStrictEqual([path, 403]);
      const key = { 'x-api-key': 'secret', 'x-forwarded-for': '203.0.113.9' };
      expect([path, (await admin.call('GET', path, undefined, key)).status]).toStrictEqual([
        path,
        200,
      ]);
    }
  });

  it("is behind the app's global guards too, as any controller of the app", async () => {
    admin = await adminApp({}, undefined, new ApiKeyGuard());
    expect((await admin.call('GET', 'api/jobs')).status).toBe(403);
    expect((await admin.call('GET', '')).status).toBe(403);
    expect((await admin.call('GET', 'api/jobs', undefined, { 'x-api-key': 'secret' })).status).toBe(
      200,
    );
  });

  it('serves the page with a <base> for where it is mounted, and its files, with the security headers', async () => {
    admin = await adminApp({ path: 'ops/jobs' }, 'v1');
    for (const path of ['', '/']) {
      const page = await fetch(`${admin.base}${path}`);
      const html = await page.text();
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('content-security-policy')).toBe(CSP);
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(html).toContain('<base href="/v1/ops/jobs/">');
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i); // no inline script
      expect(html).not.toMatch(/\son[a-z]+\s*=/i); // no inline handler
      expect(html).not.toMatch(/\sstyle\s*=/i);
    }
    const script = await admin.call('GET', 'assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(script.headers.get('content-security-policy')).toBe(CSP);
    expect((await admin.call('GET', 'assets/style.css')).headers.get('content-type')).toContain(
      'text/css',
    );
    for (const path of [
      'assets/nope.js',
      'assets/..%2Fadmin-api.controller.ts',
      'assets/index.html',
    ]) {
      expect([path, (await admin.call('GET', path)).status]).toStrictEqual([path, 404]);
    }
    expect((await admin.call('GET', 'api/health')).headers.get('content-security-policy')).toBe(
      CSP,
    );
  });

  it('returns what users wrote verbatim in JSON, never as markup', async () => {
    admin = await adminApp();
    await admin.scheduler.addJob({
      id: 'x',
      name: XSS,
      description: XSS,
      handlerName: 'boom',
      interval: '1h',
      payload: XSS,
    });
    const job = await admin.call('GET', 'api/jobs/x');
    expect(job.headers.get('content-type')).toContain('application/json');
    expect([job.json.name, job.json.description, job.json.payload]).toStrictEqual([XSS, XSS, XSS]);
  });

  it('refuses bad options when the module is registered', () => {
    for (const options of [
      { path: '../up' },
      { path: '' },
      { path: 'a b' },
      { readOnly: 'yes' },
      { guards: ApiKeyGuard },
      { guards: [42] },
      { allowremote: true },
    ]) {
      expect(() => JobAdminModule.register(options as never)).toThrow(InvalidOptionsError);
    }
  });
});
