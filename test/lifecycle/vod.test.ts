import { describe, expect, it } from 'vitest';
import { parse } from 'hls-parser';
import {
  MAX_VOD_SPAN_SECONDS,
  parseVodPlaylistName,
  planVod,
  renderParentPlaylist,
  splitVodWindow,
  vodPlaylistName,
  vodWindow,
} from '../../shared/lifecycle/vod';
import { InvalidPlaylistError } from '../../shared/lifecycle/playlist';
import type { MediaPlaylist } from 'hls-parser/types';

const T0 = Date.parse('2024-05-01T10:00:00.000Z');
const T0S = T0 / 1000;

describe('vodWindow', () => {
  it.each([
    ['whole seconds: padded by FragDuration each side', T0, T0 + 60_000, 5, T0S - 5, T0S + 65],
    ['fractions widen outward', T0 + 400, T0 + 60_400, 5, T0S - 5, T0S + 66],
    ['FragDuration 2', T0 + 999, T0 + 1_001, 2, T0S - 2, T0S + 4],
  ])('%s', (_, firstStart, lastEnd, frag, startTime, endTime) => {
    expect(vodWindow({ firstStart, lastEnd }, frag)).toEqual({ startTime, endTime });
  });

  it('needs an ended broadcast and a FragDuration of at least 1 s', () => {
    expect(() => vodWindow({ firstStart: T0, lastEnd: undefined }, 5)).toThrow(RangeError);
    expect(() => vodWindow({ firstStart: T0, lastEnd: T0 + 1 }, 0)).toThrow(RangeError);
  });
});

describe('splitVodWindow', () => {
  const span = (seconds: number) => ({ startTime: 1000, endTime: 1000 + seconds });

  it.each([
    ['2 s', span(2), [[1000, 1002]]],
    ['86,399 s fits one call', span(86_399), [[1000, 87_399]]],
    [
      'exactly 86,400 s is split (EN doc: less than one day)',
      span(86_400),
      [
        [1000, 44_200],
        [44_200, 87_400],
      ],
    ],
    [
      '24 h + 1 s',
      span(86_401),
      [
        [1000, 44_201],
        [44_201, 87_401],
      ],
    ],
    [
      'three days',
      span(3 * 86_400),
      [
        [1000, 65_800],
        [65_800, 130_600],
        [130_600, 195_400],
        [195_400, 260_200],
      ],
    ],
  ])('%s', (_, window, expected) => {
    expect(splitVodWindow(window).map((r) => [r.startTime, r.endTime])).toEqual(expected);
  });

  it.each([86_400, 86_401, 172_798, 172_799, 172_800, 1_000_003])(
    'parts of a %d s window meet at shared boundary seconds, each within the limit',
    (seconds) => {
      const parts = splitVodWindow(span(seconds));
      expect(parts[0]?.startTime).toBe(1000);
      expect(parts[parts.length - 1]?.endTime).toBe(1000 + seconds);
      parts.forEach((part, i) => {
        expect(part.endTime - part.startTime).toBeLessThanOrEqual(MAX_VOD_SPAN_SECONDS);
        expect(part.endTime).toBeGreaterThan(part.startTime);
        if (i > 0) expect(part.startTime).toBe(parts[i - 1]?.endTime);
      });
    },
  );

  it('refuses an empty window', () => {
    expect(() => splitVodWindow({ startTime: 5, endTime: 5 })).toThrow(RangeError);
  });
});

describe('VOD playlist names', () => {
  it.each([
    ['20240501T100000Z', undefined, 'vod-20240501T100000Z.m3u8'],
    ['20240501T100000Z', 1, 'vod-20240501T100000Z-part001.m3u8'],
    ['20240501T100000Z', 12, 'vod-20240501T100000Z-part012.m3u8'],
  ])('%s part %s → %s and back', (broadcastId, part, name) => {
    expect(vodPlaylistName(broadcastId, part)).toBe(name);
    expect(parseVodPlaylistName(name)).toEqual({ broadcastId, part });
  });

  it.each([
    'playlist.m3u8',
    'vod-20240501T100000Z.ts',
    'vod-2024-05-01.m3u8',
    'vod-20240501T100000Z-part1.m3u8',
    'vod-20240501T100000Z-part000.m3u8',
    'vod-20240501T100000Z-partabc.m3u8',
    'vod-20240501T100000Z-part001-part002.m3u8',
    'x-vod-20240501T100000Z.m3u8',
  ])('%s is not a VOD playlist name', (name) => {
    expect(parseVodPlaylistName(name)).toBeUndefined();
  });
});

describe('planVod', () => {
  it('a short broadcast is one part named like the parent would be', () => {
    const plan = planVod({
      channel: 'cam-1',
      broadcast: { id: '20240501T100000Z', firstStart: T0, lastEnd: T0 + 3_600_000 },
      fragDurationSeconds: 5,
    });
    expect(plan).toEqual({
      channel: 'cam-1',
      broadcastId: '20240501T100000Z',
      window: { startTime: T0S - 5, endTime: T0S + 3605 },
      parts: [
        {
          playlistName: 'vod-20240501T100000Z.m3u8',
          key: 'cam-1/vod-20240501T100000Z.m3u8',
          range: { startTime: T0S - 5, endTime: T0S + 3605 },
        },
      ],
    });
  });

  it('a broadcast over a day is split, with a parent under the single-part name', () => {
    const plan = planVod({
      channel: 'cam-1',
      broadcast: { id: '20240501T100000Z', firstStart: T0, lastEnd: T0 + 86_400_000 },
      fragDurationSeconds: 5,
    });
    expect(plan.parts.map((p) => p.playlistName)).toEqual([
      'vod-20240501T100000Z-part001.m3u8',
      'vod-20240501T100000Z-part002.m3u8',
    ]);
    expect(plan.parts.map((p) => p.key)).toEqual([
      'cam-1/vod-20240501T100000Z-part001.m3u8',
      'cam-1/vod-20240501T100000Z-part002.m3u8',
    ]);
    expect(plan.parent).toEqual({ playlistName: 'vod-20240501T100000Z.m3u8', key: 'cam-1/vod-20240501T100000Z.m3u8' });
    expect(plan.parts[0]?.range.startTime).toBe(plan.window.startTime);
    expect(plan.parts[1]?.range.endTime).toBe(plan.window.endTime);
  });

  it('the padding alone can push a just-under-a-day broadcast over the limit', () => {
    const broadcast = { id: '20240501T100000Z', firstStart: T0, lastEnd: T0 + 86_390_000 };
    expect(planVod({ channel: 'c', broadcast, fragDurationSeconds: 4 }).parts).toHaveLength(1); // span 86,398
    expect(planVod({ channel: 'c', broadcast, fragDurationSeconds: 5 }).parts).toHaveLength(2); // span 86,400
  });
});

describe('renderParentPlaylist', () => {
  const part = (name: string, segments: [string, number][], target = 6) => ({
    playlistName: name,
    text: [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-MEDIA-SEQUENCE:0',
      `#EXT-X-TARGETDURATION:${target}`,
      ...segments.flatMap(([uri, d]) => [`#EXTINF:${d.toFixed(3)},`, uri]),
      '#EXT-X-ENDLIST',
      '',
    ].join('\n'),
  });

  it('concatenates the parts into one VOD media playlist with a discontinuity at each boundary', () => {
    const text = renderParentPlaylist([
      part('vod-x-part001.m3u8', [
        ['100.ts', 5],
        ['101.ts', 5.04],
      ]),
      part('vod-x-part002.m3u8', [['102.ts', 13.32]], 13),
    ]);
    const playlist = parse(text) as MediaPlaylist;
    expect(playlist.isMasterPlaylist).toBe(false);
    expect(playlist.endlist).toBe(true);
    expect(playlist.playlistType).toBe('VOD');
    expect(playlist.targetDuration).toBe(13);
    expect(playlist.segments.map((s) => [s.uri, s.duration, s.discontinuity ?? false])).toEqual([
      ['100.ts', 5, false],
      ['101.ts', 5.04, false],
      ['102.ts', 13.32, true],
    ]);
  });

  it('a segment both parts list (it starts in their shared boundary second) is listed once', () => {
    const text = renderParentPlaylist([
      part('p1', [
        ['100.ts', 5],
        ['101.ts', 5],
      ]),
      part('p2', [
        ['101.ts', 5],
        ['102.ts', 5],
      ]),
    ]);
    const playlist = parse(text) as MediaPlaylist;
    expect(playlist.segments.map((s) => [s.uri, s.discontinuity ?? false])).toEqual([
      ['100.ts', false],
      ['101.ts', false],
      ['102.ts', true],
    ]);
  });

  it('a part whose segments exceed its TARGETDURATION still yields a valid target', () => {
    const playlist = parse(renderParentPlaylist([part('p1', [['1.ts', 9.6]], 6)])) as MediaPlaylist;
    expect(playlist.targetDuration).toBe(10);
  });

  it('skips empty parts and refuses when nothing is left', () => {
    expect(
      (parse(renderParentPlaylist([part('p1', []), part('p2', [['2.ts', 5]])])) as MediaPlaylist).segments[0]
        ?.discontinuity,
    ).toBeFalsy();
    expect(() => renderParentPlaylist([])).toThrow(RangeError);
  });

  it('refuses a master playlist or unreadable text as a part', () => {
    expect(() =>
      renderParentPlaylist([{ playlistName: 'm', text: '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n' }]),
    ).toThrow(RangeError);
    expect(() => renderParentPlaylist([{ playlistName: 'junk', text: 'not a playlist' }])).toThrow(
      InvalidPlaylistError,
    );
  });
});
