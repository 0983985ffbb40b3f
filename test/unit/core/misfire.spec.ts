import { describe, expect, it } from 'vitest';
import { decideMisfire } from '../../../lib/core/misfire.js';

describe('decideMisfire', () => {
  it("runs the missed fire with 'fire-once', whatever came before", () => {
    expect(decideMisfire('fire-once', 0, 10)).toBe('run');
    expect(decideMisfire('fire-once', 99, 10)).toBe('run');
  });

  it("runs none with 'skip'", () => {
    expect(decideMisfire('skip', 0, 10)).toBe('skip');
  });

  it("catches up with 'fire-all' until maxMisfires runs, then gives up", () => {
    expect(decideMisfire('fire-all', 0, 3)).toBe('catch-up');
    expect(decideMisfire('fire-all', 2, 3)).toBe('catch-up');
    expect(decideMisfire('fire-all', 3, 3)).toBe('give-up');
    expect(decideMisfire('fire-all', 0, 0)).toBe('give-up');
  });
});
