import { describe, expect, it } from 'vitest';
import {
  HISTORY_EVERY_POLLS,
  POLL_TICK_MS,
  idleIntervalMs,
  pollDecision,
  pollPhase,
  type PollScheduleInput,
} from '../../shared/lifecycle';

const MIN = 60_000;
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
const IDLE_AFTER = 30 * MIN;
const CAP = 5 * MIN;

function input(over: Partial<PollScheduleInput> & { previous?: PollScheduleInput['previous'] }): PollScheduleInput {
  return {
    now: T0,
    phase: 0.3,
    previous: { status: 'Idle', open: false, historyAt: T0 },
    activeAt: T0 - 10 * MIN,
    idleAfterMs: IDLE_AFTER,
    maxIdleIntervalMs: CAP,
    ...over,
  };
}

describe('pollDecision', () => {
  it.each([
    ['never polled', { previous: undefined }, { stat: true, history: true, reason: 'new' }],
    [
      're-enabled (last seen disabled)',
      { previous: { status: 'Disabled' as const, open: false } },
      { stat: true, history: true, reason: 'new' },
    ],
    [
      'live, idle for days',
      { previous: { status: 'Live' as const, open: true }, activeAt: T0 - 9 * 24 * 60 * MIN },
      { stat: true, history: false, reason: 'live' },
    ],
    [
      'broadcast open (reconnect window)',
      { previous: { status: 'Idle' as const, open: true }, activeAt: T0 - 9 * 24 * 60 * MIN },
      { stat: true, history: false, reason: 'open' },
    ],
    ['active within IDLE_AFTER', { activeAt: T0 - IDLE_AFTER + 1 }, { stat: true, history: false, reason: 'active' }],
  ])('%s: polled every tick', (_name, over, expected) => {
    expect(pollDecision(input(over))).toEqual({ ...expected, intervalMs: POLL_TICK_MS });
  });

  it.each([
    [0, 1],
    [5 * MIN - 1, 1],
    [5 * MIN, 2],
    [15 * MIN - 1, 2],
    [15 * MIN, 5],
    [30 * 24 * 60 * MIN, 5],
  ])('idle %d ms past IDLE_AFTER: interval %d min (cap 5)', (idleFor, minutes) => {
    expect(idleIntervalMs(idleFor, CAP)).toBe(minutes * MIN);
  });

  it('a cap below a rung ends the ladder there, and larger caps climb further', () => {
    expect(idleIntervalMs(10 * MIN, 2 * MIN)).toBe(2 * MIN);
    expect(idleIntervalMs(0, MIN)).toBe(MIN);
    expect(idleIntervalMs(40 * MIN, 15 * MIN)).toBe(10 * MIN);
    expect(idleIntervalMs(1000 * MIN, 15 * MIN)).toBe(15 * MIN);
  });

  /** Runs the schedule tick by tick for an idle channel, as poll-stat persists polledAt/historyAt. */
  function simulate(phase: number, minutes: number, tickJitter: (i: number) => number = () => 0) {
    const activeAt = T0 - IDLE_AFTER - 60 * MIN; // long idle: at the cap
    let previous: NonNullable<PollScheduleInput['previous']> = {
      status: 'Idle',
      open: false,
      polledAt: T0 - MIN,
      historyAt: T0 - MIN,
    };
    const stats: number[] = [];
    const histories: number[] = [];
    for (let i = 0; i < minutes; i++) {
      const now = T0 + i * MIN + tickJitter(i);
      const d = pollDecision({ now, phase, previous, activeAt, idleAfterMs: IDLE_AFTER, maxIdleIntervalMs: CAP });
      expect(d.reason).toBe('idle');
      if (d.stat) {
        stats.push(now);
        previous = { ...previous, polledAt: now };
      }
      if (d.history) {
        expect(d.stat).toBe(true);
        histories.push(now);
        previous = { ...previous, historyAt: now };
      }
    }
    return { stats, histories };
  }

  it.each([0, 0.1, 0.5, 0.77, 0.999])(
    'at the cap (phase %d): one Stat per 5 min, one History per 30 min on a Stat tick, gaps never above the cap',
    (phase) => {
      const { stats, histories } = simulate(phase, 24 * 60);
      expect(stats).toHaveLength((24 * 60) / 5);
      expect(histories).toHaveLength((24 * 60) / (5 * HISTORY_EVERY_POLLS));
      for (let i = 1; i < stats.length; i++) expect((stats[i] as number) - (stats[i - 1] as number)).toBe(CAP);
    },
  );

  it('ticks that jitter by up to 20 s or go missing still keep every gap within the cap plus one tick', () => {
    const jitter = (i: number) => ((i * 7919) % 41) * 500; // 0–20 s, deterministic
    const { stats } = simulate(0.42, 6 * 60, jitter);
    for (let i = 1; i < stats.length; i++)
      expect((stats[i] as number) - (stats[i - 1] as number)).toBeLessThanOrEqual(CAP + 20_000);
    const missing = simulate(0.42, 6 * 60, (i) => (i % 7 === 3 ? 55_000 : 0)); // a tick late by 55 s
    for (let i = 1; i < missing.stats.length; i++)
      expect((missing.stats[i] as number) - (missing.stats[i - 1] as number)).toBeLessThanOrEqual(CAP + POLL_TICK_MS);
  });

  it('a backed-off channel with no polledAt yet (just went idle) is polled at once', () => {
    expect(
      pollDecision(
        input({ activeAt: T0 - IDLE_AFTER - 60 * MIN, previous: { status: 'Idle', open: false, historyAt: T0 } }),
      ).stat,
    ).toBe(true);
  });

  it('pollPhase is stable, in [0, 1), and spreads names', () => {
    expect(pollPhase('studio-1')).toBe(pollPhase('studio-1'));
    const phases = Array.from({ length: 1000 }, (_, i) => pollPhase(`ch-${i}`));
    for (const p of phases) expect(p >= 0 && p < 1).toBe(true);
    const perFifth = [0, 1, 2, 3, 4].map((k) => phases.filter((p) => Math.floor(p * 5) === k).length);
    for (const n of perFifth) expect(n).toBeGreaterThan(150);
  });
});
