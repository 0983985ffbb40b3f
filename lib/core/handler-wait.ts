import type { SpanContext } from '@opentelemetry/api';
import type { JobLogger } from '../interfaces/logger.interface.js';
import type { JobEntry } from './job-entry.js';

/** A fire of a job whose handler is not registered here, kept until one is. */
export interface ParkedFire {
  at: number;
  attempt: number;
  scheduledAt: number;
  link: SpanContext | undefined;
  /** The job's generation when it was parked: a job paused, removed or redefined since is stale. */
  gen: number;
}

/**
 * The jobs that wait for their handler. A job whose handler is not registered on this instance is a
 * deployment state, not a failure of each fire: its next fire is kept here instead of being booked
 * (no run, no failed record), the first such job of each handler name is logged once, and the fire
 * is booked as soon as a handler of that name is registered (a fire whose time has passed meanwhile
 * is then judged by the job's misfire policy, as after downtime).
 */
export class HandlerWait {
  /** By handler name: the waiting jobs and their next fire. */
  private readonly parked = new Map<string, Map<JobEntry, ParkedFire>>();
  /** Handler names logged already (once per process for each). */
  private readonly warned = new Set<string>();

  constructor(private readonly logger: JobLogger) {}

  /** Keeps the job's next fire until its handler is registered. */
  park(entry: JobEntry, fire: Omit<ParkedFire, 'gen'>): void {
    const name = entry.job.handlerName;
    let jobs = this.parked.get(name);
    if (jobs === undefined) this.parked.set(name, (jobs = new Map()));
    jobs.set(entry, { ...fire, gen: entry.gen });
    if (this.warned.has(name)) return;
    this.warned.add(name);
    this.logger.warn(
      `Job "${entry.job.id}" (${entry.job.name}) is not fired: no handler "${name}" is registered ` +
        `on this instance. Register it (@JobHandler('${name}') on a provider, or ` +
        `registerHandlerFunc('${name}', fn)); its jobs fire as soon as it is. Until then they wait, ` +
        `recording no run (metrics().jobsWithoutHandler counts them).`,
    );
  }

  /** A handler named `name` was registered: the fires of its jobs still waiting, taken out. */
  take(name: string): [JobEntry, ParkedFire][] {
    const jobs = this.parked.get(name);
    if (jobs === undefined) return [];
    this.parked.delete(name);
    return [...jobs].filter(([entry, fire]) => waiting(entry, fire, name));
  }

  /** Jobs waiting for their handler now (those paused, removed or redefined since are let go). */
  count(): number {
    let count = 0;
    for (const [name, jobs] of this.parked) {
      for (const [entry, fire] of jobs) {
        if (waiting(entry, fire, name)) count++;
        else jobs.delete(entry);
      }
      if (jobs.size === 0) this.parked.delete(name);
    }
    return count;
  }

  /** Forgets every waiting fire (the jobs are loaded again at start; nothing waits once stopped). */
  clear(): void {
    this.parked.clear();
  }
}

function waiting(entry: JobEntry, fire: ParkedFire, name: string): boolean {
  return fire.gen === entry.gen && !entry.removed && entry.job.handlerName === name;
}
