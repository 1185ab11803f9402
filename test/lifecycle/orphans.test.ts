import { describe, expect, it } from 'vitest';
import {
  channelLives,
  classifyFragment,
  parseIngestSegmentKey,
  referencedSegments,
  unaccountedObjects,
  writtenDuringLife,
  type ChannelHistory,
  type ChannelLife,
  type FragmentInput,
} from '../../shared/lifecycle/orphans';
import { InvalidPlaylistError } from '../../shared/lifecycle/playlist';
import { renderParentPlaylist } from '../../shared/lifecycle/vod';

const scope = { channelPrefixes: ['cam-', 'lc_'] };

describe('parseIngestSegmentKey', () => {
  it.each([
    ['cam-1/1543895706266.ts', { channel: 'cam-1', segment: '1543895706266.ts' }],
    ['lc_x/0000000000001.ts', { channel: 'lc_x', segment: '0000000000001.ts' }],
    ['cam-1/1.ts', { channel: 'cam-1', segment: '1.ts' }],
  ])('%s is ingest output', (key, expected) => {
    expect(parseIngestSegmentKey(key, scope)).toEqual(expected);
  });

  it.each([
    ['outside the prefixes', 'other/1.ts'],
    ['prefix must start the channel name', 'x-cam-1/1.ts'],
    ['a playlist', 'cam-1/playlist.m3u8'],
    ['a VOD playlist', 'cam-1/vod-20240501T100000Z.m3u8'],
    ['nested deeper', 'cam-1/sub/1.ts'],
    ['at the bucket root', '1.ts'],
    ['empty channel', '/1.ts'],
    ['bare .ts', 'cam-1/.ts'],
    ['upper-case extension (ingest writes .ts)', 'cam-1/1.TS'],
    ['a snapshot', 'cam-1/1.jpg'],
    ['a name ingest does not give: a report', 'cam-1/2025-q4.ts'],
    ['a name ingest does not give: letters', 'cam-1/clip.ts'],
    ['a name ingest does not give: a space', 'cam-1/1 2.ts'],
    ['a name ingest does not give: a sign', 'cam-1/-1.ts'],
    ['more digits than any counter or ms timestamp', `cam-1/${'1'.repeat(21)}.ts`],
  ])('%s: %s is not', (_, key) => {
    expect(parseIngestSegmentKey(key, scope)).toBeUndefined();
  });

  it('never the ledger, even when every channel is in scope', () => {
    expect(parseIngestSegmentKey('_livecycle/1.ts', { channelPrefixes: [''] })).toBeUndefined();
    expect(parseIngestSegmentKey('ledger/1.ts', { channelPrefixes: [''], ledgerPrefix: 'ledger/' })).toBeUndefined();
    expect(parseIngestSegmentKey('_livecycle/1.ts', { channelPrefixes: [''], ledgerPrefix: 'ledger/' })).toEqual({
      channel: '_livecycle',
      segment: '1.ts',
    });
  });

  it('no prefixes configured: nothing is in scope', () => {
    expect(parseIngestSegmentKey('cam-1/1.ts', { channelPrefixes: [] })).toBeUndefined();
  });
});

describe('referencedSegments', () => {
  const media = (...uris: string[]) =>
    ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:5', ...uris.flatMap((u) => ['#EXTINF:5.000,', u]), ''].join(
      '\n',
    );

  it('resolves bare names against the playlist folder (OSS VOD and live playlists)', () => {
    expect(referencedSegments('cam-1/playlist.m3u8', media('1543895706266.ts', '1543895706323.ts'))).toEqual({
      segments: ['cam-1/1543895706266.ts', 'cam-1/1543895706323.ts'],
      playlists: [],
      ignored: [],
    });
  });

  it.each([
    ['./ is normalised', './1.ts', 'cam-1/1.ts'],
    ['inner .. stays inside the folder', 'sub/../1.ts', 'cam-1/1.ts'],
    ['query and fragment dropped', '1.ts?token=abc#t=1', 'cam-1/1.ts'],
    ['%-escapes decoded', 'a%20b.ts', 'cam-1/a b.ts'],
    ['/-rooted path is a bucket key', '/cam-2/1.ts', 'cam-2/1.ts'],
  ])('%s', (_, uri, key) => {
    expect(referencedSegments('cam-1/playlist.m3u8', media(uri)).segments).toEqual([key]);
  });

  it.each([
    ['../ escaping the folder', '../cam-2/1.ts', 'escapes-folder'],
    ['../ hidden behind ./', './../1.ts', 'escapes-folder'],
    ['rooted path climbing out of the bucket', '/../1.ts', 'escapes-folder'],
    ['absolute URL to another host', 'https://cdn.example.com/cam-1/1.ts', 'external'],
    ['broken %-escape', '1%E0%A4%A.ts', 'invalid'],
    ['a folder, not an object', 'sub/', 'invalid'],
  ])('ignores %s', (_, uri, reason) => {
    expect(referencedSegments('cam-1/playlist.m3u8', media(uri))).toEqual({
      segments: [],
      playlists: [],
      ignored: [{ uri, reason }],
    });
  });

  it('absolute URLs on our own bucket host are followed', () => {
    const refs = referencedSegments('cam-1/p.m3u8', media('http://bucket.oss-cn-hangzhou.aliyuncs.com/cam-1/1.ts'), {
      ownHosts: ['bucket.oss-cn-hangzhou.aliyuncs.com'],
    });
    expect(refs.segments).toEqual(['cam-1/1.ts']);
  });

  it('lists each key once', () => {
    expect(referencedSegments('cam-1/p.m3u8', media('1.ts', './1.ts')).segments).toEqual(['cam-1/1.ts']);
  });

  it('the parent playlist from vod.ts references its parts’ segments directly', () => {
    const part = (uri: string) => ({ playlistName: 'p', text: media(uri) });
    const parent = renderParentPlaylist([part('1.ts'), part('2.ts')]);
    expect(referencedSegments('cam-1/vod-20240501T100000Z.m3u8', parent).segments).toEqual([
      'cam-1/1.ts',
      'cam-1/2.ts',
    ]);
  });

  it('a master playlist yields playlists to follow, including renditions', () => {
    const master = [
      '#EXTM3U',
      '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",URI="audio/en.m3u8"',
      '#EXT-X-STREAM-INF:BANDWIDTH=1000,AUDIO="a"',
      'vod-20240501T100000Z-part001.m3u8',
      '',
    ].join('\n');
    expect(referencedSegments('cam-1/index.m3u8', master)).toEqual({
      segments: [],
      playlists: ['cam-1/vod-20240501T100000Z-part001.m3u8', 'cam-1/audio/en.m3u8'],
      ignored: [],
    });
  });

  it('unreadable text is an InvalidPlaylistError naming the key', () => {
    expect(() => referencedSegments('cam-1/broken.m3u8', 'garbage')).toThrow(InvalidPlaylistError);
    expect(() => referencedSegments('cam-1/broken.m3u8', 'garbage')).toThrow(/cam-1\/broken\.m3u8/);
  });
});

describe('classifyFragment', () => {
  const NOW = Date.parse('2024-05-10T00:00:00.000Z');
  const H = 3_600_000;
  const base: FragmentInput = {
    key: 'cam-1/1.ts',
    lastModified: NOW - 48 * H,
    channelState: 'tombstoned',
    lives: [{ from: NOW - 30 * 24 * H, to: NOW - 12 * H }],
    referenced: false,
    now: NOW,
    skewToleranceMs: 0,
    scope,
  };

  it.each<[string, Partial<FragmentInput>, 'delete' | 'keep', string]>([
    ['tombstoned, unreferenced, old: orphan', {}, 'delete', 'orphan'],
    ['not ingest output', { key: 'cam-1/playlist.m3u8' }, 'keep', 'not-ingest-output'],
    ['outside the prefixes', { key: 'other/1.ts' }, 'keep', 'not-ingest-output'],
    ['in the ledger', { key: '_livecycle/1.ts', scope: { channelPrefixes: [''] } }, 'keep', 'not-ingest-output'],
    ['channel live', { channelState: 'live' }, 'keep', 'channel-live'],
    ['channel exists', { channelState: 'exists' }, 'keep', 'channel-exists'],
    [
      'recreated channel (same name, old fragments): exists wins',
      { channelState: 'exists', lastModified: NOW - 365 * 24 * H },
      'keep',
      'channel-exists',
    ],
    ['referenced by a stored VOD playlist', { referenced: true }, 'keep', 'referenced'],
    ['written 24 h − 1 s ago', { lastModified: NOW - 24 * H + 1000 }, 'keep', 'within-grace'],
    ['written exactly 24 h ago', { lastModified: NOW - 24 * H }, 'delete', 'orphan'],
    ['written 24 h + 1 s ago', { lastModified: NOW - 24 * H - 1000 }, 'delete', 'orphan'],
    [
      'our clock 5 s ahead, exactly 24 h by it',
      { lastModified: NOW - 24 * H, skewToleranceMs: 5000 },
      'keep',
      'within-grace',
    ],
    [
      'our clock 5 s ahead, 24 h + 5 s by it',
      { lastModified: NOW - 24 * H - 5000, skewToleranceMs: 5000 },
      'delete',
      'orphan',
    ],
    [
      'absent, first seen missing just now',
      { channelState: 'absent', channelGoneSince: NOW },
      'keep',
      'channel-recently-gone',
    ],
    ['absent, no record of when', { channelState: 'absent' }, 'keep', 'channel-recently-gone'],
    [
      'absent for 24 h − 1 s',
      { channelState: 'absent', channelGoneSince: NOW - 24 * H + 1000 },
      'keep',
      'channel-recently-gone',
    ],
    ['absent for exactly 24 h', { channelState: 'absent', channelGoneSince: NOW - 24 * H }, 'delete', 'orphan'],
    [
      'absent long enough but referenced',
      { channelState: 'absent', channelGoneSince: NOW - 48 * H, referenced: true },
      'keep',
      'referenced',
    ],
    ['custom grace of 1 h', { graceMs: H, lastModified: NOW - H, lives: [{ to: NOW }] }, 'delete', 'orphan'],
    [
      'written before the channel was created (a folder adopted with data in it)',
      { lastModified: NOW - 31 * 24 * H },
      'keep',
      'outside-channel-life',
    ],
    [
      'written after the channel was gone (someone else’s data)',
      { lastModified: NOW - 12 * H + 1 },
      'keep',
      'outside-channel-life',
    ],
    [
      'written in an earlier life of the name',
      {
        lastModified: NOW - 40 * 24 * H,
        lives: [
          { from: NOW - 50 * 24 * H, to: NOW - 35 * 24 * H },
          { from: NOW - 30 * 24 * H, to: NOW - 12 * H },
        ],
      },
      'delete',
      'orphan',
    ],
    ['no life known at all', { lives: [] }, 'keep', 'outside-channel-life'],
    ['a life is ignored while the channel exists', { channelState: 'exists', lives: [] }, 'keep', 'channel-exists'],
    [
      'absent, recently: that reason first',
      { channelState: 'absent', channelGoneSince: NOW, lives: [] },
      'keep',
      'channel-recently-gone',
    ],
  ])('%s → %s (%s)', (_, overrides, action, reason) => {
    expect(classifyFragment({ ...base, ...overrides })).toEqual({ action, reason });
  });

  it('default grace is 24 h', () => {
    const { skewToleranceMs: _, ...defaults } = base;
    expect(classifyFragment({ ...defaults, lastModified: NOW - 24 * H }).reason).toBe('within-grace');
    expect(classifyFragment({ ...defaults, lastModified: NOW - 24 * H - 5000 }).reason).toBe('orphan');
  });
});

describe('channelLives', () => {
  const none = { generations: [], tombstones: [], prefixScoped: false };
  it.each<[string, ChannelHistory, ChannelLife[]]>([
    ['nothing known: no life', none, []],
    [
      'a generation deleted through livecycle',
      { ...none, generations: [100], tombstones: [{ generation: 100, deletedAt: 500 }] },
      [{ from: 100, to: 500 }],
    ],
    [
      'a generation deleted outside livecycle, found missing later',
      { ...none, generations: [100], missingSince: 900 },
      [{ from: 100, to: 900 }],
    ],
    ['a generation not yet found gone has no end: no life', { ...none, generations: [100] }, []],
    [
      'deleted outside livecycle, then created again: the first life ends at the next creation',
      { ...none, generations: [300, 100], tombstones: [{ generation: 300, deletedAt: 700 }] },
      [
        { from: 100, to: 300 },
        { from: 300, to: 700 },
      ],
    ],
    [
      'a tombstone without its record (created outside livecycle, deleted through the api)',
      { ...none, tombstones: [{ generation: 0, deletedAt: 500 }] },
      [{ to: 500 }],
    ],
    [
      'a tombstone whose record is gone keeps its creation time',
      { ...none, tombstones: [{ generation: 100, deletedAt: 500 }] },
      [{ from: 100, to: 500 }],
    ],
    [
      'prefix scope adds an open start up to the latest end',
      {
        ...none,
        generations: [100],
        tombstones: [{ generation: 100, deletedAt: 500 }],
        missingSince: 900,
        prefixScoped: true,
      },
      [{ from: 100, to: 500 }, { to: 900 }],
    ],
    ['prefix scope without any end: no life', { ...none, prefixScoped: true }, []],
  ])('%s', (_, history, lives) => {
    expect(channelLives(history)).toEqual(lives);
  });
});

describe('writtenDuringLife', () => {
  const lives = [{ from: 1_000_000, to: 2_000_000 }];
  it.each<[string, number, readonly ChannelLife[], number, boolean]>([
    ['inside', 1_500_000, lives, 0, true],
    ['at the start', 1_000_000, lives, 0, true],
    ['at the end', 2_000_000, lives, 0, true],
    ['1 ms before the start', 999_999, lives, 0, false],
    ['1 ms after the end', 2_000_001, lives, 0, false],
    ['before the start, within the skew allowance', 996_000, lives, 5000, true],
    ['after the end, within the skew allowance', 2_004_000, lives, 5000, true],
    ['after the end, beyond the skew allowance', 2_005_001, lives, 5000, false],
    ['open start', 1, [{ to: 2_000_000 }], 0, true],
    ['no lives', 1_500_000, [], 0, false],
  ])('%s', (_, lastModified, lifeList, skew, expected) => {
    expect(writtenDuringLife(lastModified, lifeList, skew)).toBe(expected);
  });
});

describe('unaccountedObjects (creating a channel over a folder)', () => {
  const lives = [{ from: 1_000_000, to: 2_000_000 }];
  it.each<[string, string, number, readonly ChannelLife[], boolean]>([
    ['a fragment of an earlier life', 'cam/0000000000001.ts', 1_500_000, lives, false],
    ['a playlist of an earlier life', 'cam/vod-20240501T100000Z.m3u8', 1_500_000, lives, false],
    ['a snapshot of an earlier life', 'cam/0000000001500.jpg', 1_500_000, lives, false],
    ['a fragment-like name written before any life', 'cam/0000000000001.ts', 500_000, lives, true],
    ['a fragment-like name written after the last life', 'cam/0000000000001.ts', 2_500_000, lives, true],
    ['the folder of a name livecycle never had', 'cam/0000000000001.ts', 1_500_000, [], true],
    ['a name ingest does not give', 'cam/2025-q4.ts', 1_500_000, lives, true],
    ['any other file', 'cam/notes.txt', 1_500_000, lives, true],
    ['deeper in the folder', 'cam/sub/0000000000001.ts', 1_500_000, lives, true],
    [
      'outside the folder (not listed by the prefix, but never ours)',
      'camera/0000000000001.ts',
      1_500_000,
      lives,
      true,
    ],
  ])('%s: %s', (_, key, lastModified, lifeList, unaccounted) => {
    expect(unaccountedObjects('cam', [{ key, lastModified }], lifeList, 0)).toEqual(
      unaccounted ? [{ key, lastModified }] : [],
    );
  });
});
