import { stringHash } from '../core/string-hash.js';

/**
 * Rendezvous (highest random weight) hashing: the lease among `leases` that a job prefers, the
 * same on every instance that lists the same leases. When a lease comes or goes, only the jobs that
 * preferred it (or now prefer the new one) move.
 */
export function preferredLease(jobId: string, leases: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const lease of leases) {
    const weight = stringHash(lease, stringHash(jobId));
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && lease < best)) {
      best = lease;
      bestWeight = weight;
    }
  }
  return best;
}
