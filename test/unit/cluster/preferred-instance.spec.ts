import { describe, expect, it } from 'vitest';
import { preferredLease } from '../../../lib/cluster/preferred-instance.js';

const LEASES = ['node-a#k3j9', 'node-b#p0q1', 'node-c#zz81'];
const JOBS = Array.from({ length: 3_000 }, (_, i) => `job-${i}`);

describe('preferredLease', () => {
  it('is undefined without leases, and the one lease with one', () => {
    expect(preferredLease('job-1', [])).toBeUndefined();
    expect(preferredLease('job-1', ['only#1'])).toBe('only#1');
  });

  it('gives the same answer whatever the order of the leases', () => {
    for (const job of JOBS.slice(0, 200)) {
      expect(preferredLease(job, [...LEASES].reverse())).toBe(preferredLease(job, LEASES));
    }
  });

  it('spreads jobs about evenly over the leases', () => {
    const counts = new Map<string, number>();
    for (const job of JOBS) {
      const lease = preferredLease(job, LEASES) as string;
      counts.set(lease, (counts.get(lease) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toStrictEqual([...LEASES].sort());
    for (const n of counts.values()) {
      expect(n).toBeGreaterThan(JOBS.length * 0.28);
      expect(n).toBeLessThan(JOBS.length * 0.39);
    }
  });

  it('moves only the jobs of a lease that goes, and only jobs to a lease that comes', () => {
    const before = new Map(JOBS.map((job) => [job, preferredLease(job, LEASES)]));
    const without = LEASES.filter((lease) => lease !== 'node-b#p0q1');
    for (const job of JOBS) {
      if (before.get(job) !== 'node-b#p0q1')
        expect(preferredLease(job, without)).toBe(before.get(job));
    }
    const added = [...LEASES, 'node-d#n3w0'];
    for (const job of JOBS) {
      const now = preferredLease(job, added);
      if (now !== 'node-d#n3w0') expect(now).toBe(before.get(job));
    }
  });
});
