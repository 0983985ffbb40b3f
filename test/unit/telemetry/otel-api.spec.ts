import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as api from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  INSTRUMENTATION_NAME,
  instrumentationVersion,
  loadOpenTelemetryApi,
} from '../../../lib/telemetry/otel-api.js';

describe('loadOpenTelemetryApi', () => {
  it('loads the very @opentelemetry/api module the application imports', () => {
    const loaded = loadOpenTelemetryApi();
    expect(loaded).not.toBeNull();
    expect(loaded?.trace).toBe(api.trace);
    expect(loaded?.context).toBe(api.context);
    expect(loaded?.metrics).toBe(api.metrics);
  });

  it('gives null where @opentelemetry/api cannot be found (an optional peer dependency)', () => {
    expect(
      loadOpenTelemetryApi(pathToFileURL(join(tmpdir(), 'no-such-app', 'main.js'))),
    ).toBeNull();
  });

  it('names the instrumentation scope after the package, with its version', async () => {
    const pkg = (await import('../../../package.json', { with: { type: 'json' } })).default;
    expect(INSTRUMENTATION_NAME).toBe(pkg.name);
    expect(instrumentationVersion()).toBe(pkg.version);
  });
});
