import type { JobContext } from '../interfaces/handler.interface.js';
import type { Job } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { copyJob, copyRun } from './record-copy.js';

/**
 * The `ctx` a handler receives. The job snapshot and the AbortController are made on first use:
 * most handlers never read them, and a run should allocate as little as it can.
 */
export class RunContext implements JobContext {
  private controller: AbortController | undefined;
  private jobSnapshot: Readonly<Job> | undefined;
  private runSnapshot: Readonly<Run> | undefined;
  private abortReason: unknown;

  constructor(
    private readonly liveJob: Job,
    private readonly liveRun: Run,
    readonly attempt: number,
  ) {}

  /** A copy of the job: the scheduler's own Dates are shared between jobs and never handed out. */
  get job(): Readonly<Job> {
    return (this.jobSnapshot ??= Object.freeze(copyJob(this.liveJob)));
  }

  /** A copy of the run record, as it is when first read (status `running`). */
  get run(): Readonly<Run> {
    return (this.runSnapshot ??= Object.freeze(copyRun(this.liveRun)));
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Aborts the signal (now, or when it is first read). */
  abort(reason: Error): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
