import { interval, map, merge, type Observable } from 'rxjs';
import type { JobEvent } from '../interfaces/job-event.interface.js';

/** What Nest's `@Sse()` sends: `data` as JSON, an optional event name. */
export interface ServerSentEvent {
  data: unknown;
  type?: string;
}

/** A keep-alive every 15 s, so that proxies keep an idle stream open (a `ping` event, not a message). */
const KEEP_ALIVE_MS = 15_000;

/**
 * The scheduler's events as Server-Sent Events: unnamed messages (`onmessage`) whose data is the
 * event (`type, jobId, at, runId?, run?, job?, error?`), and a named `ping` event every 15 s.
 */
export function serverSentEvents(events$: Observable<JobEvent>): Observable<ServerSentEvent> {
  return merge(
    events$.pipe(map((event): ServerSentEvent => ({ data: event }))),
    interval(KEEP_ALIVE_MS).pipe(map((): ServerSentEvent => ({ type: 'ping', data: {} }))),
  );
}
