import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  broadcastState,
  broadcastsOwedVod,
  groupBroadcasts,
  mergePushes,
  newPushesFromHistory,
  pushFromHistory,
  pushFromStat,
  pushReadStarts,
} from '../../shared/lifecycle/broadcasts';
import { compactUtcSeconds } from '../../shared/lifecycle/time';
import type { Broadcast, LiveRecord, Push, StatObservation } from '../../shared/lifecycle/types';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const s = (seconds: number) => T0 + seconds * 1000;
const A = '10.0.0.1:50001';
const B = '10.0.0.1:50002';

const hist = (start: number, end: number, remoteAddr = A): Push => ({
  startTime: s(start),
  endTime: s(end),
  remoteAddr,
  source: 'history',
});
const stat = (start: number, remoteAddr = A): Push => ({ startTime: s(start), remoteAddr, source: 'stat' });
const record = (start: number, end: number, remoteAddr = A): LiveRecord => ({
  startTime: s(start),
  endTime: s(end),
  remoteAddr,
});
const idle: StatObservation = { status: 'Idle' };

describe('pushFromStat / pushFromHistory', () => {
  it('takes the live push from a Live stat only', () => {
    expect(pushFromStat({ status: 'Live', connectedTime: s(0), remoteAddr: A })).toEqual(stat(0));
    expect(pushFromStat({ status: 'Idle' })).toBeUndefined();
    expect(pushFromStat({ status: 'Disabled' })).toBeUndefined();
  });

  it('marks History records as such', () => {
    expect(pushFromHistory(record(0, 10))).toEqual(hist(0, 10));
  });
});

describe('mergePushes', () => {
  it.each<[string, Push[], Push[]]>([
    ['empty', [], []],
    ['the same History record read twice', [hist(0, 10), hist(0, 10)], [hist(0, 10)]],
    ['seen live, then in History: History start and end win', [stat(0.4), hist(0, 10)], [hist(0, 10)]],
    ['History start 2 s from ConnectedTime: still the same push', [stat(2), hist(0, 10)], [hist(0, 10)]],
    ['2.001 s apart: two pushes', [stat(2.001), hist(0, 10)], [hist(0, 10), stat(2.001)]],
    ['same start, different source port: two pushes', [hist(0, 1), hist(0, 5, B)], [hist(0, 1), hist(0, 5, B)]],
    ['a provisional History end is replaced by the later one', [hist(0, 3), hist(0, 10)], [hist(0, 10)]],
    ['seen live twice (two polls)', [stat(0), stat(0)], [stat(0)]],
    [
      'unsorted input comes out sorted',
      [hist(100, 110), hist(0, 10), hist(50, 60)],
      [hist(0, 10), hist(50, 60), hist(100, 110)],
    ],
    ['links chain: 0 ↔ 1.5 ↔ 3 are one push', [stat(0), hist(1.5, 9), stat(3)], [hist(1.5, 9)]],
  ])('%s', (_, input, expected) => {
    expect(mergePushes(input)).toEqual(expected);
  });

  const arbitraryPush = fc
    .record({
      startTime: fc.integer({ min: 0, max: 600 }).map((n) => s(n / 2)),
      endTime: fc.option(
        fc.integer({ min: 600, max: 1200 }).map((n) => s(n / 2)),
        { nil: undefined },
      ),
      remoteAddr: fc.constantFrom(A, B),
      source: fc.constantFrom('stat' as const, 'history' as const),
    })
    .map(({ endTime, ...rest }) => (endTime === undefined ? rest : { ...rest, endTime }));

  it('is idempotent and ignores order and repetition', () => {
    fc.assert(
      fc.property(fc.array(arbitraryPush, { maxLength: 20 }), (records) => {
        const merged = mergePushes(records);
        expect(mergePushes(merged)).toEqual(merged);
        expect(mergePushes([...records].reverse().concat(records))).toEqual(merged);
      }),
    );
  });
});

describe('newPushesFromHistory', () => {
  const ten = (from: number) => Array.from({ length: 10 }, (_, i) => record(from + i * 100, from + i * 100 + 50));

  it('empty history: nothing new, no gap', () => {
    expect(newPushesFromHistory([hist(0, 10)], [])).toEqual({ newRecords: [], gap: undefined });
  });

  it('reports only records the ledger lacks or has an earlier end for, sorted', () => {
    const known = [hist(0, 10), hist(100, 105), stat(200)];
    const history = [record(200, 250), record(100, 110), record(0, 10)];
    expect(newPushesFromHistory(known, history)).toEqual({
      newRecords: [hist(100, 110), hist(200, 250)],
      gap: undefined,
    });
  });

  it('a History record 1 s from the known one is the same push', () => {
    expect(newPushesFromHistory([hist(0, 10)], [record(1, 10)]).newRecords).toEqual([]);
  });

  it('fewer than 10 records is the whole history: no gap even if none is known', () => {
    expect(newPushesFromHistory([hist(0, 10)], ten(1000).slice(0, 9)).gap).toBeUndefined();
  });

  it('10 records overlapping the ledger: no gap', () => {
    const history = ten(1000);
    const known = [hist(0, 10), pushFromHistory(history[0] as LiveRecord)];
    expect(newPushesFromHistory(known, history).gap).toBeUndefined();
  });

  it('more than 10 pushes between two polls: gap from the last known end to the oldest returned start', () => {
    const result = newPushesFromHistory([hist(0, 10), hist(500, 520)], ten(1000));
    expect(result.gap).toEqual({ fromMs: s(520), toMs: s(1000) });
    expect(result.newRecords).toHaveLength(10);
  });

  it('gap after a push whose end is unknown starts at its start', () => {
    expect(newPushesFromHistory([stat(500)], ten(1000)).gap).toEqual({ fromMs: s(500), toMs: s(1000) });
  });

  it('empty ledger and a full history: gap without a lower bound', () => {
    expect(newPushesFromHistory([], ten(1000)).gap).toEqual({ fromMs: null, toMs: s(1000) });
  });

  it('a known push overlapping the oldest record leaves no room for a gap', () => {
    expect(newPushesFromHistory([hist(900, 1000.5, B)], ten(1000)).gap).toBeUndefined();
  });
});

describe('groupBroadcasts', () => {
  const ids = (broadcasts: Broadcast[]) => broadcasts.map((b) => b.pushes.map((p) => (p.startTime - T0) / 1000));

  it.each<[string, Push[], number[][]]>([
    ['no pushes', [], []],
    ['one push', [hist(0, 10)], [[0]]],
    ['reconnect 59.999 s after the end: one broadcast', [hist(0, 10), hist(69.999, 80)], [[0, 69.999]]],
    ['reconnect exactly 60 s after the end: two broadcasts', [hist(0, 10), hist(70, 80)], [[0], [70]]],
    ['reconnect 61 s after: two broadcasts', [hist(0, 10), hist(71, 80)], [[0], [71]]],
    ['unsorted', [hist(200, 210), hist(0, 10), hist(30, 40)], [[0, 30], [200]]],
    [
      'window measured from the latest end, not the last push',
      [hist(0, 100), hist(10, 20, B), hist(150, 160)],
      [[0, 10, 150]],
    ],
    ['a push with unknown end absorbs the next push, however late', [stat(0), hist(5000, 5010)], [[0, 5000]]],
  ])('%s', (_, pushes, expected) => {
    expect(ids(groupBroadcasts(pushes))).toEqual(expected);
  });

  it('honours a custom window', () => {
    expect(ids(groupBroadcasts([hist(0, 10), hist(20, 30)], { reconnectWindowMs: 10_000 }))).toEqual([[0], [20]]);
    expect(ids(groupBroadcasts([hist(0, 10), hist(19.999, 30)], { reconnectWindowMs: 10_000 }))).toEqual([[0, 19.999]]);
  });

  it('refuses a window under 1 s (ids would collide)', () => {
    expect(() => groupBroadcasts([], { reconnectWindowMs: 999 })).toThrow(RangeError);
  });

  it('describes each broadcast: id from the first start, latest end, pushes', () => {
    const [b] = groupBroadcasts([hist(30.5, 40), hist(0.7, 10)]);
    expect(b).toEqual({
      id: '20240501T100000Z',
      firstStart: s(0.7),
      lastEnd: s(40),
      pushes: [hist(0.7, 10), hist(30.5, 40)],
      gaps: [],
    });
  });

  it('lastEnd is unknown while the last push has no end', () => {
    expect(groupBroadcasts([hist(0, 10), stat(30)])[0]?.lastEnd).toBeUndefined();
  });

  it('a History gap joins the broadcasts on both sides, so the VOD window covers the lost pushes', () => {
    const pushes = [hist(0, 10), hist(5000, 5010)];
    const gap = { fromMs: s(10), toMs: s(5000) };
    const broadcasts = groupBroadcasts(pushes, { gaps: [gap] });
    expect(ids(broadcasts)).toEqual([[0, 5000]]);
    expect(broadcasts[0]?.gaps).toEqual([gap]);
    expect(broadcasts[0]?.firstStart).toBe(s(0));
  });

  it('a gap without lower bound is attached to the broadcast it precedes and joins nothing', () => {
    const gap = { fromMs: null, toMs: s(5000) };
    const broadcasts = groupBroadcasts([hist(0, 10), hist(5000, 5010)], { gaps: [gap] });
    expect(ids(broadcasts)).toEqual([[0], [5000]]);
    expect(broadcasts.map((b) => b.gaps)).toEqual([[], [gap]]);
  });

  it('regrouping converges: same ids whatever the input order or repetition', () => {
    const pushes = [hist(0, 10), hist(30, 40), hist(500, 600), hist(700, 800)];
    const once = groupBroadcasts(mergePushes(pushes));
    expect(groupBroadcasts(mergePushes([...pushes, ...pushes].reverse()))).toEqual(once);
    expect(once.map((b) => b.id)).toEqual(['20240501T100000Z', '20240501T100820Z', '20240501T101140Z']);
  });
});

describe('broadcastState', () => {
  const [ended] = groupBroadcasts([hist(0, 10)]);
  const broadcast = ended as Broadcast;
  const at = (seconds: number, skewToleranceMs = 0) => ({ now: s(seconds), stat: idle, skewToleranceMs });

  it.each<[string, ReturnType<typeof at>, string, string]>([
    ['59.999 s after the end', at(69.999), 'open', 'reconnect-window'],
    ['exactly 60 s after the end', at(70), 'ended', 'reconnect-window-elapsed'],
    ['61 s after the end', at(71), 'ended', 'reconnect-window-elapsed'],
    ['our clock 5 s ahead: 64.999 s by our clock is not yet enough', at(74.999, 5_000), 'open', 'reconnect-window'],
    ['our clock 5 s ahead: 65 s by our clock ends it', at(75, 5_000), 'ended', 'reconnect-window-elapsed'],
    ['our clock behind OSS (now before the OSS end)', at(5), 'open', 'reconnect-window'],
  ])('idle, %s → %s', (_, context, state, reason) => {
    expect(broadcastState(broadcast, context)).toMatchObject({ state, reason });
  });

  it('uses the default 5 s skew tolerance and 60 s window', () => {
    expect(broadcastState(broadcast, { now: s(74.999), stat: idle }).state).toBe('open');
    expect(broadcastState(broadcast, { now: s(75), stat: idle })).toEqual({
      state: 'ended',
      reason: 'reconnect-window-elapsed',
      endedAt: s(10),
    });
  });

  it('disabled behaves like idle', () => {
    expect(broadcastState(broadcast, { now: s(70), stat: { status: 'Disabled' }, skewToleranceMs: 0 }).state).toBe(
      'ended',
    );
  });

  it.each<[string, number, string, string]>([
    ['a reconnect inside the window keeps it open however late our clock says', 69.999, 'open', 'live'],
    ['a push exactly one window after the end belongs to the next broadcast', 70, 'ended', 'later-push-started'],
  ])('live: %s', (_, connectedAt, state, reason) => {
    const context = {
      now: s(100_000),
      stat: { status: 'Live' as const, connectedTime: s(connectedAt), remoteAddr: B },
    };
    expect(broadcastState(broadcast, context)).toMatchObject({ state, reason });
  });

  it('live with the push still running is open', () => {
    const [running] = groupBroadcasts([stat(0)]);
    expect(
      broadcastState(running as Broadcast, { now: s(5), stat: { status: 'Live', connectedTime: s(0), remoteAddr: A } }),
    ).toEqual({
      state: 'open',
      reason: 'live',
    });
  });

  it('not live but the last end is unknown: open until History confirms it', () => {
    const [unconfirmed] = groupBroadcasts([stat(0)]);
    expect(broadcastState(unconfirmed as Broadcast, { now: s(100_000), stat: idle })).toEqual({
      state: 'open',
      reason: 'end-unknown',
    });
  });
});

describe('broadcastsOwedVod', () => {
  const window = { reconnectWindowMs: 60_000 };
  it('owes a VOD to every broadcast without a VOD record of its id, older ones included', () => {
    const [b1, b2, b3] = groupBroadcasts([hist(0, 100), hist(1000, 1100), hist(2000, 2100)], window);
    expect(broadcastsOwedVod([b1!, b2!, b3!], new Set([b2!.id]), s(3000)).map((b) => b.id)).toEqual([b1!.id, b3!.id]);
    expect(broadcastsOwedVod([b1!, b2!, b3!], new Set(), s(3000)).map((b) => b.id)).toEqual([b1!.id, b2!.id, b3!.id]);
    expect(broadcastsOwedVod([b3!], new Set([b3!.id]), s(3000))).toEqual([]);
  });
  it('is not fooled by a manual VOD newer than the broadcast, and ends an unknown end at now', () => {
    const [b] = groupBroadcasts([stat(10)], window);
    const clip = compactUtcSeconds(s(300)); // a manual VOD of [300 s, 400 s]: its id is its start
    expect(broadcastsOwedVod([b!], new Set([clip]), s(500))).toEqual([{ ...b!, lastEnd: s(500) }]);
  });
});

describe('pushReadStarts', () => {
  it("tries the VOD ids' starts newest first; ids that are no timestamp are skipped", () => {
    const ids = [compactUtcSeconds(s(20)), 'clip', compactUtcSeconds(s(900)), compactUtcSeconds(s(300))];
    expect(pushReadStarts(ids)).toEqual([s(900), s(300), s(20)]);
    expect(pushReadStarts([])).toEqual([]);
  });
});
