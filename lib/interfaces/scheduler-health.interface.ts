/** What `health()` reports: enough for a readiness probe. */
export interface SchedulerHealth {
  /** The scheduler is started (firing jobs). */
  started: boolean;
  /** The storage answered `ping()`. */
  storageReachable: boolean;
  /** Why the storage did not answer, when it did not. */
  storageError?: string;
  /** How late the oldest fire that is due and not started yet is, in ms (0 when none is waiting). */
  oldestDueLagMs: number;
  /** Handlers running now. */
  runningNow: number;
  /** Due fires waiting for a slot. */
  queuedNow: number;
  /** Jobs waiting for their handler to be registered on this instance (not fired meanwhile). */
  jobsWithoutHandler: number;
  /** Cluster mode: this instance's lease. */
  cluster?: {
    instanceId: string;
    /** The lease id now held (`<instanceId>#<random>`). */
    leaseId: string;
    /** Renewed within `leaseTtl`: the instance may start runs. */
    leaseValid: boolean;
  };
}
