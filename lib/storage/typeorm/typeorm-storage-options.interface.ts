/** Options of `TypeOrmStorage` (the seed's `WithTablePrefix` / `WithJobTableName` / `WithRunTableName`). */
export interface TypeOrmStorageOptions {
  /**
   * Put before the default table names (`jobs`, `job_runs`), e.g. `'myapp_'` gives `myapp_jobs` and
   * `myapp_job_runs`. Letters, digits and `_` only. Not applied to `jobTableName` / `runTableName`.
   */
  tablePrefix?: string;
  /** The jobs table, used as given (no prefix). Letters, digits and `_` only. */
  jobTableName?: string;
  /** The run history table, used as given (no prefix). Letters, digits and `_` only. */
  runTableName?: string;
  /**
   * Create the tables and their indexes when missing, on first use (default `true`). Turn it off when
   * the app runs the shipped migration (`createJobTablesMigration`) itself.
   */
  createTables?: boolean;
}
