/**
 * Orphan cleanup decisions. cleanup-orphans streams object listings page by page and asks these
 * functions about one key or one playlist at a time, so its memory stays flat; nothing here
 * holds a listing.
 */
import { DEFAULT_LEDGER_PREFIX } from '../ledger/keys';
import { parsePlaylist } from './playlist';
import { DEFAULT_SKEW_TOLERANCE_MS, minimumElapsedMs } from './time';

export const DEFAULT_ORPHAN_GRACE_MS = 24 * 3_600_000;

/** Which keys cleanup may ever consider. */
export interface IngestScope {
  /** Channel-name prefixes this deployment manages; `''` means every channel, `[]` none. */
  channelPrefixes: readonly string[];
  /** The ledger's key prefix; nothing under it is ever a candidate. */
  ledgerPrefix?: string;
}

/**
 * The channel and segment name when `key` looks like ingest output of a managed channel —
 * `<channel>/<name>.ts`, directly inside the channel folder (§12.2) — otherwise undefined.
 * Playlists, VOD output, snapshots, deeper keys, the ledger and other channels' or users' files
 * are never candidates.
 */
export function parseIngestSegmentKey(key: string, scope: IngestScope): { channel: string; segment: string } | undefined {
  if (key.startsWith(scope.ledgerPrefix ?? DEFAULT_LEDGER_PREFIX)) return undefined;
  const slash = key.indexOf('/');
  if (slash <= 0) return undefined;
  const channel = key.slice(0, slash);
  const segment = key.slice(slash + 1);
  if (segment.includes('/') || !segment.endsWith('.ts') || segment.length === '.ts'.length) return undefined;
  if (!scope.channelPrefixes.some((prefix) => channel.startsWith(prefix))) return undefined;
  return { channel, segment };
}

export interface PlaylistReferences {
  /** Object keys of media segments the playlist lists. */
  segments: string[];
  /** Object keys of playlists a master playlist lists (variants, renditions); follow them. */
  playlists: string[];
  /** URIs that name no object of ours, with why. */
  ignored: { uri: string; reason: 'external' | 'escapes-folder' | 'invalid' }[];
}

/**
 * The object keys a playlist stored at `playlistKey` refers to. Relative URIs resolve against
 * the playlist's folder (`<channel>/`), `./` and inner `..` are normalised, a URI whose `..`
 * climbs out of that folder is ignored (ingest and PostVodPlaylist never write one, so it can
 * only be a foreign or hostile playlist), `/`-rooted paths are bucket keys, absolute URLs count
 * only when their host is one of `ownHosts` (virtual-hosted bucket hosts), query strings and
 * fragments are dropped and %-escapes decoded. Works for live and VOD playlists, the parent
 * playlist from vod.ts (a media playlist: segments only) and master playlists (playlists).
 * Throws InvalidPlaylistError when the text cannot be parsed.
 */
export function referencedSegments(playlistKey: string, m3u8Text: string, options: { ownHosts?: readonly string[] } = {}): PlaylistReferences {
  const playlist = parsePlaylist(playlistKey, m3u8Text);
  const uris = playlist.isMasterPlaylist
    ? playlist.variants.flatMap((v) => [v.uri, ...[...v.audio, ...v.video, ...v.subtitles, ...v.closedCaptions].flatMap((r) => (r.uri ? [r.uri] : []))])
    : playlist.segments.map((s) => s.uri);
  const folder = playlistKey.slice(0, playlistKey.lastIndexOf('/') + 1);
  const keys = new Set<string>();
  const ignored: PlaylistReferences['ignored'] = [];
  for (const uri of uris) {
    if (!uri) continue;
    const resolved = resolveUri(uri, folder, options.ownHosts ?? []);
    if (typeof resolved === 'string') keys.add(resolved);
    else ignored.push({ uri, reason: resolved.ignored });
  }
  const list = [...keys];
  return playlist.isMasterPlaylist ? { segments: [], playlists: list, ignored } : { segments: list, playlists: [], ignored };
}

function withoutQueryOrFragment(uri: string): string {
  let path = uri;
  for (const mark of ['#', '?']) {
    const at = path.indexOf(mark);
    if (at >= 0) path = path.slice(0, at);
  }
  return path;
}

function resolveUri(uri: string, folder: string, ownHosts: readonly string[]): string | { ignored: PlaylistReferences['ignored'][number]['reason'] } {
  let base = folder;
  let path: string;
  if (URL.canParse(uri)) {
    const url = new URL(uri);
    if (!ownHosts.includes(url.host)) return { ignored: 'external' };
    base = '';
    path = url.pathname.slice(1);
  } else {
    path = withoutQueryOrFragment(uri);
    if (path.startsWith('/')) {
      base = '';
      path = path.slice(1);
    }
  }
  const parts: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '.') continue;
    if (raw === '..') {
      if (parts.pop() === undefined) return { ignored: 'escapes-folder' };
      continue;
    }
    try {
      parts.push(decodeURIComponent(raw));
    } catch {
      return { ignored: 'invalid' };
    }
  }
  return parts.length === 0 || parts[parts.length - 1] === '' ? { ignored: 'invalid' } : base + parts.join('/');
}

export type ChannelState = 'live' | 'exists' | 'tombstoned' | 'absent';

export interface FragmentInput {
  key: string;
  /** LastModified (OSS time). */
  lastModified: number;
  /**
   * The channel named by the key's folder: `live` (Stat Live), `exists` (listed by
   * ListLiveChannel), `tombstoned` (not listed, and the ledger records that livecycle deleted
   * it), `absent` (not listed, no tombstone). Precedence in that order: a listed channel is
   * `exists` even if an old tombstone names it.
   */
  channelState: ChannelState;
  /** For `absent`: when cleanup first saw the channel missing (our clock). */
  channelGoneSince?: number;
  /** Some playlist still stored in the channel's folder lists this key. */
  referenced: boolean;
  /**
   * Something pins every fragment of the channel whatever it references: a hold in force that
   * names no stored playlist (so its scope is the whole channel), or a playlist in the folder that
   * cannot be parsed (so what it references is unknown).
   */
  pinned?: 'held' | 'unreadable-playlist';
  now: number;
  graceMs?: number;
  skewToleranceMs?: number;
  scope: IngestScope;
}

export interface FragmentDecision {
  action: 'delete' | 'keep';
  reason: 'not-ingest-output' | 'channel-live' | 'channel-exists' | 'held' | 'unreadable-playlist' | 'channel-recently-gone' | 'referenced' | 'within-grace' | 'orphan';
}

/**
 * Mark-and-sweep verdict for one listed key; deletes only what is surely an orphan: ingest
 * output (`parseIngestSegmentKey`) of a channel that is gone — tombstoned by us, or missing
 * from ListLiveChannel for at least `graceMs` (it may be mid-recreation, or the listing stale)
 * — that no stored playlist references and that was last written at least `graceMs` ago.
 *
 * A recreated channel (same name) is simply `exists`/`live`, so the fragments of its earlier
 * life are kept while it exists: segment names are opaque (§12.2) and PostVodPlaylist works on
 * time ranges, so nothing tells which life a segment belongs to, or rules out that a VOD of the
 * new life would want it. They become orphans when the channel goes again.
 */
export function classifyFragment(input: FragmentInput): FragmentDecision {
  const graceMs = input.graceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  if (!parseIngestSegmentKey(input.key, input.scope)) return { action: 'keep', reason: 'not-ingest-output' };
  if (input.channelState === 'live') return { action: 'keep', reason: 'channel-live' };
  if (input.channelState === 'exists') return { action: 'keep', reason: 'channel-exists' };
  if (input.pinned) return { action: 'keep', reason: input.pinned };
  // Both times are ours here (first seen missing vs now), so no skew allowance.
  if (input.channelState === 'absent' && (input.channelGoneSince === undefined || input.now - input.channelGoneSince < graceMs)) {
    return { action: 'keep', reason: 'channel-recently-gone' };
  }
  if (input.referenced) return { action: 'keep', reason: 'referenced' };
  if (minimumElapsedMs(input.lastModified, input.now, input.skewToleranceMs ?? DEFAULT_SKEW_TOLERANCE_MS) < graceMs) {
    return { action: 'keep', reason: 'within-grace' };
  }
  return { action: 'delete', reason: 'orphan' };
}
