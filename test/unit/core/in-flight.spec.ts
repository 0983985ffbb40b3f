import { describe, expect, it } from 'vitest';
import { InFlight } from '../../../lib/core/in-flight.js';

describe('InFlight', () => {
  it('resolves every waiter once the last thing in flight ends, and at once when idle', async () => {
    const flight = new InFlight();
    await flight.whenIdle();
    flight.begin();
    flight.begin();
    let idle = 0;
    void flight.whenIdle().then(() => idle++);
    void flight.whenIdle().then(() => idle++);
    flight.end();
    await Promise.resolve();
    expect(idle).toBe(0);
    flight.end();
    await Promise.resolve();
    expect(idle).toBe(2);
    expect(flight.size).toBe(0);
  });
});
