/**
 * Pushes → broadcasts. OSS reports RTMP push sessions two ways: GetLiveChannelStat shows the
 * current one (ConnectedTime, no end) and GetLiveChannelHistory the 10 most recent finished or
 * running ones. The ledger keeps every push ever seen; these functions fold new observations
 * into it and group pushes into broadcasts (encoder reconnects inside the reconnect window are
 * one broadcast to viewers).
 */
import { compactUtcSeconds, DEFAULT_SKEW_TOLERANCE_MS, minimumElapsedMs, parseCompactUtcSeconds } from './time';
import type { Broadcast, BroadcastState, HistoryGap, LiveRecord, Push, StatObservation } from './types';

/** GetLiveChannelHistory returns at most this many records (§8). */
export const HISTORY_LIMIT = 10;

export const DEFAULT_RECONNECT_WINDOW_MS = 60_000;

/**
 * Two records are the same push when they come from the same `ip:port` and their starts are at
 * most this far apart. Stat's ConnectedTime and History's StartTime are both stamped by OSS for
 * the same connection, so they should agree; the margin absorbs OSS stamping connect vs publish
 * differently. It cannot merge two real pushes: a reconnect opens a new TCP connection from a
 * new source port, so its `remoteAddr` differs. Matching by tolerance rather than by rounding to
 * the second avoids splitting 14.999 s from 15.001 s.
 */
export const PUSH_MATCH_TOLERANCE_MS = 2_000;

/** The push a Live stat shows, or undefined when the channel is not live. */
export function pushFromStat(stat: StatObservation): Push | undefined {
  if (stat.status !== 'Live' || stat.connectedTime === undefined) return undefined;
  return { startTime: stat.connectedTime, remoteAddr: stat.remoteAddr ?? '', source: 'stat' };
}

export function pushFromHistory(record: LiveRecord): Push {
  return { startTime: record.startTime, endTime: record.endTime, remoteAddr: record.remoteAddr, source: 'history' };
}

type PushIdentity = Pick<Push, 'startTime' | 'remoteAddr'>;

/** Whether two records describe the same push (see PUSH_MATCH_TOLERANCE_MS). */
export function samePush(a: PushIdentity, b: PushIdentity, toleranceMs = PUSH_MATCH_TOLERANCE_MS): boolean {
  return a.remoteAddr === b.remoteAddr && Math.abs(a.startTime - b.startTime) <= toleranceMs;
}

function byStart(a: Push, b: Push): number {
  return a.startTime - b.startTime || (a.remoteAddr < b.remoteAddr ? -1 : a.remoteAddr > b.remoteAddr ? 1 : 0);
}

/**
 * Collapses records of the same push into one. Records link when `samePush` holds, and links
 * chain (single linkage), so the result does not depend on input order and merging twice
 * changes nothing. A merged push takes History's start when History reported it (Stat's
 * ConnectedTime otherwise), the latest end any record gives (History read while a push runs
 * may carry a provisional end), and `source: 'history'` if any record came from History.
 * Returned ascending by start.
 */
export function mergePushes(records: readonly Push[], toleranceMs = PUSH_MATCH_TOLERANCE_MS): Push[] {
  const byAddrThenStart = [...records].sort(
    (a, b) => (a.remoteAddr < b.remoteAddr ? -1 : a.remoteAddr > b.remoteAddr ? 1 : 0) || a.startTime - b.startTime,
  );
  const clusters: Push[][] = [];
  let current: Push[] = [];
  for (const record of byAddrThenStart) {
    const previous = current[current.length - 1];
    if (previous && samePush(previous, record, toleranceMs)) {
      current.push(record);
    } else {
      if (current.length > 0) clusters.push(current);
      current = [record];
    }
  }
  if (current.length > 0) clusters.push(current);
  return clusters.map(mergeCluster).sort(byStart);
}

function mergeCluster(cluster: Push[]): Push {
  // Clusters are sorted by start, so the first History record has the earliest History start.
  const first = cluster.find((r) => r.source === 'history') ?? (cluster[0] as Push);
  const ends = cluster.flatMap((r) => (r.endTime === undefined ? [] : [r.endTime]));
  const merged: Push = { startTime: first.startTime, remoteAddr: first.remoteAddr, source: first.source };
  if (ends.length > 0) merged.endTime = Math.max(...ends);
  return merged;
}

/**
 * The History records that tell the ledger something new (a push it lacks, or an end it lacks
 * or has earlier), as pushes to merge in, plus a possible gap.
 *
 * A full History (10 records) whose oldest record the ledger does not know means pushes may
 * have been lost between the latest push known before it and that record: more than 10 pushes
 * happened between two polls. They cannot be recovered (nor told apart from exactly 10 new
 * pushes), so the gap is reported for the caller to log and record. Passing it to
 * `groupBroadcasts` keeps everything it spans inside one broadcast, so that broadcast's VOD
 * window runs from the earliest known start across the gap. That window is still right because
 * PostVodPlaylist selects segments by time, not by push: the lost pushes' segments are in it.
 */
export function newPushesFromHistory(
  known: readonly Push[],
  history: readonly LiveRecord[],
  toleranceMs = PUSH_MATCH_TOLERANCE_MS,
): { newRecords: Push[]; gap: HistoryGap | undefined } {
  const records = [...history].sort((a, b) => a.startTime - b.startTime);
  const isKnown = (record: LiveRecord) =>
    known.some(
      (k) =>
        k.source === 'history' &&
        samePush(k, record, toleranceMs) &&
        k.endTime !== undefined &&
        k.endTime >= record.endTime,
    );
  return {
    newRecords: records.filter((r) => !isKnown(r)).map(pushFromHistory),
    gap: historyGap(known, records, toleranceMs),
  };
}

function historyGap(known: readonly Push[], records: LiveRecord[], toleranceMs: number): HistoryGap | undefined {
  const oldest = records[0];
  if (records.length < HISTORY_LIMIT || !oldest) return undefined;
  if (known.some((k) => samePush(k, oldest, toleranceMs))) return undefined;
  let before: Push | undefined; // the latest known push that started before `oldest`
  for (const k of known) if (k.startTime < oldest.startTime && (!before || k.startTime > before.startTime)) before = k;
  if (!before) return { fromMs: null, toMs: oldest.startTime };
  const fromMs = before.endTime ?? before.startTime;
  // A known push that ran past the oldest record's start leaves no room for lost pushes.
  return fromMs < oldest.startTime ? { fromMs, toMs: oldest.startTime } : undefined;
}

export interface GroupOptions {
  /** Pushes separated by less than this are one broadcast; at least 1 s so ids stay unique. */
  reconnectWindowMs?: number;
  /** History gaps (from `newPushesFromHistory`) to keep inside a broadcast. */
  gaps?: readonly HistoryGap[];
}

type Span = { start: number; reach: number } & ({ push: Push } | { gap: HistoryGap });

/**
 * Groups merged pushes (see `mergePushes`) into broadcasts, ascending. A push joins the
 * broadcast before it when it starts less than `reconnectWindowMs` after that broadcast's
 * latest end; a push starting exactly `reconnectWindowMs` after it starts a new broadcast (the
 * same boundary at which `broadcastState` calls the previous one ended). A push whose end is
 * unknown (seen live, History never confirmed it) ended no later than the next push started,
 * so the next push joins it: when unsure, a broadcast grows rather than losing segments. A gap
 * joins whatever it touches, as if it were a push from `fromMs` to `toMs`.
 *
 * Ids are `compactUtcSeconds(firstStart)`. First starts of two broadcasts are at least the
 * window (≥ 1 s) apart, so ids are unique per channel, and regrouping the same pushes always
 * yields the same ids. An id is final once its first push has `source: 'history'` (History's
 * start may differ slightly from Stat's ConnectedTime).
 */
export function groupBroadcasts(pushes: readonly Push[], options: GroupOptions = {}): Broadcast[] {
  const windowMs = options.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS;
  if (!(windowMs >= 1000)) throw new RangeError(`reconnectWindowMs must be at least 1000, got ${windowMs}`);
  const kind = (span: Span) => ('push' in span ? 0 : 1);
  // Stable sort: pushes keep `byStart` order among equal starts and come before gaps.
  const spans: Span[] = [
    ...[...pushes].sort(byStart).map((push) => ({ start: push.startTime, reach: push.endTime ?? Infinity, push })),
    ...(options.gaps ?? []).map((gap) => ({ start: gap.fromMs ?? gap.toMs, reach: gap.toMs, gap })),
  ].sort((a, b) => a.start - b.start || kind(a) - kind(b));

  const groups: { reach: number; pushes: Push[]; gaps: HistoryGap[] }[] = [];
  for (const span of spans) {
    let group = groups[groups.length - 1];
    if (!group || span.start - group.reach >= windowMs) {
      group = { reach: -Infinity, pushes: [], gaps: [] };
      groups.push(group);
    }
    group.reach = Math.max(group.reach, span.reach);
    if ('push' in span) group.pushes.push(span.push);
    else group.gaps.push(span.gap);
  }
  return groups.flatMap(({ pushes: members, gaps }) => {
    const first = members[0];
    const last = members[members.length - 1];
    if (!first || !last) return []; // a gap touching no push is not a broadcast
    const ends = members.flatMap((p) => (p.endTime === undefined ? [] : [p.endTime]));
    const lastEnd = last.endTime === undefined ? undefined : Math.max(...ends);
    return [{ id: compactUtcSeconds(first.startTime), firstStart: first.startTime, lastEnd, pushes: members, gaps }];
  });
}

export interface StateContext {
  now: number;
  /** The channel's current GetLiveChannelStat. */
  stat: StatObservation;
  reconnectWindowMs?: number;
  /** See `minimumElapsedMs` in time.ts. */
  skewToleranceMs?: number;
}

/**
 * Whether viewers can still expect more of this broadcast. Ended when the channel is not live
 * and at least the reconnect window has surely passed (our clock, minus the skew tolerance)
 * since the last push ended — exactly the window counts as ended — or when the channel is live
 * with a push that began at least the window after this broadcast's end (both OSS times, so no
 * skew applies). Open while live with a push inside the window, and while the last push's end
 * is unknown (History has not confirmed it yet).
 */
export function broadcastState(broadcast: Broadcast, context: StateContext): BroadcastState {
  const windowMs = context.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS;
  const { lastEnd } = broadcast;
  if (context.stat.status === 'Live') {
    const liveSince = context.stat.connectedTime;
    if (lastEnd !== undefined && liveSince !== undefined && liveSince - lastEnd >= windowMs) {
      return { state: 'ended', reason: 'later-push-started', endedAt: lastEnd };
    }
    return { state: 'open', reason: 'live' };
  }
  if (lastEnd === undefined) return { state: 'open', reason: 'end-unknown' };
  const elapsed = minimumElapsedMs(lastEnd, context.now, context.skewToleranceMs ?? DEFAULT_SKEW_TOLERANCE_MS);
  return elapsed >= windowMs
    ? { state: 'ended', reason: 'reconnect-window-elapsed', endedAt: lastEnd }
    : { state: 'open', reason: 'reconnect-window' };
}

/**
 * The broadcasts of a channel about to stop taking PostVodPlaylist (deleted; or disabled, which
 * OSS may refuse it on) that are still owed a VOD: those without a VOD record of their id. The
 * caller passes the broadcasts from the newest one with a VOD record on (older ones were
 * concluded, perhaps grouped differently at the time). A broadcast whose end is unknown ends at
 * `now`: the channel is not live and is going away, so nothing can extend it. Ascending.
 */
export function broadcastsOwedVod(
  broadcasts: readonly Broadcast[],
  withVod: { has(broadcastId: string): boolean },
  now: number,
): (Broadcast & { lastEnd: number })[] {
  return broadcasts.filter((b) => !withVod.has(b.id)).map((b) => ({ ...b, lastEnd: b.lastEnd ?? now }));
}

/**
 * Where to start reading a channel's pushes so that every broadcast still owed a VOD is read: the
 * starts of its VOD records' ids, newest first, to be tried in turn until one names a broadcast
 * grouped from the pushes read from there (when none does: every push). Not simply the newest
 * VOD id: a manual VOD (api) is recorded under its range's start, names no broadcast, and would
 * hide an older broadcast still owed one.
 */
export function pushReadStarts(vodBroadcastIds: Iterable<string>): number[] {
  const starts = [...vodBroadcastIds].flatMap((id) => {
    const start = parseCompactUtcSeconds(id);
    return start === undefined ? [] : [start];
  });
  return starts.sort((a, b) => b - a);
}
