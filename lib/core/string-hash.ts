/** FNV-1a's 32-bit offset basis: the seed of `stringHash`. */
export const FNV_OFFSET = 0x811c9dc5;

/**
 * A 32-bit hash of `text`'s UTF-16 units: FNV-1a continued from `seed`, with murmur3's finalizer so
 * that strings differing only at the end spread out. Stable across processes and versions (the
 * cluster's instances rank leases by it).
 */
export function stringHash(text: string, seed = FNV_OFFSET): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
