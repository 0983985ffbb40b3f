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

/**
 * This package's version (the instrumentation scope version), or undefined if it cannot be read.
 * Read from its package.json by path, two levels up in lib/ and three in dist/esm or dist/cjs: a
 * self-reference by name is not seen from dist/cjs, which has a package.json of its own.
 */
export function instrumentationVersion(): string | undefined {
  for (const path of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = packageRequire(path) as { name?: unknown; version?: unknown };
      if (pkg.name === INSTRUMENTATION_NAME) {
        return typeof pkg.version === 'string' ? pkg.version : undefined;
      }
    } catch {
      // not at this depth
    }
  }
  return undefined;
}

function isModuleNotFound(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { code?: unknown }).code === 'MODULE_NOT_FOUND' &&
    String((err as { message?: unknown }).message).includes('@opentelemetry/api')
  );
}
