import { fireBefore, fireBeforeWithinSecond, type ActiveRun, type Fire } from './job-entry.js';
import { OrderedQueue } from './ordered-queue.js';

/**
 * The `concurrentRuns` slots. A due fire starts at once when a slot is free, else waits, in due
 * order, for one. A run holds its slot from its start until its handler settles; in cluster mode a
 * fire holds one while its claim is written too.
 */
export class Dispatcher {
  /** Runs holding a slot: their start being recorded, or their handler going on. */
  readonly active = new Set<ActiveRun>();
  /** Due fires waiting for a free slot, by due time. */
  private readonly waiting: OrderedQueue<Fire>;
  /** Cluster mode: fires holding a slot while their claim is written. */
  private claiming = 0;

  /**
   * `cluster`: waiting fires are taken in an order of this instance's own within each second (its
   * `seq` drawn at random), so instances draining the same backlog mostly claim different jobs
   * instead of racing for the same one.
   */
  constructor(
    private readonly slots: number,
    private readonly cluster: boolean,
  ) {
    this.waiting = new OrderedQueue<Fire>(cluster ? fireBeforeWithinSecond : fireBefore);
  }

  /** Fires waiting for a slot. */
  get queued(): number {
    return this.waiting.size;
  }

  /** When the oldest waiting fire fell due (Infinity when none waits). */
  get oldestDue(): number {
    return this.waiting.peek()?.at ?? Infinity;
  }

  /** Whether a slot is free. */
  hasSlot(): boolean {
    return this.active.size + this.claiming < this.slots;
  }

  /** Lets `fire` wait for a slot; its job holds it as queued until it starts or is dropped. */
  enqueue(fire: Fire): void {
    fire.entry.queued = fire;
    if (this.cluster) fire.seq = Math.random();
    this.waiting.push(fire);
  }

  /**
   * The next waiting fire to start now that a slot is free: the job lets it go from queued. Fires a
   * job dropped meanwhile (paused, removed, redefined: the job was freed then) are passed over.
   * Undefined when no slot is free or nothing waits.
   */
  next(): Fire | undefined {
    while (this.hasSlot()) {
      const fire = this.waiting.pop();
      if (fire === undefined) return undefined;
      if (fire.entry.queued !== fire) continue;
      fire.entry.queued = null;
      return fire;
    }
    return undefined;
  }

  /** Takes out the next waiting fire whatever the slots (emptying at stop). */
  take(): Fire | undefined {
    return this.waiting.pop();
  }

  /** Cluster mode: a fire takes a slot while its claim is written. */
  claimBegun(): void {
    this.claiming++;
  }

  /** Cluster mode: the claim is written (won or not); the slot is the run's if it was won. */
  claimEnded(): void {
    this.claiming--;
  }
}
