import { JobSchedulerError } from './job-scheduler.error.js';
/** `JobModule.forRoot()` / `forRootAsync()` was imported more than once in one application. */
export class DuplicateJobModuleError extends JobSchedulerError {
  readonly code = 'DUPLICATE_JOB_MODULE';

  constructor(readonly count: number) {
    super(
      `JobModule is configured ${count} times in this application (JobModule.forRoot() or forRootAsync() imported ${count} times): each would discover and register every @JobHandler again, and run its own scheduler. Import it once, in the root module; it is global, so every module can inject SchedulerService.`,
    );
  }
}
