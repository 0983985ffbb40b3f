import { createHash } from 'node:crypto';
import { DECLARED_JOB_ID_PREFIX } from './job.constants.js';

/** The most characters of a job id. */
const MAX_ID_LENGTH = 64;
const HASH_LENGTH = 12;

/**
 * The stable id of the job declared by `@JobHandler(handlerName, { cron | interval })`:
 * `handler:<handlerName>`, or, when that is over 64 characters, the name cut short and followed by
 * `~` and a hash of the whole name. Use it to pause, resume, trigger or inspect a declared job.
 */
export function declaredJobId(handlerName: string): string {
  const id = `${DECLARED_JOB_ID_PREFIX}${handlerName}`;
  if (id.length <= MAX_ID_LENGTH) return id;
  const hash = createHash('sha256').update(handlerName).digest('hex').slice(0, HASH_LENGTH);
  let keep = MAX_ID_LENGTH - DECLARED_JOB_ID_PREFIX.length - 1 - HASH_LENGTH;
  const last = handlerName.charCodeAt(keep - 1);
  if (last >= 0xd800 && last <= 0xdbff) keep--; // do not split a surrogate pair
  return `${DECLARED_JOB_ID_PREFIX}${handlerName.slice(0, keep)}~${hash}`;
}
