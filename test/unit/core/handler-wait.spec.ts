import { describe, expect, it, vi } from 'vitest';
import { HandlerWait } from '../../../lib/core/handler-wait.js';
import { JobTable } from '../../../lib/core/job-table.js';
import { NopLogger } from '../../../lib/loggers/nop-logger.js';
import { makeJob } from '../../../lib/testing/fixtures.js';

describe('HandlerWait', () => {
  const fire = { at: 1_000, attempt: 1, scheduledAt: 1_000, link: undefined };

  function setUp() {
    const logger = new NopLogger();
    const warn = vi.spyOn(logger, 'warn');
    const table = new JobTable(() => 0);
    const entryOf = (handlerName: string) => table.track(makeJob({ handlerName }), null);
    return { waits: new HandlerWait(logger), warn, entryOf };
  }

  it('keeps fires by handler name and gives them back once, when that handler comes', () => {
    const { waits, entryOf } = setUp();
    const [a, b, c] = [entryOf('mail'), entryOf('mail'), entryOf('report')];
    waits.park(a, fire);
    waits.park(b, { ...fire, at: 2_000, attempt: 2 });
    waits.park(c, fire);
    expect(waits.count()).toBe(3);
    const taken = waits.take('mail');
    expect(taken.map(([entry, parked]) => [entry, parked.at, parked.attempt])).toEqual([
      [a, 1_000, 1],
      [b, 2_000, 2],
    ]);
    expect(waits.take('mail')).toEqual([]);
    expect(waits.count()).toBe(1);
    waits.clear();
    expect(waits.count()).toBe(0);
  });

  it('lets go of jobs paused, removed or given another handler since they were parked', () => {
    const { waits, entryOf } = setUp();
    const [paused, removed, renamed, kept] = ['x', 'x', 'x', 'x'].map(entryOf);
    for (const entry of [paused, removed, renamed, kept]) waits.park(entry!, fire);
    paused!.gen++;
    removed!.removed = true;
    renamed!.job.handlerName = 'y';
    expect(waits.count()).toBe(1);
    expect(waits.take('x').map(([entry]) => entry)).toEqual([kept]);
  });

  it('warns once per handler name, naming it and how to register it', () => {
    const { waits, warn, entryOf } = setUp();
    waits.park(entryOf('mail'), fire);
    waits.park(entryOf('mail'), fire);
    waits.park(entryOf('report'), fire);
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.map((call: unknown[]) => String(call[0]))).toEqual([
      expect.stringMatching(
        /no handler "mail".*@JobHandler\('mail'\).*registerHandlerFunc\('mail'/,
      ),
      expect.stringMatching(/no handler "report"/),
    ]);
  });
});
