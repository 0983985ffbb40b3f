import { randomFillSync } from 'node:crypto';

/** Random bytes fetched per `randomFillSync` call: 256 UUIDs' worth. */
const POOL_SIZE = 4096;
/** Bytes of randomness in a UUID. */
const UUID_BYTES = 16;
/** Offsets of the dashes in `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`. */
const DASHES = [8, 13, 18, 23] as const;
const DASH = 0x2d;
/** Lowercase hex digits as char codes. */
const HEX_DIGITS = '0123456789abcdef';

/**
 * Makes random ids. One instance per scheduler: its pool of random bytes is its own.
 *
 * `uuid()` strings are flat one-byte strings of 36 characters: on Node 20 they cost about half
 * the heap of a `crypto.randomUUID()` string.
 */
export class IdGenerator {
  private readonly pool = Buffer.allocUnsafeSlow(POOL_SIZE);
  /** Next unused byte of `pool`; `POOL_SIZE` means "refill first". */
  private offset = POOL_SIZE;
  /** The 36 characters of the UUID being formatted; dashes are written once. */
  private readonly out = Buffer.alloc(36);
  /** High and low hex digit (char code) of each byte value. */
  private readonly hexHigh = new Uint8Array(256);
  private readonly hexLow = new Uint8Array(256);

  constructor() {
    for (let b = 0; b < 256; b++) {
      this.hexHigh[b] = HEX_DIGITS.charCodeAt(b >>> 4);
      this.hexLow[b] = HEX_DIGITS.charCodeAt(b & 0x0f);
    }
    for (const at of DASHES) this.out[at] = DASH;
  }

  /** A random RFC 4122 version-4 UUID: lowercase `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`. */
  uuid(): string {
    if (this.offset + UUID_BYTES > POOL_SIZE) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const pool = this.pool;
    const start = this.offset;
    this.offset = start + UUID_BYTES;
    // Version 4 in the high nibble of byte 6, variant 10xx in the high bits of byte 8.
    pool[start + 6] = ((pool[start + 6] as number) & 0x0f) | 0x40;
    pool[start + 8] = ((pool[start + 8] as number) & 0x3f) | 0x80;

    const out = this.out;
    const high = this.hexHigh;
    const low = this.hexLow;
    let j = 0;
    for (let i = 0; i < UUID_BYTES; i++) {
      if (j === 8 || j === 13 || j === 18 || j === 23) j++;
      const b = pool[start + i] as number;
      out[j++] = high[b] as number;
      out[j++] = low[b] as number;
    }
    return out.toString('latin1');
  }
}
