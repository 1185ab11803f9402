/** Which VOD playlists cleanup deletes once they are older than the retention period. */
import { DEFAULT_SKEW_TOLERANCE_MS, minimumElapsedMs } from './time';
import { parseVodPlaylistName } from './vod';

const DAY_MS = 86_400_000;

export interface VodObject {
  /** `<channel>/vod-<broadcastId>[-partNNN].m3u8` */
  key: string;
  /** LastModified (OSS time). */
  createdAt: number;
  /** A hold (legal, editorial) pins it regardless of age. */
  held: boolean;
}

export interface VodRetentionDecision {
  key: string;
  action: 'delete' | 'keep';
  reason: 'not-vod-playlist' | 'held' | 'retention-disabled' | 'within-retention' | 'expired';
}

/**
 * Decides every VOD playlist of one listing. A broadcast's parent and parts live and die
 * together, so a hold on any of them pins all, and they expire only when the newest of them
 * is at least `retentionDays` old (exactly that age expires). `retentionDays` 0 keeps
 * everything. Keys that are not VOD playlist names are kept. Returned with deletions first,
 * oldest first, so a cleanup run that stops at its budget has removed the oldest.
 */
export function vodRetention(input: {
  vods: readonly VodObject[];
  now: number;
  retentionDays: number;
  skewToleranceMs?: number;
}): VodRetentionDecision[] {
  if (!(input.retentionDays >= 0)) throw new RangeError(`retentionDays must be >= 0, got ${input.retentionDays}`);
  const groups = new Map<string, VodObject[]>();
  const decisions: (VodRetentionDecision & { newest: number })[] = [];
  for (const vod of input.vods) {
    const slash = vod.key.lastIndexOf('/');
    const name = parseVodPlaylistName(vod.key.slice(slash + 1));
    if (slash <= 0 || !name) {
      decisions.push({ key: vod.key, action: 'keep', reason: 'not-vod-playlist', newest: vod.createdAt });
      continue;
    }
    const groupKey = `${vod.key.slice(0, slash)}/${name.broadcastId}`;
    groups.set(groupKey, [...(groups.get(groupKey) ?? []), vod]);
  }
  for (const members of groups.values()) {
    const newest = Math.max(...members.map((m) => m.createdAt));
    const age = minimumElapsedMs(newest, input.now, input.skewToleranceMs ?? DEFAULT_SKEW_TOLERANCE_MS);
    const verdict: Pick<VodRetentionDecision, 'action' | 'reason'> = members.some((m) => m.held)
      ? { action: 'keep', reason: 'held' }
      : input.retentionDays === 0
        ? { action: 'keep', reason: 'retention-disabled' }
        : age < input.retentionDays * DAY_MS
          ? { action: 'keep', reason: 'within-retention' }
          : { action: 'delete', reason: 'expired' };
    for (const m of members) decisions.push({ key: m.key, ...verdict, newest });
  }
  return decisions
    .sort(
      (a, b) =>
        (a.action === b.action ? 0 : a.action === 'delete' ? -1 : 1) ||
        a.newest - b.newest ||
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    )
    .map(({ key, action, reason }) => ({ key, action, reason }));
}
