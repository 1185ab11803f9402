/**
 * Mark-and-sweep over one bucket, channel folder by channel folder (docs/cleanup.md). Listings
 * are streamed page by page; what is held in memory is bounded by the number of channels and by
 * one folder's playlists and the keys they reference, never by the number of objects.
 */
import { currentClock } from '../clock';
import type { Ledger } from '../ledger/ledger';
import type { HoldRecord } from '../ledger/records';
import {
  FolderStorageCounter,
  channelLives,
  classifyFragment,
  withoutDeleted,
  referencedSegments,
  vodRetention,
  InvalidPlaylistError,
  type ChannelLife,
  type ChannelState,
  type StorageFigures,
} from '../lifecycle';
import type { Logger } from '../log';
import {
  OssError,
  OssNetworkError,
  OssTimeoutError,
  isNoSuchLiveChannel,
  isTransientFailure,
  type ListObjectsResult,
  type OssBucket,
} from '../oss';
import { ReportBuilder, type ChannelTally, type CleanupCursor, type CleanupRunReport, type StopReason } from './report';
import { bucketHosts, channelInScope, channelOfFolder, holdScope, startAfterFolder } from './selection';

export interface SweepSettings {
  dryRun: boolean;
  graceMs: number;
  /** 0 keeps VOD playlists forever. */
  retentionDays: number;
  maxObjects: number;
  maxBytes: number;
  /** Channel-name prefixes whose folders are in scope without a ledger record (CLEANUP_CHANNEL_PREFIXES). */
  channelPrefixes: readonly string[];
  /** The OSS endpoint, to recognise absolute URLs of this bucket in playlists. */
  endpoint: string;
}

export interface SweepInput {
  bucket: OssBucket;
  ledger: Ledger;
  settings: SweepSettings;
  runId: string;
  /** Clock reading by which the sweep stops (and saves its cursor). */
  stopAt: number;
  logger: Logger;
  /** Keys per ListObjects page and per delete batch (≤ 1000, DeleteMultipleObjects' limit). */
  pageSize?: number;
}

/** Where dry and real runs keep their places: a dry run must not move a real run's cursor. */
export function cursorName(dryRun: boolean): string {
  return dryRun ? 'orphans-dry-run' : 'orphans';
}

const PAGE_SIZE = 1000;
/** Folders passed without a cursor write after which the folder reached is saved as the cursor. */
const FOLDERS_PER_PASSING_CURSOR = 100;

interface Playlist {
  key: string;
  lastModified: number;
  size: number;
}

interface Candidate {
  key: string;
  size: number;
}

/** Why a folder's sweep ended early. */
type FolderEnd = { stop: StopReason; cursor: CleanupCursor } | undefined;

/**
 * A folder's first reads, which do not depend on each other and run concurrently: its channel's
 * state, the holds at the start and the first page of its listing. The next folder's opening is
 * started while the current folder is swept, so its round trips overlap that folder's deletes.
 */
type Opening =
  | { inScope: false }
  | {
      inScope: true;
      channel: string;
      state: ChannelState;
      goneSince?: number;
      /** For a gone channel: when it existed; only keys written then can be its ingest output. */
      lives: ChannelLife[];
      holdsAtStart: HoldRecord[];
      firstPage: Promise<ListObjectsResult | 'deadline'>;
    };

/**
 * Marks a promise handled (its rejection still reaches whoever awaits it): for read-ahead work that may be abandoned.
 */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** The code a folder error is reported with. */
function errorCode(err: unknown): string {
  if (err instanceof OssError) return err.code;
  if (err instanceof OssNetworkError) return `${err.name}:${err.causeCode}`;
  if (err instanceof OssTimeoutError) return `${err.name}:${err.phase}`;
  return err instanceof Error ? err.name : 'Error';
}

function isNoSuchKey(err: unknown): boolean {
  return err instanceof OssError && err.status === 404 && err.code === 'NoSuchKey';
}

export function parseCursor(text: string | undefined): CleanupCursor | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<CleanupCursor>;
    if (
      typeof value.folder === 'string' &&
      value.folder.endsWith('/') &&
      (value.startAfter === undefined || typeof value.startAfter === 'string')
    ) {
      return value.startAfter === undefined
        ? { folder: value.folder }
        : { folder: value.folder, startAfter: value.startAfter };
    }
  } catch {
    // fall through: an unreadable cursor only costs a full pass
  }
  return undefined;
}

/** Holds in force, as a comparable fingerprint: a change mid-run means someone just placed one. */
function holdFingerprint(holds: readonly HoldRecord[], now: number): string {
  return holds
    .filter((h) => h.until === undefined || h.until > now)
    .map((h) => h.holdId)
    .sort()
    .join('\n');
}

export class BucketSweep {
  private readonly clock = currentClock();
  private readonly pageSize: number;
  private readonly ownHosts: string[];
  private readonly log: Logger;
  private readonly report: ReportBuilder;
  private readonly resumedFrom: CleanupCursor | undefined;

  private constructor(
    private readonly input: SweepInput,
    resumedFrom: CleanupCursor | undefined,
    startedAt: number,
    /** Channels ListLiveChannel returned at the start (bounded by the bucket's channel count). */
    private readonly existing: ReadonlySet<string>,
    /** Pending tombstones: channel → deleted generations not yet recorded as cleaned. */
    private readonly tombstones: ReadonlyMap<string, number[]>,
  ) {
    this.pageSize = Math.min(input.pageSize ?? PAGE_SIZE, PAGE_SIZE);
    this.ownHosts = bucketHosts(input.bucket.name, input.settings.endpoint);
    this.log = input.logger.child({ component: 'cleanup', bucket: input.bucket.name, runId: input.runId });
    this.resumedFrom = resumedFrom;
    const s = input.settings;
    this.report = new ReportBuilder({
      runId: input.runId,
      bucket: input.bucket.name,
      startedAt,
      dryRun: s.dryRun,
      resumedFrom,
      settings: {
        graceSeconds: s.graceMs / 1000,
        retentionDays: s.retentionDays,
        maxObjects: s.maxObjects,
        maxBytes: s.maxBytes,
        channelPrefixes: [...s.channelPrefixes],
      },
    });
  }

  /** Reads the cursor, the channel list and pending tombstones; the caller holds the lease. */
  static async prepare(input: SweepInput): Promise<BucketSweep> {
    const startedAt = currentClock().now();
    const resumedFrom = parseCursor(await input.ledger.getCleanupCursor(cursorName(input.settings.dryRun)));
    const existing = new Set<string>();
    for await (const channel of input.bucket.iterateLiveChannels({ pageSize: 1000 })) existing.add(channel.name);
    const tombstones = new Map<string, number[]>();
    for await (const t of input.ledger.listTombstones({ pendingOnly: true }))
      tombstones.set(t.channel, [...(tombstones.get(t.channel) ?? []), t.generation]);
    return new BucketSweep(input, resumedFrom, startedAt, existing, tombstones);
  }

  /**
   * Sweeps every folder from the cursor on, until done, the deadline or the budget. A transient
   * OSS failure inside a folder ends that folder only (logged, counted in the report's
   * `folderErrors`; a later pass revisits it). Anything else ends the run: the place it reached is
   * saved first (best effort), so the next run resumes there instead of at the first folder.
   */
  async run(): Promise<CleanupRunReport> {
    const { ledger, settings } = this.input;
    const name = cursorName(settings.dryRun);
    let end: FolderEnd;
    const folders = this.folders();
    let opening: Promise<Opening> | undefined;
    try {
      let next = await folders.next();
      opening = next.done ? undefined : quiet(this.open(next.value));
      let foldersSinceCursor = 0;
      while (!next.done) {
        const folder = next.value;
        const startAfter = folder === this.resumedFrom?.folder ? this.resumedFrom.startAfter : undefined;
        this.position = startAfter === undefined ? { folder } : { folder, startAfter };
        if (this.clock.now() >= this.input.stopAt) {
          end = { stop: 'deadline', cursor: { folder } };
          break;
        }
        // Folders without a delete batch save no cursor; on a long pass, mark the place now and
        // then so that even a killed run (no error path) does not restart at the first folder.
        if (++foldersSinceCursor > FOLDERS_PER_PASSING_CURSOR) {
          this.saveCursor(this.position);
          foldersSinceCursor = 0;
        }
        const current = await opening!.then(
          (value) => ({ ok: true as const, value }),
          (err: unknown) => ({ ok: false as const, err }),
        );
        // Read ahead: the next folder's opening runs while this one is swept (one folder ahead,
        // so at most two folders' first pages are held). A failing folder listing ends the run.
        next = await folders.next();
        opening = next.done ? undefined : quiet(this.open(next.value));
        const cursorWrites = this.cursorWrites;
        try {
          if (!current.ok) throw current.err;
          end = await this.folder(folder, startAfter, current.value);
        } catch (err) {
          if (!isTransientFailure(err)) throw err;
          await this.folderFailed(folder, err);
          continue;
        } finally {
          if (this.cursorWrites !== cursorWrites) foldersSinceCursor = 0;
        }
        if (end) break;
      }
      // Stopped early: the next folder's opening may still be recording a missing channel; let it
      // finish (its result unused) so nothing of this run writes after run() returns and the lease goes.
      await opening?.catch(() => undefined);
      // Cursor writes are ordered: the last batch's must have settled before the final one, which
      // replaces it (so its failure no longer matters).
      await this.cursorWrite.catch(() => undefined);
      this.cursorWriteFailed = undefined;
      if (end) {
        this.report.stop(end.stop, end.cursor);
        this.position = end.cursor;
        await ledger.putCleanupCursor(name, JSON.stringify(end.cursor));
      } else {
        this.position = 'done';
        await ledger.clearCleanupCursor(name);
      }
    } catch (err) {
      await opening?.catch(() => undefined);
      await this.cursorWrite.catch(() => undefined);
      await this.savePosition();
      throw err;
    }
    return this.report.build(this.clock.now());
  }

  /**
   * Objects and bytes of each channel folder this run listed whole (its mark pass), less what the
   * run deleted there: cost accounting rides on cleanup's listing (docs/cost.md).
   */
  readonly storage = new Map<string, StorageFigures & { listedAt: number }>();

  /**
   * Where the run is: the folder being swept (with the key after which a resumed or batch-saved
   * sweep of it goes on), or 'done' once the pass has ended. undefined until the first folder.
   */
  private position: CleanupCursor | 'done' | undefined;

  /** A folder ended by a transient failure: recorded, and the run goes on with the next folder. */
  private async folderFailed(folder: string, err: unknown): Promise<void> {
    // The failure may be a batch cursor write (surfacing before the next batch); either way the
    // pending write is settled and dropped: the next batch's write or the run's final write
    // replaces it, and a stale cursor only makes a later run repeat idempotent deletes.
    await this.cursorWrite.catch(() => undefined);
    this.cursorWrite = Promise.resolve();
    this.cursorWriteFailed = undefined;
    const code = errorCode(err);
    this.report.folderError(folder, code);
    this.log.warn(
      { err, folder, code },
      'cleanup: folder failed transiently; going on with the next folder (a later pass retries it)',
    );
  }

  /** Error path: saves (or clears) the cursor at the place reached, best effort. */
  private async savePosition(): Promise<void> {
    const position = this.position;
    // Failed before the first folder: the stored cursor is still where this run started. A run
    // ending on a refused cursor write (transient ones only end a folder) writes no more.
    if (position === undefined || this.cursorWriteFailed !== undefined) return;
    const { ledger, settings } = this.input;
    const name = cursorName(settings.dryRun);
    try {
      if (position === 'done') await ledger.clearCleanupCursor(name);
      else await ledger.putCleanupCursor(name, JSON.stringify(position));
    } catch (err) {
      this.log.warn(
        { err, position },
        'cleanup: the failed run could not save where it stopped; the next run resumes at the previous cursor',
      );
    }
  }

  /** Top-level folders in byte order, from the cursor's folder on (delimiter listing). */
  private async *folders(): AsyncGenerator<string> {
    let resume = this.resumedFrom?.folder;
    if (resume !== undefined) yield resume;
    let continuationToken: string | undefined;
    do {
      const page = await this.input.bucket.listObjects({
        delimiter: '/',
        startAfter: continuationToken || resume === undefined ? undefined : startAfterFolder(resume),
        continuationToken,
        maxKeys: this.pageSize,
      });
      yield* page.commonPrefixes;
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
      resume = undefined;
    } while (continuationToken);
  }

  /** One listing request of a folder, or 'deadline' instead when the run's time is up. */
  private listPage(
    prefix: string,
    startAfter: string | undefined,
    continuationToken: string | undefined,
  ): Promise<ListObjectsResult | 'deadline'> {
    if (this.clock.now() >= this.input.stopAt) return Promise.resolve('deadline');
    return quiet(
      this.input.bucket.listObjects({
        prefix,
        startAfter: continuationToken ? undefined : startAfter,
        continuationToken,
        maxKeys: this.pageSize,
      }),
    );
  }

  /**
   * Pages of one folder's listing ('deadline' = stop), from `first` when given. Each next page is
   * requested as soon as the one before arrives, so listing page N+1 overlaps classifying and
   * deleting page N; at most two pages are held.
   */
  private async *pages(
    prefix: string,
    startAfter: string | undefined,
    first?: Promise<ListObjectsResult | 'deadline'>,
  ): AsyncGenerator<ListObjectsResult | 'deadline'> {
    let pending: Promise<ListObjectsResult | 'deadline'> | undefined =
      first ?? this.listPage(prefix, startAfter, undefined);
    while (pending) {
      const page: ListObjectsResult | 'deadline' = await pending;
      if (page === 'deadline') {
        yield page;
        return;
      }
      const token: string | undefined = page.isTruncated ? page.nextContinuationToken : undefined;
      pending = token ? this.listPage(prefix, startAfter, token) : undefined;
      yield page;
    }
  }

  /** The folder's concurrent first reads (see Opening). */
  private async open(folder: string): Promise<Opening> {
    const channel = channelOfFolder(folder, this.input.ledger.keys.prefix);
    if (channel === undefined || !(await this.inScope(channel))) return { inScope: false };
    const firstPage = this.listPage(folder, undefined, undefined);
    const [{ state, goneSince }, holdsAtStart] = await Promise.all([
      this.channelState(channel),
      this.input.ledger.listHolds(channel),
    ]);
    const lives = state === 'tombstoned' || state === 'absent' ? await this.lives(channel, goneSince) : [];
    return { inScope: true, channel, state, goneSince, lives, holdsAtStart, firstPage };
  }

  /** When a gone channel existed, from its generation records and tombstones (`channelLives`). */
  private async lives(channel: string, missingSince: number | undefined): Promise<ChannelLife[]> {
    const { ledger, settings } = this.input;
    const [generations, tombstones] = await Promise.all([
      ledger.listGenerations(channel),
      ledger.listChannelTombstones(channel),
    ]);
    return channelLives({
      generations: generations.map((g) => g.generation),
      tombstones,
      missingSince,
      prefixScoped: settings.channelPrefixes.some((prefix) => channel.startsWith(prefix)),
    });
  }

  private async channelState(channel: string): Promise<{ state: ChannelState; goneSince?: number }> {
    const { ledger } = this.input;
    if (this.existing.has(channel)) {
      // It exists (again): a later disappearance must start a fresh grace period.
      await ledger.clearChannelMissing(channel);
      return { state: 'exists' };
    }
    if (this.tombstones.has(channel)) return { state: 'tombstoned' };
    const { record } = await ledger.recordChannelMissing(channel, this.clock.now());
    return { state: 'absent', goneSince: record.since };
  }

  private async inScope(channel: string): Promise<boolean> {
    const { channelPrefixes } = this.input.settings;
    if (channelInScope(channel, { channelPrefixes, knownToLedger: this.tombstones.has(channel) })) return true;
    return channelInScope(channel, {
      channelPrefixes,
      knownToLedger: (await this.input.ledger.getChannel(channel)) !== undefined,
    });
  }

  private async folder(folder: string, startAfter: string | undefined, opening: Opening): Promise<FolderEnd> {
    const { settings } = this.input;
    if (!opening.inScope) {
      this.report.outOfScope(folder);
      return undefined;
    }
    const { channel, state, lives } = opening;
    const tally = this.report.channel(channel, state);
    const gone = state === 'tombstoned' || state === 'absent';
    const here = startAfter === undefined ? { folder } : { folder, startAfter };

    // Mark, step 1: the folder's playlists (one streamed pass; only .m3u8 keys are kept). Its
    // first page is kept for the sweep, which then need not list it again. The same pass tallies
    // the folder's storage.
    const playlists: Playlist[] = [];
    const storage = new FolderStorageCounter();
    let firstPage: ListObjectsResult | undefined;
    for await (const page of this.pages(folder, undefined, opening.firstPage)) {
      if (page === 'deadline') return { stop: 'deadline', cursor: here };
      firstPage ??= page;
      for (const o of page.objects) {
        storage.add(o.key, o.lastModified, o.size);
        if (o.key.endsWith('.m3u8')) playlists.push({ key: o.key, lastModified: o.lastModified, size: o.size });
        // A channel that exists keeps everything; count it here, there is no second pass.
        else if (!gone) this.count(tally, o.key, o.lastModified, { state, lives, referenced: false });
      }
    }
    const listed = storage.finish();
    const listedAt = this.clock.now();
    try {
      return await this.sweepFolder(folder, startAfter, opening, tally, playlists, firstPage);
    } finally {
      const removed = settings.dryRun ? { objects: 0, bytes: 0 } : { objects: tally.deleted, bytes: tally.bytes };
      this.storage.set(channel, { ...withoutDeleted(listed, removed), listedAt });
    }
  }

  /** The rest of a folder's sweep, once its mark pass has listed it. */
  private async sweepFolder(
    folder: string,
    startAfter: string | undefined,
    opening: Extract<Opening, { inScope: true }>,
    tally: ChannelTally,
    playlists: Playlist[],
    listedFirstPage: ListObjectsResult | undefined,
  ): Promise<FolderEnd> {
    const { ledger, settings } = this.input;
    const { channel, state, goneSince, lives, holdsAtStart } = opening;
    const gone = state === 'tombstoned' || state === 'absent';
    let firstPage = listedFirstPage;

    const now = this.clock.now();
    const fileNames = new Set(playlists.map((p) => p.key.slice(p.key.lastIndexOf('/') + 1)));
    const holds = holdScope(holdsAtStart, fileNames, now);

    // Retention first: an expired VOD playlist stops marking its fragments in this same sweep.
    const retention = await this.expirePlaylists(channel, tally, playlists, holds.heldPlaylists, holdsAtStart, now);
    if (retention.end) return retention.end;
    if (!gone) return undefined;

    // Mark, step 2: every fragment a retained playlist lists.
    const referenced = new Set<string>();
    let unreadable = false;
    if (!holds.channelPinned) {
      for (const playlist of playlists) {
        if (retention.expired.has(playlist.key)) continue;
        let text: string;
        try {
          text = (await this.input.bucket.getObject(playlist.key)).body.toString('utf8');
        } catch (err) {
          if (isNoSuchKey(err)) continue;
          throw err;
        }
        try {
          for (const key of referencedSegments(playlist.key, text, { ownHosts: this.ownHosts }).segments)
            if (key.startsWith(folder)) referenced.add(key);
        } catch (err) {
          if (!(err instanceof InvalidPlaylistError)) throw err;
          // Unknown references: keep every fragment of the channel rather than guess.
          unreadable = true;
          tally.unreadablePlaylists.push(playlist.key);
          this.log.warn({ key: playlist.key }, 'unreadable playlist pins its channel');
        }
      }
    }
    const pinned = holds.channelPinned ? ('held' as const) : unreadable ? ('unreadable-playlist' as const) : undefined;

    // Sweep: stream the folder from the cursor, delete in batches after re-checking the channel.
    let lastExamined = startAfter;
    let batch: Candidate[] = [];
    let keptForLater = false;
    const flush = async (): Promise<'aborted' | undefined> => {
      if (batch.length === 0 || settings.dryRun) {
        batch = [];
        return undefined;
      }
      const toDelete = batch;
      batch = [];
      // The previous batch's cursor write (long done by now) must have succeeded before more is deleted.
      await this.cursorWrite;
      if (!(await this.stillDeletable(channel, holdsAtStart))) {
        for (const _ of toDelete) this.report.kept(tally, 'channel-changed-mid-run');
        return 'aborted';
      }
      const sizes = new Map(toDelete.map((c) => [c.key, c.size]));
      const result = await this.input.bucket.deleteObjects(
        toDelete.map((c) => c.key),
        { quiet: true },
      );
      for (const key of result.deleted) this.report.deleted(tally, key, sizes.get(key) ?? 0);
      for (const e of result.errors) this.report.error(e.key, e.code);
      // Crash safety: a killed invocation resumes after the last batch it finished. The write
      // is not waited for here (the next page or folder goes on meanwhile); cursor writes stay in
      // order, one at a time, and a failed one fails the run before its next delete batch.
      if (lastExamined !== undefined) this.saveCursor({ folder, startAfter: lastExamined });
      return undefined;
    };

    // Resuming mid-folder: the sweep starts at the cursor's key, not at the kept first page.
    const sweepFrom = startAfter === undefined && firstPage ? Promise.resolve(firstPage) : undefined;
    firstPage = undefined;
    for await (const page of this.pages(folder, startAfter, sweepFrom)) {
      if (page === 'deadline') {
        await flush();
        return {
          stop: 'deadline',
          cursor: lastExamined === undefined ? { folder } : { folder, startAfter: lastExamined },
        };
      }
      for (const o of page.objects) {
        const decision = this.count(tally, o.key, o.lastModified, {
          state,
          goneSince,
          lives,
          referenced: referenced.has(o.key),
          pinned,
          now,
        });
        if (decision === 'within-grace' || decision === 'channel-recently-gone') keptForLater = true;
        if (decision === 'delete') {
          const over = this.overBudget(o.size);
          if (over) {
            await flush();
            return {
              stop: over,
              cursor: lastExamined === undefined ? { folder } : { folder, startAfter: lastExamined },
            };
          }
          this.report.candidate(tally, o.key, o.size, false);
          batch.push({ key: o.key, size: o.size });
        }
        lastExamined = o.key;
      }
      if ((await flush()) === 'aborted') return undefined;
    }

    // Everything a tombstoned generation left is gone (or pinned by a VOD): stop re-listing its
    // tombstone. Should pinned fragments lose their pin later, the folder is swept as `absent`.
    if (state === 'tombstoned' && !settings.dryRun && !keptForLater && !pinned) {
      for (const generation of this.tombstones.get(channel) ?? []) {
        await ledger.recordTombstoneCleaned({
          channel,
          generation,
          cleanedAt: this.clock.now(),
          runId: this.input.runId,
          objectsDeleted: tally.deleted,
          bytesDeleted: tally.bytes,
        });
      }
    }
    return undefined;
  }

  /** The last batch cursor write (see saveCursor). */
  private cursorWrite: Promise<void> = Promise.resolve();
  /** The error of the last failed cursor write, if the run is ending on it. */
  private cursorWriteFailed: unknown;
  /** Cursor writes started so far. */
  private cursorWrites = 0;

  /**
   * Starts writing the batch cursor once the previous write has finished (a failure surfaces before the next batch, or
   * at the end of run()).
   */
  private saveCursor(cursor: CleanupCursor): void {
    const { ledger, settings } = this.input;
    this.position = cursor;
    this.cursorWrites++;
    this.cursorWrite = quiet(
      this.cursorWrite.then(() =>
        ledger.putCleanupCursor(cursorName(settings.dryRun), JSON.stringify(cursor)).catch((err: unknown) => {
          this.cursorWriteFailed = err;
          throw err;
        }),
      ),
    );
  }

  /** Classifies one key and counts it; returns 'delete' or the reason it is kept. */
  private count(
    tally: ChannelTally,
    key: string,
    lastModified: number,
    input: {
      state: ChannelState;
      goneSince?: number;
      lives: readonly ChannelLife[];
      referenced: boolean;
      pinned?: 'held' | 'unreadable-playlist';
      now?: number;
    },
  ): string {
    const decision = classifyFragment({
      key,
      lastModified,
      channelState: input.state,
      channelGoneSince: input.goneSince,
      lives: input.lives,
      referenced: input.referenced,
      pinned: input.pinned,
      now: input.now ?? this.clock.now(),
      graceMs: this.input.settings.graceMs,
      // The folder is already known to be in scope; this checks the key's shape and depth.
      scope: { channelPrefixes: [key.slice(0, key.indexOf('/'))], ledgerPrefix: this.input.ledger.keys.prefix },
    });
    if (decision.action === 'delete') return 'delete';
    this.report.kept(tally, decision.reason);
    return decision.reason;
  }

  /**
   * Whether one more candidate of `size` bytes would exceed the run's budget; otherwise claims
   * it. Candidates, not deletions, are counted, so a dry run stops where a real run would.
   */
  private overBudget(size: number): StopReason | undefined {
    const { maxObjects, maxBytes } = this.input.settings;
    if (this.budgetObjects + 1 > maxObjects) return 'budget-objects';
    if (this.budgetBytes + size > maxBytes) return 'budget-bytes';
    this.budgetObjects++;
    this.budgetBytes += size;
    return undefined;
  }
  private budgetObjects = 0;
  private budgetBytes = 0;

  /**
   * Right before a delete batch: the channel is still gone (not recreated since the run began —
   * PostVodPlaylist needs an existing channel, so no VOD can have been posted over these
   * fragments either) and nobody placed a hold.
   */
  private async stillDeletable(channel: string, holdsAtStart: readonly HoldRecord[]): Promise<boolean> {
    // Both reads are sent together (one round trip, not two); both must pass.
    const [exists, holdsNow] = await Promise.all([
      this.input.bucket.getLiveChannelStat(channel).then(
        () => true,
        (err: unknown) => {
          if (!isNoSuchLiveChannel(err)) throw err;
          return false;
        },
      ),
      this.input.ledger.listHolds(channel),
    ]);
    if (exists) {
      this.log.warn({ channel }, 'channel exists again: its folder is left alone this run');
      return false;
    }
    const now = this.clock.now();
    if (holdFingerprint(holdsNow, now) !== holdFingerprint(holdsAtStart, now)) {
      this.log.warn({ channel }, 'holds changed mid-run: its folder is left alone this run');
      return false;
    }
    return true;
  }

  /** Deletes the folder's VOD playlists past retention (or, in a dry run, reports them). */
  private async expirePlaylists(
    channel: string,
    tally: ChannelTally,
    playlists: readonly Playlist[],
    heldPlaylists: ReadonlySet<string>,
    holdsAtStart: readonly HoldRecord[],
    now: number,
  ): Promise<{ expired: Set<string>; end?: FolderEnd }> {
    const expired = new Set<string>();
    const { retentionDays, dryRun } = this.input.settings;
    if (retentionDays === 0 || playlists.length === 0) return { expired };
    const byKey = new Map(playlists.map((p) => [p.key, p]));
    const decisions = vodRetention({
      vods: playlists.map((p) => ({
        key: p.key,
        createdAt: p.lastModified,
        held: heldPlaylists.has(p.key.slice(p.key.lastIndexOf('/') + 1)),
      })),
      now,
      retentionDays,
    });
    const folder = `${channel}/`;
    for (const d of decisions) {
      if (d.action !== 'delete') continue;
      const playlist = byKey.get(d.key);
      if (!playlist) continue;
      const over = this.overBudget(playlist.size);
      if (over) return { expired, end: { stop: over, cursor: { folder } } };
      this.report.candidate(tally, d.key, playlist.size, true);
      expired.add(d.key);
    }
    if (expired.size === 0 || dryRun) return { expired };
    // A hold placed since the folder was read wins over age.
    const now2 = this.clock.now();
    if (holdFingerprint(await this.input.ledger.listHolds(channel), now2) !== holdFingerprint(holdsAtStart, now2)) {
      for (const _ of expired) this.report.kept(tally, 'channel-changed-mid-run');
      return { expired: new Set(), end: undefined };
    }
    const result = await this.input.bucket.deleteObjects([...expired], { quiet: true });
    for (const key of result.deleted) this.report.deleted(tally, key, byKey.get(key)?.size ?? 0);
    for (const e of result.errors) {
      this.report.error(e.key, e.code);
      // Still stored: its fragments stay marked.
      expired.delete(e.key);
    }
    return { expired };
  }
}
