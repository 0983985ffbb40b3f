import type { Job } from '../interfaces/job.interface.js';
import { copyJob } from './record-copy.js';

/**
 * Cluster mode: the end of a run, written over the job as another instance left it during the run
 * (paused it, redefined it). The run's outcome is kept: its last result and retry count, and the
 * status and next fire when the run decided them (a retry, the end of a once job, a catch-up); what
 * the other instance decided stays (a pause, a new definition and its next fire).
 */
export function mergeRunOutcome(stored: Job, ended: Job, decidedNext: boolean): Job {
  const merged = copyJob(stored);
  merged.lastResult = ended.lastResult;
  merged.lastRunAt = ended.lastRunAt;
  merged.retryCount = ended.retryCount;
  if (stored.status === 'paused') {
    merged.nextRunAt = null;
    return merged;
  }
  merged.status =
    ended.status === 'running' || ended.status === 'paused' ? 'pending' : ended.status;
  if (decidedNext) merged.nextRunAt = ended.nextRunAt;
  return merged;
}
