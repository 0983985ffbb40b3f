import { describe, expect, it } from 'vitest';
import { DURATION_HINT, parseDuration } from '../../../lib/core/duration.js';

describe('parseDuration', () => {
  describe('numbers', () => {
    it.each([0, 1, 1.5, 500, 86_400_000, Number.MAX_SAFE_INTEGER])('returns %s as is', (n) => {
      expect(parseDuration(n)).toBe(n);
    });

    it('reads -0 as 0', () => {
      expect(Object.is(parseDuration(-0), 0)).toBe(true);
    });

    it.each([Number.NaN, Infinity, -Infinity, -1, -0.001])('rejects %s', (n) => {
      expect(parseDuration(n)).toBeNull();
    });
  });

  describe('strings', () => {
    it.each([
      ['0ms', 0],
      ['0s', 0],
      ['500ms', 500],
      ['5s', 5_000],
      ['10m', 600_000],
      ['1h', 3_600_000],
      ['2d', 172_800_000],
      ['1h30m', 5_400_000],
      ['1h 30m', 5_400_000],
      ['1.5h', 5_400_000],
      ['.5s', 500],
      ['5 s', 5_000],
      ['  5s  ', 5_000],
      ['1d2h3m4s5ms', 93_784_005],
      ['1m30s', 90_000],
      ['1s500ms', 1_500],
      ['5ms5s', 5_005],
    ])('reads %j as %d ms', (text, ms) => {
      expect(parseDuration(text)).toBe(ms);
    });

    it('rounds to whole milliseconds', () => {
      expect(parseDuration('1.1s')).toBe(1_100);
      expect(parseDuration('0.4ms')).toBe(0);
      expect(parseDuration('1.5ms')).toBe(2);
    });

    it.each([
      '',
      '  ',
      'abc',
      '5',
      '5x',
      '5 x',
      '5s junk',
      'junk 5s',
      '-5s',
      '- 5s',
      '+5s',
      'Infinity',
      'NaN',
      '1e3ms',
      '5S',
      '5sec',
      '5 seconds',
      '1w',
      '1y',
      's',
      '.s',
      '5.s',
      '1,5s',
      '1_000ms',
      '5s,10s',
    ])('rejects %j', (text) => {
      expect(parseDuration(text)).toBeNull();
    });

    it('rejects a string too large to be finite', () => {
      expect(parseDuration(`${'9'.repeat(400)}d`)).toBeNull();
    });
  });

  it.each([true, false, null, undefined, {}, [], ['5s'], new Date(0), () => 5, 5n, Symbol('5s')])(
    'rejects %s',
    (value) => {
      expect(parseDuration(value)).toBeNull();
    },
  );
});

describe('DURATION_HINT', () => {
  it('names both accepted forms', () => {
    expect(DURATION_HINT).toBe(
      "milliseconds (a finite number >= 0) or a string such as '500ms', '5s', '10m', '1h'",
    );
  });
});
