import { createHash, createHmac } from 'node:crypto';
import { InvalidArgumentError } from '../../errors/invalid-argument.error.js';

/** Where a page ended: the sort key of its last item. */
export interface PageKey {
  /** `createdAt` (jobs) or `startAt` (runs), epoch milliseconds. */
  readonly at: number;
  readonly id: string;
}

/** Which query a cursor belongs to. */
export type CursorKind = 'jobs' | 'runs';

const VERSION = 1;
/**
 * The key of the cursor's check value. Not a secret: the check catches a cursor that was changed,
 * cut short or made by hand (a clear error instead of a page from somewhere else), not a forger,
 * who could only choose where a page starts, which the filters allow anyway.
 */
const CHECK_KEY = 'nestjs-job-scheduler/cursor/v1';
const EXPECTED = 'a nextCursor returned by the same query (same filters), unchanged';

/** A short digest of a query's filters, so a cursor is refused by a query with other filters. */
export function filterDigest(filter: object): string {
  return createHash('sha256').update(JSON.stringify(filter)).digest('base64url').slice(0, 11);
}

/** The opaque cursor of a page that ended at `key`: base64url JSON, a dot, a check value. */
export function encodeCursor(kind: CursorKind, digest: string, key: PageKey): string {
  const body = Buffer.from(JSON.stringify([VERSION, kind, digest, key.at, key.id])).toString(
    'base64url',
  );
  return `${body}.${check(body)}`;
}

/**
 * The key of a cursor made by `encodeCursor` for the same kind of query and filters; `null` for no
 * cursor. `InvalidArgumentError` (argument `cursor`) for anything else.
 */
export function decodeCursor(kind: CursorKind, digest: string, cursor: unknown): PageKey | null {
  if (cursor === undefined || cursor === null) return null;
  if (typeof cursor !== 'string' || cursor.length > 1024) {
    throw new InvalidArgumentError('cursor', cursor, EXPECTED);
  }
  const dot = cursor.indexOf('.');
  const body = cursor.slice(0, dot);
  if (dot <= 0 || cursor.slice(dot + 1) !== check(body)) {
    throw new InvalidArgumentError('cursor', cursor, EXPECTED);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('cursor', cursor, EXPECTED);
  }
  const [version, cursorKind, cursorDigest, at, id] = Array.isArray(parsed) ? parsed : [];
  if (
    version !== VERSION ||
    cursorKind !== kind ||
    typeof at !== 'number' ||
    !Number.isSafeInteger(at) ||
    typeof id !== 'string'
  ) {
    throw new InvalidArgumentError('cursor', cursor, EXPECTED);
  }
  if (cursorDigest !== digest) {
    throw new InvalidArgumentError(
      'cursor',
      cursor,
      'a nextCursor of a query with the same filters (this one was made for other filters)',
    );
  }
  return { at, id };
}

function check(body: string): string {
  return createHmac('sha256', CHECK_KEY).update(body).digest('base64url').slice(0, 16);
}
