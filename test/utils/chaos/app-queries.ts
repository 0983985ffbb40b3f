import type { DataSource } from 'typeorm';

/** One query of the app's own: when it was sent, how long it took, whether it failed. */
export interface AppQuery {
  at: number;
  ms: number;
  ok: boolean;
}

/**
 * The app's own work on the DataSource the scheduler uses: a `SELECT` and a two-statement
 * transaction in turn, every 25 ms, each recorded. The scheduler must not disturb it: in calm
 * periods every query succeeds without waiting for the pool.
 */
export class AppQueries {
  readonly done: AppQuery[] = [];
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly dataSource: DataSource) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The queries sent between `from` and `to` (epoch ms). */
  between(from: number, to: number): AppQuery[] {
    return this.done.filter((query) => query.at >= from && query.at <= to);
  }

  private async run(): Promise<void> {
    for (let i = 0; this.running; i++) {
      const at = Date.now();
      let ok = true;
      try {
        if (i % 2 === 0) {
          await this.dataSource.query('SELECT 1 AS one');
        } else {
          await this.dataSource.transaction(async (manager) => {
            await manager.query('SELECT 1 AS one');
            await manager.query('SELECT 2 AS two');
          });
        }
      } catch {
        ok = false;
      }
      this.done.push({ at, ms: Date.now() - at, ok });
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
