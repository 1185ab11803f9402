/**
 * The per-run cleanup report: what was (or, in a dry run, would be) deleted, what was kept and
 * why, per bucket and per channel. Counts are exact; key lists are capped so the report stays a
 * small object however large the bucket. The shape is documented in docs/cleanup.md (the api's
 * GET /cleanup/report returns it as stored).
 */
import type * as v from 'valibot';
import type { CLEANUP_RUN_REPORT } from './report-schema';

/** Keys listed in a report (candidates in a dry run, deletions otherwise); the count is exact. */
export const REPORT_KEY_CAP = 200;
/** Channels detailed in a report; the rest are only in the totals. */
export const REPORT_CHANNEL_CAP = 100;
/** Delete errors listed; also folder errors listed. */
export const REPORT_ERROR_CAP = 50;

export type StopReason = NonNullable<CleanupRunReport['stoppedBy']>;

/** Where a run stopped: the folder it was in and the last key it finished (none: the folder's start). */
export type CleanupCursor = NonNullable<CleanupRunReport['cursor']>;

export type ChannelTally = CleanupRunReport['channels'][number];
export type Tally = Omit<ChannelTally, 'channel' | 'state' | 'unreadablePlaylists'>;

/** A report as cleanup writes it (docs/cleanup.md, "Report"); the ledger stores it as JSON. */
export type CleanupRunReport = v.InferOutput<typeof CLEANUP_RUN_REPORT>;

function emptyTally(): Tally {
  return { candidates: 0, deleted: 0, bytes: 0, expiredPlaylists: 0, kept: {} };
}

export class ReportBuilder {
  private readonly totals = emptyTally();
  private readonly channels: ChannelTally[] = [];
  private channelsOmitted = 0;
  private readonly keys: string[] = [];
  private keyCount = 0;
  private readonly errors: { key: string; code: string }[] = [];
  private errorCount = 0;
  private foldersOutOfScope = 0;
  private readonly outOfScopeListed: string[] = [];
  private readonly folderErrors: { folder: string; code: string }[] = [];
  private folderErrorCount = 0;
  private stoppedBy: StopReason | undefined;
  private cursor: CleanupCursor | undefined;

  constructor(
    private readonly head: {
      runId: string;
      bucket: string;
      startedAt: number;
      dryRun: boolean;
      resumedFrom?: CleanupCursor;
      settings: CleanupRunReport['settings'];
    },
  ) {}

  /** Starts a channel's tally; returned so the sweep can update it in place. */
  channel(channel: string, state: string): ChannelTally {
    const tally: ChannelTally = { channel, state, ...emptyTally(), unreadablePlaylists: [] };
    if (this.channels.length < REPORT_CHANNEL_CAP) this.channels.push(tally);
    else this.channelsOmitted++;
    return tally;
  }

  outOfScope(folder: string): void {
    this.foldersOutOfScope++;
    if (this.outOfScopeListed.length < REPORT_ERROR_CAP) this.outOfScopeListed.push(folder);
  }

  kept(tally: ChannelTally, reason: string): void {
    tally.kept[reason] = (tally.kept[reason] ?? 0) + 1;
    this.totals.kept[reason] = (this.totals.kept[reason] ?? 0) + 1;
  }

  candidate(tally: ChannelTally, key: string, size: number, expiredPlaylist: boolean): void {
    for (const t of [tally, this.totals]) {
      t.candidates++;
      if (expiredPlaylist) t.expiredPlaylists++;
      if (this.head.dryRun) t.bytes += size;
    }
    // A dry run lists what it would delete; a real run lists what it did (see deleted()).
    if (this.head.dryRun) this.listKey(key);
  }

  deleted(tally: ChannelTally, key: string, size: number): void {
    for (const t of [tally, this.totals]) {
      t.deleted++;
      t.bytes += size;
    }
    this.listKey(key);
  }

  error(key: string, code: string): void {
    this.errorCount++;
    if (this.errors.length < REPORT_ERROR_CAP) this.errors.push({ key, code });
  }

  /** A folder left unfinished by a transient failure (revisited on a later pass). */
  folderError(folder: string, code: string): void {
    this.folderErrorCount++;
    if (this.folderErrors.length < REPORT_ERROR_CAP) this.folderErrors.push({ folder, code });
  }

  stop(reason: StopReason, cursor: CleanupCursor): void {
    this.stoppedBy = reason;
    this.cursor = cursor;
  }

  get stopped(): StopReason | undefined {
    return this.stoppedBy;
  }

  get summary(): Readonly<Tally> {
    return this.totals;
  }

  build(finishedAt: number): CleanupRunReport {
    const partial = this.stoppedBy !== undefined;
    const report: CleanupRunReport = {
      runId: this.head.runId,
      startedAt: this.head.startedAt,
      finishedAt,
      dryRun: this.head.dryRun,
      bucket: this.head.bucket,
      status: partial ? 'partial' : 'complete',
      settings: this.head.settings,
      totals: {
        ...this.totals,
        kept: { ...this.totals.kept },
        deleteErrors: this.errorCount,
        foldersOutOfScope: this.foldersOutOfScope,
        folderErrors: this.folderErrorCount,
      },
      keys: { listed: [...this.keys], count: this.keyCount, truncated: this.keyCount > this.keys.length },
      channels: this.channels.map((c) => ({
        ...c,
        kept: { ...c.kept },
        unreadablePlaylists: [...c.unreadablePlaylists],
      })),
      channelsOmitted: this.channelsOmitted,
      errors: [...this.errors],
      folderErrors: [...this.folderErrors],
      foldersOutOfScope: [...this.outOfScopeListed],
    };
    if (this.head.resumedFrom) report.resumedFrom = cursorJson(this.head.resumedFrom);
    if (this.stoppedBy && this.cursor) {
      report.stoppedBy = this.stoppedBy;
      report.cursor = cursorJson(this.cursor);
    }
    return report;
  }

  private listKey(key: string): void {
    this.keyCount++;
    if (this.keys.length < REPORT_KEY_CAP) this.keys.push(key);
  }
}

/** The cursor without an undefined `startAfter` key, as stored in the report (JSON). */
function cursorJson(cursor: CleanupCursor): CleanupCursor {
  return cursor.startAfter === undefined
    ? { folder: cursor.folder }
    : { folder: cursor.folder, startAfter: cursor.startAfter };
}
