import { describe, expect, it } from 'vitest';
import { IdGenerator } from '../../../lib/core/ids.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('IdGenerator.uuid', () => {
  it('returns RFC 4122 version-4 UUIDs', () => {
    const ids = new IdGenerator();
    for (let i = 0; i < 1000; i++) {
      const id = ids.uuid();
      expect(typeof id).toBe('string');
      expect(id).toHaveLength(36);
      expect(id).toMatch(UUID_V4);
    }
  });

  it('returns 100,000 distinct values, all well formed, across many pool refills', () => {
    const ids = new IdGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) {
      const id = ids.uuid();
      if (!UUID_V4.test(id)) throw new Error(`malformed UUID ${id}`);
      seen.add(id);
    }
    expect(seen.size).toBe(100_000);
  });

  it('uses every hex digit in every random position, and all four variants', () => {
    const ids = new IdGenerator();
    const digits = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 5000; i++) {
      const id = ids.uuid();
      for (let j = 0; j < 36; j++) digits[j]!.add(id[j]!);
    }
    for (let j = 0; j < 36; j++) {
      if ([8, 13, 18, 23].includes(j)) expect([...digits[j]!]).toEqual(['-']);
      else if (j === 14) expect([...digits[j]!]).toEqual(['4']);
      else if (j === 19) expect([...digits[j]!].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(digits[j]!.size).toBe(16);
    }
  });

  it('returns a new string each call (the output buffer is reused, not the string)', () => {
    const ids = new IdGenerator();
    const first = ids.uuid();
    const copy = `${first}`;
    ids.uuid();
    expect(first).toBe(copy);
  });

  it('gives separate generators separate streams', () => {
    const a = new IdGenerator();
    const b = new IdGenerator();
    const fromA = new Set(Array.from({ length: 300 }, () => a.uuid()));
    for (let i = 0; i < 300; i++) expect(fromA.has(b.uuid())).toBe(false);
  });
});
