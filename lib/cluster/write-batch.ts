/**
 * Coalesces calls into batches (group commit): an item submitted while fewer than `maxInFlight`
 * batches are out goes in the batch sent at the end of the current microtask, with every item
 * submitted meanwhile; otherwise it waits for the next batch, sent as soon as one comes back. One
 * item alone costs one statement and no wait; under load each statement carries up to `maxSize`.
 * A batch that fails rejects each of its items with the error (each then takes its own retry path).
 * A batch out longer than `stallMs` (a statement hung on a dead connection) stops holding the next
 * ones back: they go on other connections, and its items still wait for its own answer.
 */
export class WriteBatch<I, O> {
  private queue: Array<{ item: I; resolve: (out: O) => void; reject: (err: unknown) => void }> = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly send: (items: I[]) => Promise<O[]>,
    private readonly maxSize: number,
    private readonly maxInFlight: number,
    private readonly stallMs = 2_000,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, this.maxSize);
      this.inFlight++;
      // Counted out until it answers, or until it stalls.
      let counted = true;
      const uncount = (): void => {
        if (!counted) return;
        counted = false;
        this.inFlight--;
      };
      const stall = setTimeout(() => {
        uncount();
        this.schedule();
      }, this.stallMs);
      stall.unref?.();
      let sent: Promise<O[]>;
      try {
        sent = this.send(batch.map((b) => b.item));
      } catch (err) {
        sent = Promise.reject(err);
      }
      sent.then(
        (outs) => {
          clearTimeout(stall);
          uncount();
          batch.forEach((b, i) => b.resolve(outs[i] as O));
          this.schedule();
        },
        (err: unknown) => {
          clearTimeout(stall);
          uncount();
          for (const b of batch) b.reject(err);
          this.schedule();
        },
      );
    }
  }
}
