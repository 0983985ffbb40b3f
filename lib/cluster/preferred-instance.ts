/**
 * Rendezvous (highest random weight) hashing: the lease among `leases` that a job prefers, the
 * same on every instance that lists the same leases. When a lease comes or goes, only the jobs that
 * preferred it (or now prefer the new one) move.
 */
export function preferredLease(jobId: string, leases: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const lease of leases) {
    const weight = fnv1a(lease, fnv1a(jobId, FNV_OFFSET));
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && lease < best)) {
      best = lease;
      bestWeight = weight;
    }
  }
  return best;
}

const FNV_OFFSET = 0x811c9dc5;

/** 32-bit FNV-1a of `text`'s UTF-16 units, continuing from `hash`, with a final avalanche. */
function fnv1a(text: string, hash: number): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Mix the last bits in (murmur3's finalizer), so that ids differing only at the end spread out.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
