import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PRICES,
  FolderStorageCounter,
  OVERHEAD,
  budgetLevels,
  channelOfKey,
  cnyOf,
  foldUsage,
  monthElapsed,
  monthOf,
  pricesFrom,
  requestClass,
  withoutDeleted,
} from '../../shared/lifecycle/cost';
import { driftItems } from '../../shared/lifecycle/drift';

const P = '_livecycle/';

describe('channelOfKey: whom a request is for', () => {
  it.each([
    ['cam-1', 'cam-1'],
    ['cam-1/1700000000000.ts', 'cam-1'],
    ['cam-1/', 'cam-1'],
    [`${P}pushes/cam-1/0001700000000000/stat.json`, 'cam-1'],
    [`${P}channels/cam-1/`, 'cam-1'],
    [`${P}webhooks/events/cam-1/evt_x.json`, 'cam-1'],
    [`${P}poll/wake/cam-1`, 'cam-1'],
    [`${P}budgets/cam-1/budget.json`, 'cam-1'],
    [`${P}webhooks/events/~bucket/evt_x.json`, OVERHEAD],
    [`${P}poll/shard-0.json`, OVERHEAD],
    [`${P}cleanup/leases/`, OVERHEAD],
    [`${P}pushes/~${'a'.repeat(64)}/x`, OVERHEAD],
    ['', OVERHEAD],
    [undefined, OVERHEAD],
  ])('%s → %s', (key, channel) => {
    expect(channelOfKey(key, P)).toBe(channel);
  });

  it('classes reads of one object or channel as GET, writes and listings as PUT', () => {
    expect(requestClass('GetLiveChannelStat')).toBe('get');
    expect(requestClass('GetObject')).toBe('get');
    expect(requestClass('ListObjectsV2')).toBe('put');
    expect(requestClass('PostVodPlaylist')).toBe('put');
    expect(requestClass('DeleteMultipleObjects')).toBe('put');
  });
});

describe('FolderStorageCounter', () => {
  const T = Date.UTC(2026, 2, 1, 10, 0, 0);
  it('totals are exact; fragments inside a VOD broadcast count as kept by it', () => {
    const c = new FolderStorageCounter();
    // Broadcast 10:00–10:20 with its VOD written at 10:21; fragments of a later push at 11:00.
    for (let i = 0; i < 4; i++) c.add(`cam/${T + i * 300_000}.ts`, T + i * 300_000, 100);
    c.add(`cam/${T + 3_600_000}.ts`, T + 3_600_000, 50);
    c.add('cam/playlist.m3u8', T + 3_600_000, 7);
    c.add('cam/vod-20260301T100000Z.m3u8', T + 21 * 60_000, 9);
    c.add('cam/1772359200000.jpg', T, 30);
    c.add('cam/notes.txt', T, 3);
    const f = c.finish();
    expect({ objects: f.objects, bytes: f.bytes }).toEqual({ objects: 9, bytes: 499 });
    expect(f.byKind).toEqual({
      liveFragments: { objects: 1, bytes: 50 },
      vodFragments: { objects: 4, bytes: 400 },
      playlists: { objects: 2, bytes: 16 },
      snapshots: { objects: 1, bytes: 30 },
      other: { objects: 1, bytes: 3 },
    });
    expect(withoutDeleted(f, { objects: 2, bytes: 60 })).toMatchObject({
      objects: 7,
      bytes: 439,
      byKind: { liveFragments: { objects: 0, bytes: 0 }, vodFragments: { objects: 3, bytes: 390 } },
    });
  });
});

describe('usage and money', () => {
  it('shares an invocation between the channels it made requests for, in proportion', () => {
    const totals = foldUsage({}, [
      {
        function: 'poll-stat',
        startedAt: 0,
        durationMs: 2000,
        memoryMb: 1024,
        requests: { a: { GetLiveChannelStat: 3 }, b: { GetLiveChannelStat: 1 } },
      },
      { function: 'disable-idle', startedAt: 0, durationMs: 1000, memoryMb: 512, requests: {} },
    ]);
    expect(totals.a).toEqual({ requests: { GetLiveChannelStat: 3 }, invocations: 0.75, gbSeconds: 1.5 });
    expect(totals.b).toEqual({ requests: { GetLiveChannelStat: 1 }, invocations: 0.25, gbSeconds: 0.5 });
    expect(totals[OVERHEAD]).toEqual({ requests: {}, invocations: 1, gbSeconds: 0.5 });
  });

  it('prices storage by GB-month, requests per 10,000, FC by invocations and GB-seconds', () => {
    const cny = cnyOf(
      {
        bytes: 1024 ** 3,
        monthFraction: 1,
        requests: { get: 10_000, put: 20_000, total: 30_000 },
        invocations: 10_000,
        gbSeconds: 100,
      },
      DEFAULT_PRICES,
    );
    expect(cny.storage).toBe(0.12);
    expect(cny.requests).toBe(0.03);
    expect(cny.compute).toBeCloseTo(0.00825 + 100 * (0.0000165 + 0.7 * 0.00011), 4);
    expect(cny.total).toBeCloseTo(cny.storage + cny.requests + cny.compute, 4);
  });

  it('months are UTC calendar months; at least an hour counts as passed', () => {
    expect(monthOf(Date.UTC(2026, 1, 28, 23, 59))).toBe('2026-02');
    expect(monthElapsed('2026-03', Date.UTC(2026, 2, 1))).toBeCloseTo(1 / 744, 6);
    expect(monthElapsed('2026-03', Date.UTC(2026, 2, 16, 12))).toBeCloseTo(0.5, 6);
    expect(monthElapsed('2026-03', Date.UTC(2026, 5, 1))).toBe(1);
  });

  it('budget levels: warning from 80 %, both from 100 %, none without a budget', () => {
    expect(budgetLevels(7.9, 10)).toEqual([]);
    expect(budgetLevels(8, 10)).toEqual(['warning']);
    expect(budgetLevels(10, 10)).toEqual(['warning', 'exceeded']);
    expect(budgetLevels(10, undefined)).toEqual([]);
    expect(budgetLevels(10, 0)).toEqual([]);
  });

  it('COST_PRICES overrides fields and names the one at fault', () => {
    expect(pricesFrom(undefined)).toBe(DEFAULT_PRICES);
    expect(pricesFrom('{"asOf":"2026-12-01"}').asOf).toBe('2026-12-01');
    expect(() => pricesFrom('{"storageGbMonth":"0.1"}')).toThrow(/storageGbMonth must be a number/);
  });
});

describe('driftItems', () => {
  it('names each disagreement once, with the action that resolves it', () => {
    const items = driftItems({
      ossChannels: new Set(['ok', 'new', 'reborn']),
      ledgerChannels: new Map([
        ['ok', { generation: 1, deleted: false }],
        ['gone', { generation: 2, deleted: false }],
        ['reborn', { generation: 3, deleted: true }],
        ['deleted', { generation: 4, deleted: true }],
      ]),
      folders: ['ok/', 'gone/', 'deleted/', 'tool-x/', 'auto-9/', '_livecycle/', 'new/'],
      ledgerPrefix: P,
      channelPrefixes: ['auto-'],
    });
    expect(items.map((i) => `${i.id} ${i.action} ${i.fixable}`)).toEqual([
      'missing-channel:gone record-deletion true',
      'untracked-channel:new adopt true',
      'untracked-channel:reborn adopt true',
      'orphan-prefix:auto-9/ cleanup false',
      'orphan-prefix:deleted/ cleanup false',
      'orphan-prefix:gone/ cleanup false',
      'foreign-prefix:tool-x/ leave false',
    ]);
  });
});
