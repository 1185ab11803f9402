/**
 * VOD plans: which PostVodPlaylist calls turn an ended broadcast into on-demand playlists, and
 * the parent playlist that stitches a split broadcast back together.
 */
import type { types } from 'hls-parser';
import { hlsParser, parsePlaylist } from './playlist';
import { ceilSeconds, floorSeconds, parseCompactUtcSeconds } from './time';
import type { Broadcast, VodPlan, VodRange } from './types';

/**
 * Largest `endTime − startTime` of one PostVodPlaylist call. The reference disagrees on
 * whether exactly one day is allowed (EN doc "less than one day", CN doc and C++ SDK allow
 * 86,400), so every part stays strictly below it.
 */
export const MAX_VOD_SPAN_SECONDS = 86_399;

const PREFIX = 'vod-';
const SUFFIX = '.m3u8';
const PART = '-part';
const PART_DIGITS = 3;

/**
 * The broadcast's window in Unix seconds: [first start − FragDuration, last end + FragDuration],
 * start floored and end ceiled. The padding catches a segment whose start OSS stamped a little
 * before the push start or after the push end; the rounding never narrows the window.
 */
export function vodWindow(broadcast: Pick<Broadcast, 'firstStart' | 'lastEnd'>, fragDurationSeconds: number): VodRange {
  if (broadcast.lastEnd === undefined)
    throw new RangeError('a VOD window needs the broadcast to have ended (lastEnd is unknown)');
  if (!(fragDurationSeconds >= 1))
    throw new RangeError(`fragDurationSeconds must be at least 1, got ${fragDurationSeconds}`);
  const padMs = fragDurationSeconds * 1000;
  return { startTime: floorSeconds(broadcast.firstStart - padMs), endTime: ceilSeconds(broadcast.lastEnd + padMs) };
}

/**
 * Splits a window into PostVodPlaylist-sized ranges that share their boundary second: each
 * next range starts at the second the previous one ends.
 *
 * Why shared: a segment is included when its start lies in [startTime, endTime] (§9), but
 * whether OSS compares the segment's millisecond start against N.000 s or its start second
 * against N is not documented (the emulator compares milliseconds). With ranges meeting at
 * N/N+1, a segment starting at N.5 s would fall between two parts under the millisecond
 * reading — lost. With ranges meeting at N/N, every segment start lies in some part under
 * either reading; the cost is that the one segment starting in that boundary second may be
 * listed by both parts, and `renderParentPlaylist` lists it once. Parts are as even as
 * possible; each spans at least a second (PostVodPlaylist needs endTime > startTime).
 */
export function splitVodWindow(window: VodRange): VodRange[] {
  const span = window.endTime - window.startTime;
  if (!(span > 0))
    throw new RangeError(`VOD window must have endTime > startTime, got ${window.startTime}..${window.endTime}`);
  const count = Math.ceil(span / MAX_VOD_SPAN_SECONDS);
  const base = Math.floor(span / count);
  const longer = span % count; // the first `longer` parts span one second more
  const parts: VodRange[] = [];
  let start = window.startTime;
  for (let i = 0; i < count; i++) {
    const end = start + base + (i < longer ? 1 : 0);
    parts.push({ startTime: start, endTime: end });
    start = end;
  }
  return parts;
}

/**
 * `vod-<broadcastId>.m3u8`, or `vod-<broadcastId>-part001.m3u8` for part 1 of a split. Flat,
 * because PostVodPlaylist refuses a PlaylistName containing `/` and writes it at
 * `<channel>/<PlaylistName>`; parts sort in order (up to 999 parts, i.e. 999 days).
 */
export function vodPlaylistName(broadcastId: string, part?: number): string {
  return part === undefined
    ? `${PREFIX}${broadcastId}${SUFFIX}`
    : `${PREFIX}${broadcastId}${PART}${String(part).padStart(PART_DIGITS, '0')}${SUFFIX}`;
}

/** Inverse of `vodPlaylistName`; undefined for any other name. */
export function parseVodPlaylistName(name: string): { broadcastId: string; part: number | undefined } | undefined {
  if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) return undefined;
  const stem = name.slice(PREFIX.length, -SUFFIX.length);
  const partAt = stem.indexOf(PART);
  const broadcastId = partAt < 0 ? stem : stem.slice(0, partAt);
  if (parseCompactUtcSeconds(broadcastId) === undefined) return undefined;
  if (partAt < 0) return { broadcastId, part: undefined };
  const part = Number(stem.slice(partAt + PART.length));
  return Number.isInteger(part) && part >= 1 && vodPlaylistName(broadcastId, part) === name
    ? { broadcastId, part }
    : undefined;
}

export interface VodPlanInput {
  channel: string;
  broadcast: Pick<Broadcast, 'id' | 'firstStart' | 'lastEnd'>;
  /** The channel's Target/FragDuration (seconds). */
  fragDurationSeconds: number;
}

/** The VOD plan for an ended broadcast; deterministic, so a retried run rewrites the same objects. */
export function planVod({ channel, broadcast, fragDurationSeconds }: VodPlanInput): VodPlan {
  const window = vodWindow(broadcast, fragDurationSeconds);
  const ranges = splitVodWindow(window);
  const single = ranges.length === 1;
  const parts = ranges.map((range, i) => {
    const playlistName = single ? vodPlaylistName(broadcast.id) : vodPlaylistName(broadcast.id, i + 1);
    return { playlistName, key: `${channel}/${playlistName}`, range };
  });
  const plan: VodPlan = { channel, broadcastId: broadcast.id, window, parts };
  if (!single)
    plan.parent = { playlistName: vodPlaylistName(broadcast.id), key: `${channel}/${vodPlaylistName(broadcast.id)}` };
  return plan;
}

/**
 * The parent playlist of a split broadcast, from its parts' texts in order (parts for which
 * PostVodPlaylist found no segment are simply left out). A segment already listed by an earlier
 * part (the shared boundary second, see `splitVodWindow`) is listed once.
 *
 * Format: one VOD media playlist listing every part's segments in sequence, with
 * `#EXT-X-DISCONTINUITY` at each part boundary. A master playlist would be wrong: its variants
 * are alternative renditions of the same content, not consecutive pieces, so players would
 * pick one part and stop. A concatenated media playlist plays the whole broadcast in any HLS
 * player. The parent sits in the same `<channel>/` folder as its parts, so their relative
 * segment URIs stay valid unchanged. The discontinuity mark costs at most a decoder reset at a
 * boundary and is required when a part was left out (timestamps jump there).
 */
export function renderParentPlaylist(parts: readonly { playlistName: string; text: string }[]): string {
  const hls = hlsParser();
  const segments: types.Segment[] = [];
  let targetDuration = 0;
  let version = 3;
  let discontinuitySequence = 0;
  const listed = new Set<string>();
  for (const part of parts) {
    const playlist = parsePlaylist(part.playlistName, part.text);
    if (playlist.isMasterPlaylist) throw new RangeError(`${part.playlistName} is a master playlist, not a VOD part`);
    targetDuration = Math.max(targetDuration, playlist.targetDuration);
    version = Math.max(version, playlist.version ?? 3);
    const fresh = playlist.segments.filter((segment) => !listed.has(segment.uri));
    fresh.forEach((segment, i) => {
      listed.add(segment.uri);
      const discontinuity = (i === 0 && segments.length > 0) || (i > 0 && segment.discontinuity === true);
      if (discontinuity) discontinuitySequence++;
      targetDuration = Math.max(targetDuration, Math.round(segment.duration));
      segments.push(
        new hls.types.Segment({
          uri: segment.uri,
          duration: segment.duration,
          title: segment.title,
          discontinuity,
          mediaSequenceNumber: segments.length,
          discontinuitySequence,
        }),
      );
    });
  }
  if (segments.length === 0) throw new RangeError('a parent playlist needs at least one segment');
  return hls.stringify(
    new hls.types.MediaPlaylist({
      version,
      targetDuration,
      playlistType: 'VOD',
      endlist: true,
      mediaSequenceBase: 0,
      segments,
    }),
  );
}
