import { InvalidOptionsError } from '../../errors/invalid-options.error.js';
import type { TypeOrmStorageOptions } from './typeorm-storage-options.interface.js';

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'tablePrefix',
  'jobTableName',
  'runTableName',
  'leaseTableName',
  'createTables',
]);

/**
 * Checks `TypeOrmStorage`'s options object (`InvalidOptionsError` naming an unknown key or a bad
 * `createTables`; the table names are checked by `resolveJobTableNames`). Resolves `createTables`.
 */
export function checkStorageOptions(options: TypeOrmStorageOptions): boolean {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionsError(
      'options',
      options,
      'an object with tablePrefix, jobTableName, runTableName, leaseTableName and/or createTables',
    );
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new InvalidOptionsError(
        key,
        (options as Record<string, unknown>)[key],
        `no such option of TypeOrmStorage (known: ${[...OPTION_KEYS].join(', ')})`,
      );
    }
  }
  const createTables = options.createTables ?? true;
  if (typeof createTables !== 'boolean') {
    throw new InvalidOptionsError('createTables', options.createTables, 'true or false');
  }
  return createTables;
}
