import { InvalidArgumentError } from '../errors/invalid-argument.error.js';
import { MAX_LEASE_ID_LENGTH, type JobWriteCondition } from '../interfaces/cluster-storage.js';

/** A lease id or instance id: a non-empty string of at most `MAX_LEASE_ID_LENGTH`, without NUL. */
export function checkLeaseId(argument: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    value === '' ||
    value.length > MAX_LEASE_ID_LENGTH ||
    value.includes('\u0000')
  ) {
    throw new InvalidArgumentError(
      argument,
      value,
      `a non-empty string of at most ${MAX_LEASE_ID_LENGTH} characters, without NUL`,
    );
  }
  return value;
}

/** A lease's time to live: a whole number of milliseconds >= 1 (a fraction is rounded). */
export function checkTtl(value: unknown): number {
  const ttl = typeof value === 'number' ? Math.round(value) : Number.NaN;
  if (!Number.isSafeInteger(ttl) || ttl < 1) {
    throw new InvalidArgumentError('ttlMs', value, 'a number of milliseconds >= 1');
  }
  return ttl;
}

/** A `writeJobIf` condition, checked: the same fields, each valid. */
export function checkJobWriteCondition(condition: unknown): JobWriteCondition {
  if (typeof condition !== 'object' || condition === null) {
    throw new InvalidArgumentError('condition', condition, 'an object with version');
  }
  const { version, claimedBy, claim, lease, lastRunAt } = condition as Partial<JobWriteCondition>;
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) {
    throw new InvalidArgumentError('condition.version', version, 'an integer');
  }
  const checked: JobWriteCondition = { version };
  if (claimedBy !== undefined) {
    checked.claimedBy = claimedBy === null ? null : checkLeaseId('condition.claimedBy', claimedBy);
  }
  if (claim !== undefined) {
    checked.claim = claim === null ? null : checkLeaseId('condition.claim', claim);
  }
  if (lease !== undefined) checked.lease = checkLeaseId('condition.lease', lease);
  if (lastRunAt !== undefined) {
    if (
      lastRunAt !== null &&
      !(lastRunAt instanceof Date && Number.isFinite(lastRunAt.getTime()))
    ) {
      throw new InvalidArgumentError('condition.lastRunAt', lastRunAt, 'a valid Date or null');
    }
    checked.lastRunAt = lastRunAt;
  }
  return checked;
}
