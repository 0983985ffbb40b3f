import { describe, expect, it } from 'vitest';
import { ClusterWrites } from '../../../lib/cluster/cluster-writes.js';
import type { ClusterStorage, JobClaim } from '../../../lib/interfaces/cluster-storage.js';
import { makeJob } from '../../../lib/testing/fixtures.js';

/** A storage with `claimJobs` only (the rest is never called here), recording each call. */
function storage() {
  const calls: Array<{ ids: string[]; lease: string }> = [];
  const fake = {
    claimJobs: async (claims: readonly JobClaim[], lease: string) => {
      calls.push({ ids: claims.map((c) => c.job.id), lease });
      return claims.map((c) => c.version % 2 === 0);
    },
  } as unknown as ClusterStorage;
  return { calls, writes: new ClusterWrites(fake) };
}

describe('ClusterWrites', () => {
  it('sends the claims of one turn in one statement, and answers each in order', async () => {
    const { calls, writes } = storage();
    const answers = await Promise.all(
      [0, 1, 2].map((v) => writes.claim(makeJob({ id: `j${v}` }), v, 'a#1')),
    );
    expect(calls).toStrictEqual([{ ids: ['j0', 'j1', 'j2'], lease: 'a#1' }]);
    expect(answers).toStrictEqual([true, false, true]);
  });

  it('splits a turn by lease, and never names one job twice in a statement', async () => {
    const { calls, writes } = storage();
    const answers = await Promise.all([
      writes.claim(makeJob({ id: 'x' }), 0, 'a#1'),
      writes.claim(makeJob({ id: 'x' }), 1, 'a#1'),
      writes.claim(makeJob({ id: 'y' }), 2, 'a#2'),
      writes.claim(makeJob({ id: 'z' }), 4, 'a#1'),
    ]);
    expect(calls).toStrictEqual([
      { ids: ['x', 'z'], lease: 'a#1' },
      { ids: ['x'], lease: 'a#1' },
      { ids: ['y'], lease: 'a#2' },
    ]);
    expect(answers).toStrictEqual([true, false, true, true]);
  });
});
