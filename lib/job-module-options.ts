import { Logger } from '@nestjs/common';
import { normalizeSchedulerOptions } from './core/normalize-options.js';
import { InvalidOptionsError } from './errors/invalid-options.error.js';
import type {
  JobModuleOptions,
  NormalizedJobModuleOptions,
} from './interfaces/job-module-options.interface.js';
import { DEFAULT_LOGGER_CONTEXT } from './job.constants.js';
import { MemoryStorage } from './storage/memory/memory.storage.js';
import type { JobStorage } from './interfaces/job-storage.js';

/** The methods a storage must have: `JobStorage`'s. */
const STORAGE_METHODS = [
  'createJob',
  'getJob',
  'updateJob',
  'deleteJob',
  'listJobs',
  'createRun',
  'updateRun',
  'getRuns',
  'getJobRunCount',
  'close',
  'ping',
] as const;

/**
 * Validates `JobModule` options and fills their defaults: the one place both `forRoot()` and
 * `forRootAsync()` (on its factory's result) go through. Throws `InvalidOptionsError` naming the
 * option, the value and what is allowed. A left-out `storage` becomes a new `MemoryStorage`, and a
 * left-out `logger` a Nest `Logger` with context `JobScheduler`.
 */
export function normalizeOptions(options: JobModuleOptions): NormalizedJobModuleOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionsError(
      'options',
      options,
      'an object of JobModuleOptions (a forRootAsync factory must return one, {} for the defaults)',
    );
  }
  const storage = options.storage;
  if (storage !== undefined && !isJobStorage(storage)) {
    const missing =
      typeof storage === 'object' && storage !== null
        ? STORAGE_METHODS.filter(
            (m) => typeof (storage as unknown as Record<string, unknown>)[m] !== 'function',
          )
        : [];
    throw new InvalidOptionsError(
      'storage',
      storage,
      `a JobStorage instance, such as new MemoryStorage() or new TypeOrmStorage(dataSource)${
        missing.length > 0 ? ` (this object lacks ${missing.join(', ')})` : ''
      }, or nothing for an in-memory store`,
    );
  }
  const removeUndeclaredJobs = options.removeUndeclaredJobs ?? false;
  if (typeof removeUndeclaredJobs !== 'boolean') {
    throw new InvalidOptionsError(
      'removeUndeclaredJobs',
      removeUndeclaredJobs,
      'true or false (default false)',
    );
  }
  const scheduler = normalizeSchedulerOptions(options, () => new Logger(DEFAULT_LOGGER_CONTEXT));
  return { ...scheduler, storage: storage ?? new MemoryStorage(), removeUndeclaredJobs };
}

function isJobStorage(value: unknown): value is JobStorage {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return STORAGE_METHODS.every((m) => typeof record[m] === 'function');
}
