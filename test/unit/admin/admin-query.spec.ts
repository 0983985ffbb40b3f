import { describe, expect, it } from 'vitest';
import { jobQuery, runQuery, statsQuery } from '../../../lib/admin/admin-query.js';

describe('admin query strings', () => {
  const now = Date.UTC(2031, 0, 2, 12, 30, 0, 7);

  it('defaults api/stats to the 24 hours before one now, by the hour', () => {
    expect(statsQuery({}, now)).toStrictEqual({
      jobId: undefined,
      from: now - 86_400_000,
      to: now,
      bucket: '1h',
    });
    expect(statsQuery({ to: String(now - 1_000) }, now)).toMatchObject({
      from: now - 1_000 - 86_400_000,
      to: now - 1_000,
    });
    expect(statsQuery({ bucket: '900000', jobId: 'a' }, now)).toMatchObject({
      bucket: 900_000,
      jobId: 'a',
    });
  });

  it('passes values on as given, digits as numbers and empty values as absent', () => {
    expect(jobQuery({ status: '', q: 'x', handler: 'h', limit: '20', cursor: 'c' })).toStrictEqual({
      status: undefined,
      handlerName: 'h',
      search: 'x',
      limit: 20,
      cursor: 'c',
    });
    expect(
      runQuery({ from: '1700000000000', to: '2031-01-01T00:00:00Z', limit: 'ten' }, 'job'),
    ).toMatchObject({
      jobId: 'job',
      from: 1_700_000_000_000,
      to: '2031-01-01T00:00:00Z',
      limit: 'ten',
    });
  });
});
