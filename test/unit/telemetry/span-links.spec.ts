import type { SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { SpanLinks } from '../../../lib/telemetry/span-links.js';

function spanContext(n: number, sampled = true): SpanContext {
  return {
    traceId: n.toString(16).padStart(32, '0'),
    spanId: n.toString(16).padStart(16, '0'),
    traceFlags: sampled ? 1 : 0,
  };
}

describe('SpanLinks', () => {
  it('keeps sampled span contexts once each, in order', () => {
    const links = new SpanLinks();
    links.add(spanContext(1));
    links.add(undefined);
    links.add(spanContext(2, false));
    links.add(spanContext(1));
    links.add(spanContext(3));
    expect(links.size).toBe(2);
    expect(links.take()).toEqual({ links: [spanContext(1), spanContext(3)], dropped: 0 });
    expect(links.size).toBe(0);
  });

  it('counts the links over its limit as dropped', () => {
    const links = new SpanLinks(2);
    for (let i = 1; i <= 5; i++) links.add(spanContext(i));
    links.add(spanContext(1));
    expect(links.dropped).toBe(3);
    expect(links.take()).toEqual({ links: [spanContext(1), spanContext(2)], dropped: 3 });
    expect(links.dropped).toBe(0);
  });

  it('take hands over its array and starts afresh (seen ids included)', () => {
    const links = new SpanLinks();
    links.add(spanContext(1));
    const taken = links.take();
    links.add(spanContext(1));
    links.add(spanContext(2));
    expect(taken.links).toEqual([spanContext(1)]);
    expect(links.take().links).toEqual([spanContext(1), spanContext(2)]);
  });

  it('take with nothing gathered gives a frozen empty list', () => {
    const taken = new SpanLinks().take();
    expect(taken).toEqual({ links: [], dropped: 0 });
    expect(Object.isFrozen(taken.links)).toBe(true);
  });

  it('restore gives back the links of a failed flush, merged with the new ones', () => {
    const links = new SpanLinks(3);
    links.add(spanContext(1));
    links.add(spanContext(2));
    const taken = links.take();
    links.add(spanContext(2));
    links.add(spanContext(3));
    links.restore({ links: taken.links, dropped: 4 });
    expect(links.take()).toEqual({
      links: [spanContext(2), spanContext(3), spanContext(1)],
      dropped: 4,
    });
  });
});
