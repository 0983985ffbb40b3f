import type { Job } from '../../../lib/interfaces/job.interface.js';
import { CountingBatchStorage } from '../batch/counting-storage.js';

/**
 * `CountingBatchStorage` whose job reads can be held (`holdReads()`: each read takes its value from
 * the memory storage at once, then waits until released) or failed (`readFailure`).
 */
export class GatedReadStorage extends CountingBatchStorage {
  /** While set, `getJob` rejects with it. */
  readFailure: Error | null = null;
  private readGate: Promise<void> | null = null;

  /** Makes reads wait from now on until the returned function is called. */
  holdReads(): () => void {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.readGate = gate;
    return () => {
      if (this.readGate === gate) this.readGate = null;
      release();
    };
  }

  override getJob(id: string): Promise<Job | null> {
    this.count('getJob');
    const failure = this.readFailure;
    const gate = this.readGate;
    const read = this.memory.getJob(id);
    return (async () => {
      const job = await read;
      if (gate !== null) await gate;
      if (failure !== null) throw failure;
      return job;
    })();
  }
}
