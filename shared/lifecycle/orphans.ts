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
 * File names OSS ingest gives fragments: decimal digits and `.ts`. The reference's only example
 * is 13 digits (`1543895706266.ts`) and the emulator writes 13-digit counters; real naming is
 * UNCONFIRMED (reference §12.2), so any run of up to 20 digits is accepted. A name a person or
 * another tool would give a file (`2025-q4.ts`, `clip.ts`) never matches, so it is never a
 * candidate. Should OSS ever name fragments otherwise, cleanup keeps them (`not-ingest-output`,
 * counted in the report): a missed deletion costs storage, a wrong one loses data.
 */
const INGEST_FRAGMENT_NAME = /^[0-9]{1,20}\.ts$/;
/** Snapshot JPGs as the emulator writes them into the channel folder; OSS's naming is UNCONFIRMED (§12.2). */
const INGEST_SNAPSHOT_NAME = /^[0-9]{1,20}\.jpg$/;

/**
 * The channel and segment name when `key` looks like ingest output of a managed channel —
 * `<channel>/<digits>.ts`, directly inside the channel folder (§12.2) — otherwise undefined.
 * Playlists, VOD output, snapshots, deeper keys, the ledger, other channels' or users' files and
 * `.ts` files not named as ingest names them are never candidates.
 */
export function parseIngestSegmentKey(
  key: string,
  scope: IngestScope,
): { channel: string; segment: string } | undefined {
  if (key.startsWith(scope.ledgerPrefix ?? DEFAULT_LEDGER_PREFIX)) return undefined;
  const slash = key.indexOf('/');
  if (slash <= 0) return undefined;
  const channel = key.slice(0, slash);
  const segment = key.slice(slash + 1);
  if (!INGEST_FRAGMENT_NAME.test(segment)) return undefined;
  if (!scope.channelPrefixes.some((prefix) => channel.startsWith(prefix))) return undefined;
  return { channel, segment };
}

/**
 * One period in which a channel of this name existed and could have written fragments, on our
 * clock. `from` undefined: the start is unknown (a channel created outside livecycle — deleted
 * through the api with generation 0, or in scope by CLEANUP_CHANNEL_PREFIXES).
 */
export interface ChannelLife {
  from?: number;
  to: number;
}

/** What the ledger knows about a gone channel's lives (input of `channelLives`). */
export interface ChannelHistory {
  /** Creation times of its recorded generations (ChannelRecord.generation). */
  generations: readonly number[];
  /** Its tombstones, cleaned ones included; generation 0 = created outside livecycle. */
  tombstones: readonly { generation: number; deletedAt: number }[];
  /** When cleanup first found it missing from ListLiveChannel (no tombstone), if it did. */
  missingSince?: number;
  /**
   * The folder is in scope by CLEANUP_CHANNEL_PREFIXES: the operator vouches for whatever ingest wrote there before
   * livecycle knew the channel.
   */
  prefixScoped: boolean;
}

/**
 * The periods in which a gone channel could have written ingest output. Each recorded generation
 * lives from its creation until its tombstone, else until the next generation's creation (deleted
 * outside livecycle, then recreated), else until it was found missing. A tombstone without a
 * generation record stands for a channel whose creation livecycle did not see. A prefix-scoped
 * channel also gets an open-start life up to when it was last seen gone. A channel without any of
 * these has no life: nothing in its folder is a candidate.
 */
export function channelLives(history: ChannelHistory): ChannelLife[] {
  const generations = [...new Set(history.generations)].sort((a, b) => a - b);
  const deletedAt = new Map(history.tombstones.map((t) => [t.generation, t.deletedAt]));
  const lives: ChannelLife[] = [];
  generations.forEach((generation, i) => {
    const to = deletedAt.get(generation) ?? generations[i + 1] ?? history.missingSince;
    if (to !== undefined) lives.push({ from: generation, to });
  });
  for (const t of history.tombstones) {
    if (!generations.includes(t.generation))
      lives.push(t.generation === 0 ? { to: t.deletedAt } : { from: t.generation, to: t.deletedAt });
  }
  if (history.prefixScoped) {
    const ends = [
      ...history.tombstones.map((t) => t.deletedAt),
      ...(history.missingSince === undefined ? [] : [history.missingSince]),
    ];
    if (ends.length > 0) lives.push({ to: Math.max(...ends) });
  }
  return lives;
}

/**
 * Whether an object last written at `lastModified` (OSS's clock) falls inside one of the lives
 * (ours), widened by `skewToleranceMs` on both sides for the two clocks. Ingest output is written
 * while its channel exists: a key written before the channel was created (data already in a folder
 * livecycle adopted) or after it was gone (someone else's data, put there later) is not.
 */
export function writtenDuringLife(
  lastModified: number,
  lives: readonly ChannelLife[],
  skewToleranceMs: number = DEFAULT_SKEW_TOLERANCE_MS,
): boolean {
  return lives.some(
    (life) =>
      (life.from === undefined || lastModified >= life.from - skewToleranceMs) &&
      lastModified <= life.to + skewToleranceMs,
  );
}

/**
 * The objects of a channel's folder (`<channel>/…`, one listing page) that livecycle cannot
 * account for as its own channel's output: anything but a playlist (`.m3u8`) or a fragment or
 * snapshot named as ingest names them (`<digits>.ts`, `<digits>.jpg`) directly in the folder, or
 * anything written outside every recorded life of the name (`channelLives`). Creating a channel
 * over a folder that holds any of these takes the caller's explicit consent (api
 * `adoptExistingFolder`); a folder holding only what an earlier, deleted channel of the name wrote
 * is the name's own.
 */
export function unaccountedObjects<T extends { key: string; lastModified: number }>(
  channel: string,
  objects: readonly T[],
  lives: readonly ChannelLife[],
  skewToleranceMs: number = DEFAULT_SKEW_TOLERANCE_MS,
): T[] {
  const folder = `${channel}/`;
  return objects.filter((o) => {
    const name = o.key.startsWith(folder) ? o.key.slice(folder.length) : '/';
    const ours =
      !name.includes('/') &&
      (name.endsWith('.m3u8') || INGEST_FRAGMENT_NAME.test(name) || INGEST_SNAPSHOT_NAME.test(name));
    return !ours || !writtenDuringLife(o.lastModified, lives, skewToleranceMs);
  });
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
export function referencedSegments(
  playlistKey: string,
  m3u8Text: string,
  options: { ownHosts?: readonly string[] } = {},
): PlaylistReferences {
  const playlist = parsePlaylist(playlistKey, m3u8Text);
  const uris = playlist.isMasterPlaylist
    ? playlist.variants.flatMap((v) => [
        v.uri,
        ...[...v.audio, ...v.video, ...v.subtitles, ...v.closedCaptions].flatMap((r) => (r.uri ? [r.uri] : [])),
      ])
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
  return playlist.isMasterPlaylist
    ? { segments: [], playlists: list, ignored }
    : { segments: list, playlists: [], ignored };
}

function withoutQueryOrFragment(uri: string): string {
  let path = uri;
  for (const mark of ['#', '?']) {
    const at = path.indexOf(mark);
    if (at >= 0) path = path.slice(0, at);
  }
  return path;
}

function resolveUri(
  uri: string,
  folder: string,
  ownHosts: readonly string[],
): string | { ignored: PlaylistReferences['ignored'][number]['reason'] } {
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
  /**
   * For gone channels: when a channel of this name existed (`channelLives`). A key written
   * outside all of them is not this channel's ingest output. Ignored for `live` and `exists`.
   */
  lives: readonly ChannelLife[];
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
  reason:
    | 'not-ingest-output'
    | 'outside-channel-life'
    | 'channel-live'
    | 'channel-exists'
    | 'held'
    | 'unreadable-playlist'
    | 'channel-recently-gone'
    | 'referenced'
    | 'within-grace'
    | 'orphan';
}

/**
 * Mark-and-sweep verdict for one listed key; deletes only what is surely an orphan: ingest
 * output (`parseIngestSegmentKey`, written during one of the channel's `lives`) of a channel that is gone — tombstoned
 * by us, or missing
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
  if (
    input.channelState === 'absent' &&
    (input.channelGoneSince === undefined || input.now - input.channelGoneSince < graceMs)
  ) {
    return { action: 'keep', reason: 'channel-recently-gone' };
  }
  const skewToleranceMs = input.skewToleranceMs ?? DEFAULT_SKEW_TOLERANCE_MS;
  if (!writtenDuringLife(input.lastModified, input.lives, skewToleranceMs))
    return { action: 'keep', reason: 'outside-channel-life' };
  if (input.referenced) return { action: 'keep', reason: 'referenced' };
  if (minimumElapsedMs(input.lastModified, input.now, skewToleranceMs) < graceMs) {
    return { action: 'keep', reason: 'within-grace' };
  }
  return { action: 'delete', reason: 'orphan' };
}
