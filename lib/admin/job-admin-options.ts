import { InvalidOptionsError } from '../errors/invalid-options.error.js';
import type {
  JobAdminModuleOptions,
  NormalizedJobAdminOptions,
} from './job-admin-options.interface.js';

/** The injection token of the admin module's checked options. */
export const JOB_ADMIN_OPTIONS = Symbol('JOB_ADMIN_OPTIONS');

const KNOWN = new Set(['path', 'readOnly', 'guards', 'allowRemote']);
/** Path segments of letters, digits, `-`, `_` and `.`, separated by `/` (no `..`). */
const PATH = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+)*$/;

/** Checks `JobAdminModule.register()`'s options (`InvalidOptionsError` naming the first bad one). */
export function normalizeAdminOptions(
  options: JobAdminModuleOptions | undefined,
): NormalizedJobAdminOptions {
  const given = options ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new InvalidOptionsError('JobAdminModule options', options, 'an object');
  }
  for (const key of Object.keys(given)) {
    if (!KNOWN.has(key)) {
      throw new InvalidOptionsError(
        key,
        (given as Record<string, unknown>)[key],
        `one of the JobAdminModule options: ${[...KNOWN].join(', ')}`,
      );
    }
  }
  const raw = given.path ?? 'jobs';
  const path = typeof raw === 'string' ? raw.replace(/^\/+|\/+$/g, '') : raw;
  if (typeof path !== 'string' || !PATH.test(path)) {
    throw new InvalidOptionsError(
      'path',
      raw,
      "a URL path such as 'jobs' or 'admin/jobs' (letters, digits, '-', '_', '.', '/')",
    );
  }
  for (const key of ['readOnly', 'allowRemote'] as const) {
    if (given[key] !== undefined && typeof given[key] !== 'boolean') {
      throw new InvalidOptionsError(key, given[key], 'true or false');
    }
  }
  const guards = given.guards ?? [];
  if (
    !Array.isArray(guards) ||
    guards.some(
      (guard) =>
        typeof guard !== 'function' &&
        (typeof guard !== 'object' ||
          guard === null ||
          typeof (guard as { canActivate?: unknown }).canActivate !== 'function'),
    )
  ) {
    throw new InvalidOptionsError(
      'guards',
      guards,
      'an array of Nest guards (classes or instances with canActivate)',
    );
  }
  return {
    path,
    readOnly: given.readOnly ?? false,
    guards: [...guards],
    allowRemote: given.allowRemote ?? false,
  };
}
