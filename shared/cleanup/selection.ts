/**
 * Pure pieces of the cleanup run that are not fragment or VOD verdicts (those live in
 * shared/lifecycle): which folders are channels in scope, what holds pin, where to resume.
 */
import { CHANNEL_NAME } from '../ledger/keys';
import type { HoldRecord } from '../ledger/records';

/**
 * The channel a top-level folder (`<name>/` from a delimiter listing) stands for, or undefined
 * when it cannot be a channel livecycle manages: a name outside the channel alphabet (so never
 * created through livecycle, and unusable in ledger keys), or the folder holding the ledger.
 */
export function channelOfFolder(folder: string, ledgerPrefix: string): string | undefined {
  if (!folder.endsWith('/')) return undefined;
  const name = folder.slice(0, -1);
  if (!CHANNEL_NAME.test(name) || name === '.' || name === '..') return undefined;
  // The ledger may be nested (`ops/_livecycle/`): its top folder is off limits as a whole.
  if (ledgerPrefix.startsWith(folder)) return undefined;
  return name;
}

/**
 * Whether cleanup may delete in a channel's folder once the channel is gone: the name matches a
 * configured prefix (CLEANUP_CHANNEL_PREFIXES), or livecycle itself created or deleted a channel
 * of that name (ledger channel record or tombstone). A folder that is none of these may be
 * anybody's data that merely looks like ingest output, so it is never touched.
 */
export function channelInScope(
  channel: string,
  input: { channelPrefixes: readonly string[]; knownToLedger: boolean },
): boolean {
  return input.knownToLedger || input.channelPrefixes.some((prefix) => channel.startsWith(prefix));
}

/** What the holds on one channel pin, given the file names of the playlists in its folder. */
export interface HoldScope {
  /** Playlist file names a hold in force names: kept regardless of age, with their fragments. */
  heldPlaylists: Set<string>;
  /**
   * A hold in force names no stored playlist (a channel-wide hold, or a hold on a playlist that
   * is gone): its intent cannot be narrowed, so every fragment of the channel stays.
   */
  channelPinned: boolean;
}

/**
 * Holds are set by the api per VOD (`POST /channels/{name}/vods/{key}/hold`) with the VOD
 * playlist's file name as `holdId`. A hold whose `until` has passed is lapsed and pins nothing.
 */
export function holdScope(
  holds: readonly HoldRecord[],
  playlistFileNames: ReadonlySet<string>,
  now: number,
): HoldScope {
  const heldPlaylists = new Set<string>();
  let channelPinned = false;
  for (const hold of holds) {
    if (hold.until !== undefined && hold.until <= now) continue;
    if (playlistFileNames.has(hold.holdId)) heldPlaylists.add(hold.holdId);
    else channelPinned = true;
  }
  return { heldPlaylists, channelPinned };
}

/**
 * A ListObjects `start-after` that resumes a top-level delimiter listing just after `folder`
 * (`cam-1/` → `cam-10`): every key under `cam-1/` sorts before it (`/` is 0x2F, `0` is 0x30)
 * and every later folder after it. Starting after `cam-1/` itself would list `cam-1/` again.
 */
export function startAfterFolder(folder: string): string {
  return `${folder.slice(0, -1)}0`;
}

/**
 * Hosts under which an absolute URL in a playlist names an object of this bucket
 * (virtual-hosted style), for `referencedSegments`' `ownHosts`. An internal endpoint also has a
 * public twin that playlists handed to viewers would use.
 */
export function bucketHosts(bucket: string, endpoint: string): string[] {
  const host = new URL(/^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`).host;
  const hosts = [`${bucket}.${host}`];
  if (host.includes('-internal.')) hosts.push(`${bucket}.${host.replace('-internal.', '.')}`);
  return hosts;
}
