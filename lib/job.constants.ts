/**
 * Injection token of the options given to `JobModule.forRoot()` (or returned by the
 * `forRootAsync()` factory), as given: not validated, no defaults filled.
 */
export const JOB_MODULE_OPTIONS = 'nestjs-job-scheduler:module-options';

/**
 * Injection token of the module options once validated and filled with defaults
 * (`NormalizedJobModuleOptions`): what `SchedulerService` is built from.
 */
export const NORMALIZED_JOB_MODULE_OPTIONS = 'nestjs-job-scheduler:normalized-module-options';

/** Internal: provided by `forRoot()` and `forRootAsync()`, to tell them from a bare `imports: [JobModule]`. */
export const JOB_MODULE_CONFIGURED = 'nestjs-job-scheduler:module-configured';

/** Metadata key `@JobHandler()` writes on a class or a method: `{ name, options }`. */
export const JOB_HANDLER_METADATA = 'nestjs-job-scheduler:job-handler';

/** Prefix of the id under which a job declared with `@JobHandler(name, { cron | interval })` is stored. */
export const DECLARED_JOB_ID_PREFIX = 'handler:';

/** Context of the Nest `Logger` the scheduler writes to when no `logger` option is given. */
export const DEFAULT_LOGGER_CONTEXT = 'JobScheduler';

/**
 * The `@JobHandler` options that set the declared job's run and misfire policy, under the names
 * `JobDefinition` gives them (checked with the job, at bootstrap).
 */
export const DECLARED_JOB_POLICY_OPTIONS = [
  'timeout',
  'retryDelay',
  'backoff',
  'maxRetryDelay',
  'jitter',
  'misfirePolicy',
  'maxMisfires',
] as const;
