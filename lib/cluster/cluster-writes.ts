import type {
  ClusterStorage,
  JobClaim,
  JobWriteCondition,
  RunEndOutcome,
  RunRelease,
} from '../interfaces/cluster-storage.js';
import type { Job } from '../interfaces/job.interface.js';
import type { Run } from '../interfaces/run.interface.js';
import { copyJob } from '../core/record-copy.js';
import { WriteBatch } from './write-batch.js';

/** Items per batched statement. */
const BATCH_SIZE = 500;
/** Batched statements of one kind out at once: one (measured: two made smaller batches, more statements, 25% fewer runs/s in the bulk drain). */
const BATCHES_IN_FLIGHT = 1;

/** What a claim and a run's record are sent with: the lease they are under. */
type Leased<T> = T & { lease: string };

/**
 * The three writes of every cluster run: the claim, the run's record, and its end with the job's
 * release. With a storage that has the batched methods (`claimJobs`, `createClaimedRuns`,
 * `finishRunsAndReleaseJobs`: `TypeOrmStorage` on PostgreSQL), the writes of concurrent fires go
 * in one statement per kind (`WriteBatch`); each keeps the condition and fencing of its single
 * statement, and the database still judges every one. Otherwise each is its own statement.
 */
export class ClusterWrites {
  private readonly claims?: WriteBatch<Leased<JobClaim>, boolean>;
  private readonly starts?: WriteBatch<Leased<{ run: Run }>, boolean>;
  private readonly ends?: WriteBatch<RunRelease, RunEndOutcome>;

  constructor(private readonly storage: ClusterStorage) {
    // Called through the storage at each send (not bound here), as a storage may be wrapped later.
    const s = storage as Required<ClusterStorage>;
    if (storage.claimJobs !== undefined) {
      this.claims = batch((items: Leased<JobClaim>[]) =>
        inGroups(
          items,
          (c) => c.lease,
          (c) => [c.job.id],
          (claims, lease) => s.claimJobs(claims, lease),
        ),
      );
    }
    if (storage.createClaimedRuns !== undefined) {
      this.starts = batch((items: Leased<{ run: Run }>[]) =>
        inGroups(
          items,
          (r) => r.lease,
          (r) => [r.run.id],
          (runs, lease) =>
            s.createClaimedRuns(
              runs.map((r) => r.run),
              lease,
            ),
        ),
      );
    }
    if (storage.finishRunsAndReleaseJobs !== undefined) {
      this.ends = batch((items: RunRelease[]) =>
        inGroups(
          items,
          (e) => e.claimedBy,
          (e) => [e.run.id, e.job.id],
          (ends) => s.finishRunsAndReleaseJobs(ends),
        ),
      );
    }
  }

  /** Whether the run's end and the job's release are one write (both or neither). */
  get endsInOne(): boolean {
    return this.ends !== undefined || this.storage.finishRunAndWriteJob !== undefined;
  }

  /** Claims the job for `lease` if it is stored at `version` and claimed by nobody. */
  claim(job: Job, version: number, lease: string): Promise<boolean> {
    if (this.claims !== undefined) return this.claims.submit({ job: copyJob(job), version, lease });
    return this.storage.writeJobIf(job, { version, claimedBy: null, claim: lease, lease });
  }

  /** Records the run while its job is claimed by `lease` (`RunAlreadyRecordedError` as `createClaimedRun`). */
  async insertRun(run: Run, lease: string): Promise<boolean> {
    if (this.starts !== undefined && (await this.starts.submit({ run, lease }))) return true;
    // Alone, or not stored in the batch: the single statement tells a lost claim from a recorded fire.
    return this.storage.createClaimedRun(run, lease);
  }

  /** The run's end, then (only if written) the job released: in one write (see `endsInOne`). */
  endAndRelease(run: Run, job: Job, release: JobWriteCondition): Promise<RunEndOutcome> {
    const claimedBy = release.claimedBy as string;
    if (this.ends !== undefined) {
      return this.ends.submit({ run, job: copyJob(job), version: release.version, claimedBy });
    }
    return (
      this.storage.finishRunAndWriteJob as NonNullable<ClusterStorage['finishRunAndWriteJob']>
    ).call(this.storage, run, job, release);
  }
}

function batch<I, O>(send: (items: I[]) => Promise<O[]>): WriteBatch<I, O> {
  return new WriteBatch(send, BATCH_SIZE, BATCHES_IN_FLIGHT);
}

/**
 * Sends the items in as few statements as the batched methods take: one lease each, and no id (of
 * a job or a run) twice in one. Almost always one statement. Answers in order.
 */
async function inGroups<T, O>(
  items: T[],
  leaseOf: (item: T) => string,
  idsOf: (item: T) => string[],
  send: (items: T[], lease: string) => Promise<O[]>,
): Promise<O[]> {
  const groups: Array<{ lease: string; ids: Set<string>; indexes: number[] }> = [];
  items.forEach((item, i) => {
    const lease = leaseOf(item);
    const ids = idsOf(item);
    let group = groups.find((g) => g.lease === lease && ids.every((id) => !g.ids.has(id)));
    if (group === undefined) {
      group = { lease, ids: new Set(), indexes: [] };
      groups.push(group);
    }
    for (const id of ids) group.ids.add(id);
    group.indexes.push(i);
  });
  if (groups.length === 1) return send(items, groups[0]!.lease);
  const out: O[] = [];
  for (const group of groups) {
    const answers = await send(
      group.indexes.map((i) => items[i] as T),
      group.lease,
    );
    group.indexes.forEach((i, k) => (out[i] = answers[k] as O));
  }
  return out;
}
