/**
 * Data the lifecycle decisions work on. Times are epoch milliseconds unless a name says
 * seconds; OSS times (push starts/ends, LastModified) come from OSS's clock, `now` from ours.
 */

/** GetLiveChannelStat as the OSS client returns it (§7). */
export interface StatObservation {
  status: 'Idle' | 'Live' | 'Disabled';
  /** Start of the current push; present only when Live. */
  connectedTime?: number;
  /** `ip:port` of the publisher; present only when Live. */
  remoteAddr?: string;
}

/** One GetLiveChannelHistory record (§8). */
export interface LiveRecord {
  startTime: number;
  endTime: number;
  remoteAddr: string;
}

/**
 * One RTMP push session as the ledger keeps it. `source` says where its start came from:
 * `history` once GetLiveChannelHistory has reported it (OSS's durable word, preferred), `stat`
 * while it has only been seen live via GetLiveChannelStat's ConnectedTime.
 */
export interface Push {
  startTime: number;
  /** Unknown while the push is live, or until History reports it. */
  endTime?: number;
  remoteAddr: string;
  source: 'stat' | 'history';
}

/**
 * Pushes may be missing between `fromMs` and `toMs`: History (at most the 10 most recent pushes)
 * returned nothing we already knew, so more pushes than it holds may have happened since the
 * last poll. `fromMs` is the end (or, if unknown, the start) of the latest push known before;
 * null when none was known, so the gap has no lower bound.
 */
export interface HistoryGap {
  fromMs: number | null;
  toMs: number;
}

/** Pushes separated by less than the reconnect window: one broadcast to viewers. */
export interface Broadcast {
  /** `compactUtcSeconds(firstStart)`, e.g. `20160825T062515Z`; unique per channel (see groupBroadcasts). */
  id: string;
  /** Start of the first push. */
  firstStart: number;
  /** Latest end of any push; undefined while the last push's end is unknown. */
  lastEnd: number | undefined;
  /** Ascending by start; at least one. */
  pushes: Push[];
  /** History gaps that fall inside this broadcast (pushes may be missing from `pushes`). */
  gaps: HistoryGap[];
}

export type BroadcastState =
  | { state: 'open'; reason: 'live' | 'end-unknown' | 'reconnect-window' }
  | { state: 'ended'; reason: 'reconnect-window-elapsed' | 'later-push-started'; endedAt: number };

/** A PostVodPlaylist range: Unix SECONDS, inclusive at both ends (§9). */
export interface VodRange {
  startTime: number;
  endTime: number;
}

/** One PostVodPlaylist call. */
export interface VodPart {
  /** Flat name (no `/`), as PostVodPlaylist takes it. */
  playlistName: string;
  /** Where OSS writes it: `<channel>/<playlistName>`. */
  key: string;
  range: VodRange;
}

/** What generate-vod does for one ended broadcast. */
export interface VodPlan {
  channel: string;
  broadcastId: string;
  /** The whole padded window, before any split. */
  window: VodRange;
  /** In time order; one part unless the window exceeds PostVodPlaylist's one-day limit. */
  parts: VodPart[];
  /**
   * Only when split: the playlist viewers open, written with PutObject from the parts' texts
   * (`renderParentPlaylist`). It takes the single-part playlist's name, so a broadcast's VOD URL
   * does not depend on whether it was split.
   */
  parent?: { playlistName: string; key: string };
}
