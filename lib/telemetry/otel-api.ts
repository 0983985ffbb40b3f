import { createRequire } from 'node:module';
import type * as OpenTelemetryApi from '@opentelemetry/api';
import { packageRequire } from './package-require.cjs';

/** The `@opentelemetry/api` module. */
export type OtelApi = typeof OpenTelemetryApi;

/** The instrumentation scope of the scheduler's spans and instruments. */
export const INSTRUMENTATION_NAME = 'nestjs-job-scheduler';

/**
 * `@opentelemetry/api`, or `null` when it is not installed (it is an optional peer dependency, so
 * nothing in the scheduler imports it statically). Loaded with `require`: its Node entry point is the
 * same CommonJS file for `import` and `require`, so this is the very module the application imports
 * and registers its SDK through. Any other failure to load it is thrown. `from`: where to resolve
 * it from (where this package is installed by default).
 */
export function loadOpenTelemetryApi(from?: string | URL): OtelApi | null {
  try {
    const load = from === undefined ? packageRequire : createRequire(from);
    return load('@opentelemetry/api') as OtelApi;
  } catch (err) {
    if (isModuleNotFound(err)) return null;
    throw err;
  }
}

/** This package's version (the instrumentation scope version), or undefined if it cannot be read. */
export function instrumentationVersion(): string | undefined {
  try {
    const pkg = packageRequire(`${INSTRUMENTATION_NAME}/package.json`) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}

function isModuleNotFound(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { code?: unknown }).code === 'MODULE_NOT_FOUND' &&
    String((err as { message?: unknown }).message).includes('@opentelemetry/api')
  );
}
