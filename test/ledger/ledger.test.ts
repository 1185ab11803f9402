import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../shared/ledger';
import type { ChannelConfigSummary } from '../../shared/ledger';
import { keysUnder, startLedgerEnv, type LedgerEnv } from './emulator';

const CONFIG: ChannelConfigSummary = {
  description: '',
  fragDuration: 5,
  fragCount: 3,
  playlistName: 'playlist.m3u8',
  snapshots: false,
};
const T = 1_700_000_000_000;

let env: LedgerEnv;
let ledger: Ledger;
let prefix: string;
let run = 0;

beforeAll(async () => {
  env = await startLedgerEnv();
});
afterAll(async () => {
  await env.stop();
});
beforeEach(() => {
  // A fresh ledger prefix per test: tests share one emulator but never each other's records.
  prefix = `_livecycle-t${++run}/`;
  ledger = new Ledger(env.bucket, prefix);
});

describe('create-once facts', () => {
  it('five concurrent writers of the same fact leave exactly one object and all succeed', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        ledger.recordChannelCreated({
          channel: 'cam',
          generation: T,
          config: { ...CONFIG, description: `writer ${i}` },
        }),
      ),
    );
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'exists')).toHaveLength(4);
    // Everybody gets the winner's version back.
    const winner = results.find((r) => r.outcome === 'created')!.record;
    for (const r of results) expect(r.record).toEqual(winner);
    expect(await keysUnder(env.bucket, `${prefix}channels/`)).toEqual([
      `${prefix}channels/cam/${String(9_999_999_999_999 - T)}.json`,
    ]);
    expect(await ledger.getChannel('cam')).toEqual(winner);
  });

  it('survives lost responses: a retried create that hits its own object reports it recorded', async () => {
    env.emu.faults.set([{ operation: 'PutObject', rate: 0.4, kind: 'truncate' }], 7);
    try {
      for (let i = 0; i < 8; i++) {
        const { record } = await ledger.recordTombstone({ channel: `cam${i}`, generation: T, deletedAt: T + i });
        expect(record.deletedAt).toBe(T + i);
      }
    } finally {
      env.emu.faults.set([], 0);
    }
    expect(await keysUnder(env.bucket, `${prefix}tombstones/`)).toHaveLength(8);
  });
});

describe('channels and generations', () => {
  it('tells a recreated channel apart and finds the latest generation', async () => {
    await ledger.recordChannelCreated({ channel: 'cam', generation: T, config: CONFIG });
    await ledger.recordChannelCreated({ channel: 'cam', generation: T + 60_000, config: { ...CONFIG, fragCount: 5 } });
    await ledger.recordChannelCreated({ channel: 'other', generation: T + 1, config: CONFIG });
    const long = 'x'.repeat(500);
    await ledger.recordChannelCreated({ channel: long, generation: T + 2, config: CONFIG });

    expect(await ledger.getChannel('cam')).toMatchObject({ generation: T + 60_000, config: { fragCount: 5 } });
    expect((await ledger.listGenerations('cam')).map((g) => g.generation)).toEqual([T + 60_000, T]);
    expect(await ledger.getChannelGeneration('cam', T)).toMatchObject({ generation: T, config: { fragCount: 3 } });
    expect(await ledger.getChannel('never')).toBeUndefined();

    const listed = [];
    for await (const ref of ledger.listChannels()) listed.push({ channel: ref.channel, generation: ref.generation });
    expect(listed).toEqual([
      { channel: 'cam', generation: T + 60_000 },
      { channel: 'other', generation: T + 1 },
      // Too long to keep verbatim in a key: the record names it.
      { channel: undefined, generation: T + 2 },
    ]);
    expect((await ledger.getChannel(long))?.channel).toBe(long);
  });
});

describe('latest-first records', () => {
  it('finds the newest snapshot whatever order they were written in', async () => {
    for (const at of [T + 2000, T, T + 5000, T + 1000])
      await ledger.recordSnapshot({ channel: 'cam', at, objectKey: `snap/${at}.jpg` });
    expect(await ledger.latestSnapshot('cam')).toEqual({
      v: 1,
      channel: 'cam',
      at: T + 5000,
      objectKey: `snap/${T + 5000}.jpg`,
    });
    expect(await ledger.latestSnapshot('other')).toBeUndefined();
  });

  it('finds the latest time a channel was seen live', async () => {
    expect(await ledger.lastSeenLive('cam')).toBeUndefined();
    await Promise.all([T + 30_000, T, T + 90_000, T + 60_000].map((at) => ledger.recordSeenLive('cam', at)));
    expect(await ledger.recordSeenLive('cam', T + 90_000)).toBe('exists');
    expect(await ledger.lastSeenLive('cam')).toBe(T + 90_000);
  });

  it('finds the latest cleanup report', async () => {
    await ledger.putCleanupReport({ runId: 'r2', startedAt: T + 100, finishedAt: T + 200, dryRun: false, deleted: 3 });
    await ledger.putCleanupReport({ runId: 'r1', startedAt: T, finishedAt: T + 50, dryRun: true, deleted: 0 });
    expect(await ledger.latestCleanupReport()).toMatchObject({ runId: 'r2', deleted: 3 });
  });
});

describe('pushes', () => {
  it('keeps every observation once, stat and history alike, filtered by start', async () => {
    await ledger.recordPush({
      channel: 'cam',
      startTime: T,
      remoteAddr: '10.0.0.1:5000',
      source: 'stat',
      observedAt: T + 10,
    });
    expect(
      await ledger.recordPush({
        channel: 'cam',
        startTime: T,
        remoteAddr: '10.0.0.1:5000',
        source: 'stat',
        observedAt: T + 20,
      }),
    ).toBe('exists');
    await ledger.recordPush({
      channel: 'cam',
      startTime: T + 5,
      endTime: T + 60_000,
      remoteAddr: '10.0.0.1:5000',
      source: 'history',
    });
    // A later History read with a grown (non-provisional) end is a new observation.
    await ledger.recordPush({
      channel: 'cam',
      startTime: T + 5,
      endTime: T + 90_000,
      remoteAddr: '10.0.0.1:5000',
      source: 'history',
    });
    await ledger.recordPush({ channel: 'cam', startTime: T + 600_000, remoteAddr: '10.0.0.2:6000', source: 'stat' });

    const all = await ledger.listPushes('cam');
    expect(all.map((p) => [p.startTime, p.source, p.endTime])).toEqual([
      [T, 'stat', undefined],
      [T + 5, 'history', T + 60_000],
      [T + 5, 'history', T + 90_000],
      [T + 600_000, 'stat', undefined],
    ]);
    expect(all[0]?.observedAt).toBe(T + 10);
    expect((await ledger.listPushes('cam', { since: T + 5 })).map((p) => p.startTime)).toEqual([
      T + 5,
      T + 5,
      T + 600_000,
    ]);
    expect(await ledger.listPushes('cam', { since: T + 600_001 })).toEqual([]);
  });
});

describe('VOD records', () => {
  const part = {
    playlistName: 'vod-20231114T221320Z.m3u8',
    key: 'cam/vod-20231114T221320Z.m3u8',
    range: { startTime: 1_700_000_000, endTime: 1_700_000_600 },
  };

  it('reports the most advanced status and lets a retry after failure record ready', async () => {
    await ledger.recordVod({ channel: 'cam', broadcastId: '20231114T221320Z', status: 'pending', parts: [part] });
    expect((await ledger.getVod('cam', '20231114T221320Z'))?.status).toBe('pending');
    await ledger.recordVod({
      channel: 'cam',
      broadcastId: '20231114T221320Z',
      status: 'failed',
      parts: [part],
      error: 'InvalidArgument',
    });
    expect(await ledger.getVod('cam', '20231114T221320Z')).toMatchObject({
      status: 'failed',
      error: 'InvalidArgument',
    });
    const ready = await ledger.recordVod({
      channel: 'cam',
      broadcastId: '20231114T221320Z',
      status: 'ready',
      parts: [part],
    });
    expect(ready.outcome).toBe('created');
    const again = await ledger.recordVod({
      channel: 'cam',
      broadcastId: '20231114T221320Z',
      status: 'ready',
      parts: [],
    });
    expect(again).toMatchObject({ outcome: 'exists', record: { parts: [part] } });
    expect(await ledger.getVod('cam', '20231114T221320Z')).toMatchObject({ status: 'ready', parts: [part] });

    await ledger.recordVod({ channel: 'cam', broadcastId: '20231115T000000Z', status: 'pending', parts: [] });
    expect((await ledger.listVods('cam')).map((v) => [v.broadcastId, v.status])).toEqual([
      ['20231114T221320Z', 'ready'],
      ['20231115T000000Z', 'pending'],
    ]);
    expect(await ledger.getVod('cam', 'nope')).toBeUndefined();
  });
});

describe('tombstones', () => {
  it('records one tombstone per generation, first deletion time wins, and lists pending ones', async () => {
    const first = await ledger.recordTombstone({ channel: 'cam', generation: T, deletedAt: T + 1000 });
    const dup = await ledger.recordTombstone({ channel: 'cam', generation: T, deletedAt: T + 9999 });
    expect(first.outcome).toBe('created');
    expect(dup).toEqual({ outcome: 'exists', record: first.record });
    await ledger.recordTombstone({ channel: 'cam', generation: T + 5000, deletedAt: T + 6000 });
    await ledger.recordTombstone({ channel: 'b-cam', generation: T, deletedAt: T + 2000 });

    const all = [];
    for await (const t of ledger.listTombstones()) all.push(`${t.channel}@${t.generation - T}`);
    expect(all).toEqual(['b-cam@0', 'cam@0', 'cam@5000']);

    await ledger.recordTombstoneCleaned({
      channel: 'cam',
      generation: T,
      cleanedAt: T + 90_000,
      runId: 'r1',
      objectsDeleted: 12,
      bytesDeleted: 1234,
    });
    const pending = [];
    for await (const t of ledger.listTombstones({ pendingOnly: true }))
      pending.push(`${t.channel}@${t.generation - T}`);
    expect(pending).toEqual(['b-cam@0', 'cam@5000']);
    expect(await ledger.getTombstone('cam', T)).toEqual(first.record);
    expect(await ledger.getTombstone('cam', T + 1)).toBeUndefined();
  });

  it('remembers the first time cleanup found a channel missing until it is cleared', async () => {
    expect(await ledger.channelMissingSince('cam')).toBeUndefined();
    await ledger.recordChannelMissing('cam', T);
    expect((await ledger.recordChannelMissing('cam', T + 5000)).record.since).toBe(T);
    expect(await ledger.channelMissingSince('cam')).toBe(T);
    await ledger.clearChannelMissing('cam');
    await ledger.clearChannelMissing('cam');
    expect(await ledger.channelMissingSince('cam')).toBeUndefined();
  });
});

describe('holds', () => {
  it('holds while any hold is in force; holds are independent and lapse', async () => {
    expect(await ledger.isHeld('cam', T)).toBe(false);
    await ledger.setHold({ channel: 'cam', holdId: 'legal', reason: 'case 42' });
    await ledger.setHold({ channel: 'cam', holdId: 'promo', reason: 'replay week', until: T + 1000 });
    expect(await ledger.isHeld('cam', T)).toBe(true);
    await ledger.clearHold('cam', 'legal');
    expect(await ledger.isHeld('cam', T)).toBe(true);
    expect(await ledger.isHeld('cam', T + 1000)).toBe(false);
    expect((await ledger.listHolds('cam')).map((h) => h.holdId)).toEqual(['promo']);
    await ledger.clearHold('cam', 'promo');
    await ledger.clearHold('cam', 'promo');
    expect(await ledger.isHeld('cam', T)).toBe(false);
    expect(await ledger.isHeld('other', T)).toBe(false);
  });
});

describe('disables', () => {
  it('records one disable per idle period, however many runs decide it', async () => {
    const runs = await Promise.all(
      [T + 1, T + 2, T + 3].map((disabledAt) =>
        ledger.recordDisabled({ channel: 'cam', generation: T, since: T - 5000, disabledAt, reason: 'idle' }),
      ),
    );
    expect(new Set(runs.map((r) => r.record.disabledAt)).size).toBe(1);
    await ledger.recordDisabled({
      channel: 'cam',
      generation: T,
      since: T + 100_000,
      disabledAt: T + 200_000,
      reason: 'idle',
    });
    expect((await ledger.listDisabled('cam')).map((d) => d.since)).toEqual([T - 5000, T + 100_000]);
  });
});

describe('mutable caches', () => {
  it('round-trips the cleanup cursor and the poll state, last writer wins', async () => {
    expect(await ledger.getCleanupCursor('orphans')).toBeUndefined();
    await ledger.putCleanupCursor('orphans', 'cam/000123.ts');
    await ledger.putCleanupCursor('orphans', 'cam/000456.ts');
    expect(await ledger.getCleanupCursor('orphans')).toBe('cam/000456.ts');
    await ledger.clearCleanupCursor('orphans');
    expect(await ledger.getCleanupCursor('orphans')).toBeUndefined();

    expect(await ledger.getPollState('0')).toBeUndefined();
    const state = {
      updatedAt: T,
      channels: { cam: { status: 'Live' as const, connectedTime: T - 10, observedAt: T } },
    };
    await ledger.putPollState('0', state);
    expect(await ledger.getPollState('0')).toEqual(state);
  });
});

describe('webhook sequences', () => {
  const id = (n: number) => `evt_${n.toString(16).padStart(32, '0')}`;

  it('gives duplicates of one event the same number', async () => {
    const numbers = await Promise.all([1, 2, 3, 4, 5].map(() => ledger.assignSequence('cam', id(1))));
    expect(numbers).toEqual([1, 1, 1, 1, 1]);
    expect(await ledger.assignSequence('cam', id(2))).toBe(2);
    expect(await ledger.assignSequence('cam', id(1))).toBe(1);
  });

  it('numbers concurrent events 1..n without gaps or doubles, per scope, despite duplicates', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => id(100 + i));
    // Each event is claimed three times at once, as retried invocations would.
    const calls = [...ids, ...ids, ...ids].map((e) => ledger.assignSequence('cam', e).then((n) => [e, n] as const));
    const results = await Promise.all(calls);
    const byId = new Map<string, Set<number>>();
    for (const [e, n] of results) byId.set(e, (byId.get(e) ?? new Set()).add(n));
    for (const numbers of byId.values()) expect(numbers.size).toBe(1);
    const assigned = [...byId.values()].map((s) => [...s][0]!).sort((a, b) => a - b);
    expect(assigned).toEqual(Array.from({ length: 8 }, (_, i) => i + 1));
    // One slot per event: nothing claimed twice, nothing wasted.
    expect(await keysUnder(env.bucket, `${prefix}webhooks/seq/cam/`)).toHaveLength(8);
    // Other scopes count on their own.
    expect(await ledger.assignSequence('other', id(1))).toBe(1);
    expect(await ledger.assignSequence(null, id(1))).toBe(1);
  });
});
