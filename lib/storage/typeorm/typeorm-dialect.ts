/** The SQL dialects `TypeOrmStorage` speaks; `mysql` covers MySQL and MariaDB. */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';

/** The TypeORM `DataSource` types `TypeOrmStorage` supports, and the dialect each one speaks. */
export const SUPPORTED_DATA_SOURCE_TYPES: Readonly<Record<string, SqlDialect>> = Object.freeze({
  postgres: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  'better-sqlite3': 'sqlite',
});

/** What an error message says is supported. */
export const SUPPORTED_DATA_SOURCE_TYPES_TEXT =
  'a DataSource of type "postgres", "mysql", "mariadb" or "better-sqlite3"';

/** The dialect of a TypeORM `DataSource` type, or `undefined` when it is not supported. */
export function dialectOf(type: unknown): SqlDialect | undefined {
  return typeof type === 'string' && Object.hasOwn(SUPPORTED_DATA_SOURCE_TYPES, type)
    ? SUPPORTED_DATA_SOURCE_TYPES[type]
    : undefined;
}

/**
 * The longest identifier (table or index name) each dialect takes: PostgreSQL truncates past 63
 * bytes, MySQL/MariaDB refuse past 64; SQLite has no limit, 64 keeps names portable.
 */
export const MAX_IDENTIFIER_LENGTH: Readonly<Record<SqlDialect, number>> = Object.freeze({
  postgres: 63,
  mysql: 64,
  sqlite: 64,
});

/**
 * Bound parameters one statement may carry: PostgreSQL's wire protocol counts them in 16 bits,
 * SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` is 32766; mysql2 inlines them client-side, where
 * the packet size is the limit, so its batches are kept as small as PostgreSQL's.
 */
export const MAX_PARAMETERS: Readonly<Record<SqlDialect, number>> = Object.freeze({
  postgres: 65_535,
  mysql: 65_535,
  sqlite: 32_766,
});
