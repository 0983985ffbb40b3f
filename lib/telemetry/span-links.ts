import type { SpanContext } from '@opentelemetry/api';

/** `TraceFlags.SAMPLED`. */
const SAMPLED = 1;
/** The SDK's default limit of links per span. */
const DEFAULT_LIMIT = 128;
const NONE: readonly SpanContext[] = Object.freeze([]);

/**
 * The spans whose writes wait in a batch buffer, for the flush span to link to: sampled spans
 * only, each once, at most `limit` (the rest are counted in `dropped`). `add` costs one check when
 * nothing is traced.
 */
export class SpanLinks {
  private links: SpanContext[] = [];
  private readonly seen = new Set<string>();
  private droppedCount = 0;

  constructor(readonly limit = DEFAULT_LIMIT) {}

  get size(): number {
    return this.links.length;
  }

  /** Links dropped over the limit since the last `take`. */
  get dropped(): number {
    return this.droppedCount;
  }

  add(link: SpanContext | undefined): void {
    if (link === undefined || (link.traceFlags & SAMPLED) !== SAMPLED) return;
    const key = link.spanId;
    if (this.seen.has(key)) return;
    if (this.links.length >= this.limit) {
      this.droppedCount++;
      return;
    }
    this.seen.add(key);
    this.links.push(link);
  }

  /** Hands over the links gathered (and the count dropped), and starts afresh. */
  take(): { links: readonly SpanContext[]; dropped: number } {
    const dropped = this.droppedCount;
    this.droppedCount = 0;
    if (this.links.length === 0) return { links: NONE, dropped };
    const links = this.links;
    this.links = [];
    this.seen.clear();
    return { links, dropped };
  }

  /** Gives back links taken for a flush that failed (its records are written again later). */
  restore(taken: { links: readonly SpanContext[]; dropped: number }): void {
    for (const link of taken.links) this.add(link);
    this.droppedCount += taken.dropped;
  }
}
