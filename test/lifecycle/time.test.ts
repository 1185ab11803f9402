import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ceilSeconds,
  compactUtcSeconds,
  floorSeconds,
  minimumElapsedMs,
  parseCompactUtcSeconds,
  withinSkew,
} from '../../shared/lifecycle/time';

describe('compactUtcSeconds', () => {
  it.each([
    ['2016-08-25T06:25:15.000Z', '20160825T062515Z'],
    ['2016-08-25T06:25:15.999Z', '20160825T062515Z'],
    ['1999-12-31T23:59:59.001Z', '19991231T235959Z'],
  ])('%s → %s', (iso, compact) => {
    expect(compactUtcSeconds(Date.parse(iso))).toBe(compact);
  });

  it('round-trips through parseCompactUtcSeconds at second precision', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(parseCompactUtcSeconds(compactUtcSeconds(ms))).toBe(floorSeconds(ms) * 1000);
      }),
    );
  });

  it.each(['', '20160825T062515', '20161325T062515Z', '20160825X062515Z', '2016-08-25T06:2Z', '20160825T062515z'])(
    'rejects %j',
    (text) => {
      expect(parseCompactUtcSeconds(text)).toBeUndefined();
    },
  );
});

describe('seconds rounding', () => {
  it.each([
    [1000, 1, 1],
    [1001, 1, 2],
    [1999, 1, 2],
  ])('%d ms → floor %d, ceil %d', (ms, floor, ceil) => {
    expect(floorSeconds(ms)).toBe(floor);
    expect(ceilSeconds(ms)).toBe(ceil);
  });
});

describe('minimumElapsedMs', () => {
  it.each([
    [0, 10_000, 0, 10_000],
    [0, 10_000, 5_000, 5_000],
    [20_000, 10_000, 0, -10_000],
  ])('oss %d, now %d, skew %d → %d', (oss, now, skew, elapsed) => {
    expect(minimumElapsedMs(oss, now, skew)).toBe(elapsed);
  });
});

describe('withinSkew', () => {
  const NOW = Date.UTC(2024, 4, 1);
  it.each([
    ['now', NOW, true],
    ['15 min ahead', NOW + 15 * 60_000, true],
    ['15 min behind', NOW - 15 * 60_000, true],
    ['15 min + 1 ms ahead', NOW + 15 * 60_000 + 1, false],
    ['15 min + 1 ms behind', NOW - 15 * 60_000 - 1, false],
    ['year 2286', Date.UTC(2286, 0, 1), false],
  ])('%s', (_, at, expected) => {
    expect(withinSkew(at, NOW)).toBe(expected);
  });
});
