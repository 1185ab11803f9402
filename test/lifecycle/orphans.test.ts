import { describe, expect, it } from 'vitest';
import { classifyFragment, parseIngestSegmentKey, referencedSegments, type FragmentInput } from '../../shared/lifecycle/orphans';
import { InvalidPlaylistError } from '../../shared/lifecycle/playlist';
import { renderParentPlaylist } from '../../shared/lifecycle/vod';

const scope = { channelPrefixes: ['cam-', 'lc_'] };

describe('parseIngestSegmentKey', () => {
  it.each([
    ['cam-1/1543895706266.ts', { channel: 'cam-1', segment: '1543895706266.ts' }],
    ['lc_x/a b.ts', { channel: 'lc_x', segment: 'a b.ts' }],
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
  ])('%s: %s is not', (_, key) => {
    expect(parseIngestSegmentKey(key, scope)).toBeUndefined();
  });

  it('never the ledger, even when every channel is in scope', () => {
    expect(parseIngestSegmentKey('_livecycle/1.ts', { channelPrefixes: [''] })).toBeUndefined();
    expect(parseIngestSegmentKey('ledger/1.ts', { channelPrefixes: [''], ledgerPrefix: 'ledger/' })).toBeUndefined();
    expect(parseIngestSegmentKey('_livecycle/1.ts', { channelPrefixes: [''], ledgerPrefix: 'ledger/' })).toEqual({ channel: '_livecycle', segment: '1.ts' });
  });

  it('no prefixes configured: nothing is in scope', () => {
    expect(parseIngestSegmentKey('cam-1/1.ts', { channelPrefixes: [] })).toBeUndefined();
  });
});

describe('referencedSegments', () => {
  const media = (...uris: string[]) => ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:5', ...uris.flatMap((u) => ['#EXTINF:5.000,', u]), ''].join('\n');

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
    expect(referencedSegments('cam-1/playlist.m3u8', media(uri))).toEqual({ segments: [], playlists: [], ignored: [{ uri, reason }] });
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
    expect(referencedSegments('cam-1/vod-20240501T100000Z.m3u8', parent).segments).toEqual(['cam-1/1.ts', 'cam-1/2.ts']);
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
    ['recreated channel (same name, old fragments): exists wins', { channelState: 'exists', lastModified: NOW - 365 * 24 * H }, 'keep', 'channel-exists'],
    ['referenced by a stored VOD playlist', { referenced: true }, 'keep', 'referenced'],
    ['written 24 h − 1 s ago', { lastModified: NOW - 24 * H + 1000 }, 'keep', 'within-grace'],
    ['written exactly 24 h ago', { lastModified: NOW - 24 * H }, 'delete', 'orphan'],
    ['written 24 h + 1 s ago', { lastModified: NOW - 24 * H - 1000 }, 'delete', 'orphan'],
    ['our clock 5 s ahead, exactly 24 h by it', { lastModified: NOW - 24 * H, skewToleranceMs: 5000 }, 'keep', 'within-grace'],
    ['our clock 5 s ahead, 24 h + 5 s by it', { lastModified: NOW - 24 * H - 5000, skewToleranceMs: 5000 }, 'delete', 'orphan'],
    ['absent, first seen missing just now', { channelState: 'absent', channelGoneSince: NOW }, 'keep', 'channel-recently-gone'],
    ['absent, no record of when', { channelState: 'absent' }, 'keep', 'channel-recently-gone'],
    ['absent for 24 h − 1 s', { channelState: 'absent', channelGoneSince: NOW - 24 * H + 1000 }, 'keep', 'channel-recently-gone'],
    ['absent for exactly 24 h', { channelState: 'absent', channelGoneSince: NOW - 24 * H }, 'delete', 'orphan'],
    ['absent long enough but referenced', { channelState: 'absent', channelGoneSince: NOW - 48 * H, referenced: true }, 'keep', 'referenced'],
    ['custom grace of 1 h', { graceMs: H, lastModified: NOW - H }, 'delete', 'orphan'],
  ])('%s → %s (%s)', (_, overrides, action, reason) => {
    expect(classifyFragment({ ...base, ...overrides })).toEqual({ action, reason });
  });

  it('default grace is 24 h', () => {
    const { skewToleranceMs: _, ...defaults } = base;
    expect(classifyFragment({ ...defaults, lastModified: NOW - 24 * H }).reason).toBe('within-grace');
    expect(classifyFragment({ ...defaults, lastModified: NOW - 24 * H - 5000 }).reason).toBe('orphan');
  });
});
