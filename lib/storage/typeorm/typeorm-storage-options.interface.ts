/** Options of `TypeOrmStorage`: where its tables are and whether it creates them. */
export interface TypeOrmStorageOptions {
  /**
   * Put before the default table names (`jobs`, `job_runs`, `job_leases`), e.g. `'myapp_'` gives
   * `myapp_jobs`, `myapp_job_runs` and `myapp_job_leases`. Letters, digits and `_` only. Not applied
   * to `jobTableName` / `runTableName` / `leaseTableName`.
   */
  tablePrefix?: string;
  /** The jobs table, used as given (no prefix). Letters, digits and `_` only. */
  jobTableName?: string;
  /** The run history table, used as given (no prefix). Letters, digits and `_` only. */
  runTableName?: string;
  /**
   * The lease table of cluster mode (one row per running scheduler instance; default `job_leases`
   * after `tablePrefix`), used as given (no prefix). Letters, digits and `_` only. Created with the
   * other two, whether cluster mode is used or not.
   */
  leaseTableName?: string;
  /**
   * Create the tables and their indexes when missing, on first use (default `true`). Turn it off when
   * the app runs the shipped migration (`createJobTablesMigration`) itself.
   */
  createTables?: boolean;
}
