import { describe, expect, it } from 'vitest';
import { idleDecision, type IdleInput } from '../../shared/lifecycle/idle';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const min = (m: number) => T0 + m * 60_000;
const base: IdleInput = { status: 'enabled', live: false, createdAt: T0, now: min(31), skewToleranceMs: 0 };

describe('idleDecision', () => {
  it.each<[string, Partial<IdleInput>, boolean, string, number]>([
    ['never pushed, 29:59.999 after creation', { now: min(30) - 1 }, false, 'recently-active', T0],
    ['never pushed, exactly 30 min after creation', { now: min(30) }, true, 'idle', T0],
    ['never pushed, 30 min + 1 s', { now: min(30) + 1000 }, true, 'idle', T0],
    [
      'last broadcast ended later than creation: counts from the end',
      { lastBroadcastEnd: min(10), now: min(39) },
      false,
      'recently-active',
      min(10),
    ],
    ['… and exactly 30 min after that end', { lastBroadcastEnd: min(10), now: min(40) }, true, 'idle', min(10)],
    [
      'a broadcast end before creation (recreated channel) counts from creation',
      { lastBroadcastEnd: min(-100), now: min(30) },
      true,
      'idle',
      T0,
    ],
    ['live is never disabled, however long idle', { live: true, now: min(10_000) }, false, 'live', T0],
    ['already disabled is left alone', { status: 'disabled', now: min(10_000) }, false, 'already-disabled', T0],
    [
      'our clock 5 s ahead: 30:04.999 is not yet enough',
      { skewToleranceMs: 5000, now: min(30) + 4999 },
      false,
      'recently-active',
      T0,
    ],
    ['our clock 5 s ahead: 30:05 is', { skewToleranceMs: 5000, now: min(30) + 5000 }, true, 'idle', T0],
    ['custom idleAfter of 5 min', { idleAfterMs: 300_000, now: min(5) }, true, 'idle', T0],
  ])('%s', (_, overrides, disable, reason, idleSince) => {
    expect(idleDecision({ ...base, ...overrides })).toEqual({ disable, reason, idleSince });
  });

  it('defaults: 30 min, 5 s skew tolerance', () => {
    const { skewToleranceMs: _, ...defaults } = base;
    expect(idleDecision({ ...defaults, now: min(30) + 4999 }).disable).toBe(false);
    expect(idleDecision({ ...defaults, now: min(30) + 5000 }).disable).toBe(true);
  });
});
