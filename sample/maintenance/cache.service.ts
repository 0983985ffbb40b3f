import { Injectable } from '@nestjs/common';

/** A small in-process cache whose entries expire: what the cleanup job sweeps. */
@Injectable()
export class CacheService {
  private readonly entries = new Map<string, { value: unknown; expiresAt: number }>();

  set(key: string, value: unknown, ttlMs: number): void {
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }

  /** Removes the expired entries; returns how many were removed. */
  removeExpired(now = Date.now()): number {
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
