import { describe, expect, it } from 'vitest';
import {
  assignDefinition,
  DEFINITION_FIELDS,
  JOB_FIELDS,
  sameDefinition,
  sameFieldValue,
  STATE_FIELDS,
  type JobField,
} from '../../../lib/core/job-fields.js';
import type { Job } from '../../../lib/interfaces/job.interface.js';
import { makeJob } from '../../../lib/testing/fixtures.js';

/** A job whose `field` alone differs from `job`'s (a value of the same kind). */
function withOther(job: Job, field: JobField): Job {
  const other: Record<string, unknown> = { ...job };
  const value = job[field];
  switch (JOB_FIELDS[field]) {
    case 'value':
      other[field] = typeof value === 'number' ? value + 1 : `${String(value)}-changed`;
      break;
    case 'instant':
    case 'instant?':
      other[field] = new Date(value instanceof Date ? value.getTime() + 1 : 0);
      break;
    case 'payload':
      other[field] = { other: JSON.stringify(value) };
      break;
  }
  return other as unknown as Job;
}

describe('JOB_FIELDS', () => {
  it('names every field of a Job, each either a definition or a state field, once', () => {
    const fields = Object.keys(makeJob()).sort();
    expect(Object.keys(JOB_FIELDS).sort()).toStrictEqual(fields);
    expect([...DEFINITION_FIELDS, ...STATE_FIELDS].sort()).toStrictEqual(fields);
  });
});

describe('sameFieldValue', () => {
  it('compares instants by their milliseconds and payloads by their JSON', () => {
    expect(sameFieldValue('instant?', new Date(5), new Date(5))).toBe(true);
    expect(sameFieldValue('instant?', new Date(5), new Date(6))).toBe(false);
    expect(sameFieldValue('instant?', null, null)).toBe(true);
    expect(sameFieldValue('instant?', null, new Date(0))).toBe(false);
    expect(sameFieldValue('payload', { a: [1] }, { a: [1] })).toBe(true);
    expect(sameFieldValue('payload', { a: [1] }, { a: [2] })).toBe(false);
    expect(sameFieldValue('value', 'x', 'x')).toBe(true);
    expect(sameFieldValue('value', 1, '1')).toBe(false);
  });
});

describe('sameDefinition', () => {
  const job = makeJob({ runAt: new Date(1_000), timezone: 'Europe/Paris' });

  it('holds for an equal copy, and whatever the state fields say', () => {
    expect(sameDefinition(job, structuredClone(job))).toBe(true);
    for (const field of STATE_FIELDS) {
      expect({ field, same: sameDefinition(job, withOther(job, field)) }).toStrictEqual({
        field,
        same: true,
      });
    }
  });

  it.each(DEFINITION_FIELDS)('fails when %s differs', (field) => {
    expect(sameDefinition(job, withOther(job, field))).toBe(false);
  });
});

describe('assignDefinition', () => {
  it('copies every definition field and no state field', () => {
    const target = makeJob();
    let source = makeJob();
    for (const field of [...DEFINITION_FIELDS, ...STATE_FIELDS]) source = withOther(source, field);
    const before = { ...target };
    assignDefinition(target, source);
    for (const field of DEFINITION_FIELDS) expect(target[field]).toStrictEqual(source[field]);
    for (const field of STATE_FIELDS) expect(target[field]).toStrictEqual(before[field]);
  });
});
