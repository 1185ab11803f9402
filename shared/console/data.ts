/**
 * What the console shows, read from OSS and the ledger. The channel list is filtered and paged
 * on the server from cheap bulk reads (ListLiveChannel pages, poll-stat's per-shard state, the
 * tombstones), and only the rows of the page shown are enriched with per-channel reads (Stat,
 * last broadcast, VODs, snapshot), so 5,000 channels cost a handful of list requests plus one
 * page of rows. `ChannelList` reuses those reads and the cost report for LIST_FRESH_MS, so the
 * page's 2 s refresh pays for them every other time.
 */
import type { ChannelObservation } from '../ledger';
import type { CleanupRunReport } from '../cleanup/report';
import { broadcastState, groupBroadcasts, mergePushes, type Broadcast } from '../lifecycle';
import type { LiveChannelStat } from '../oss';
import { loadPushes } from '../operations/broadcasts';
import { mapConcurrent, type BucketScope, type OperationContext } from '../operations/context';
import { costReport, type CostReport } from '../operations/cost';

export const CHANNEL_STATES = ['live', 'idle', 'disabled', 'deleted'] as const;
export type ChannelState = (typeof CHANNEL_STATES)[number];

export interface ListQuery {
  state?: ChannelState;
  /** Case-insensitive substring of the name. */
  q?: string;
  /** The last name of the previous page. */
  after?: string;
  limit: number;
}

/** Per-row reads in flight at once. */
const ROW_CONCURRENCY = 8;
/** The channel view shows broadcasts of this period. */
const TIMELINE_MS = 30 * 24 * 3600_000;
/** Objects summed per channel at most (a listing page is 1000). */
const MAX_OBJECT_PAGES = 20;

/**
 * OSS's NoSuchLiveChannel, by its code: the error comes from the api bundle's client, whose
 * OssError class is not this chunk's copy (shared/console/index.ts), so `instanceof` cannot tell.
 */
function gone(err: unknown): undefined {
  if ((err as { code?: unknown }).code === 'NoSuchLiveChannel') return undefined;
  throw err;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

interface Candidate {
  name: string;
  /** From the cheap bulk reads; a shown row's own Stat has the last word. */
  state: ChannelState;
  deletedAt?: number;
}

/** Every channel name with its state from bulk reads: OSS's listing, poll-stat's latest view, the tombstones. */
async function candidates(scope: BucketScope): Promise<Candidate[]> {
  const [listed, pollStates] = await Promise.all([
    (async () => {
      const out: { name: string; status: string }[] = [];
      for await (const c of scope.oss.iterateLiveChannels({ pageSize: 1000 })) out.push(c);
      return out;
    })(),
    scope.ledger.listPollStates(),
  ]);
  const observed = new Map<string, ChannelObservation>();
  for (const state of pollStates)
    for (const [name, o] of Object.entries(state.channels)) {
      const known = observed.get(name);
      if (!known || known.observedAt < o.observedAt) observed.set(name, o);
    }
  const rows: Candidate[] = listed.map((c) => ({
    name: c.name,
    state: c.status === 'disabled' ? 'disabled' : observed.get(c.name)?.status === 'Live' ? 'live' : 'idle',
  }));
  const existing = new Set(rows.map((r) => r.name));
  const deleted = new Map<string, number>();
  for await (const t of scope.ledger.listTombstones())
    if (!existing.has(t.channel)) deleted.set(t.channel, Math.max(deleted.get(t.channel) ?? 0, t.deletedAt));
  for (const [name, deletedAt] of deleted) rows.push({ name, state: 'deleted', deletedAt });
  return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function stateOfStat(stat: LiveChannelStat): ChannelState {
  return stat.status === 'Live' ? 'live' : stat.status === 'Disabled' ? 'disabled' : 'idle';
}

function lastOf(broadcasts: readonly Broadcast[]): Broadcast | undefined {
  return broadcasts.at(-1);
}

/** One row of the channel list, with what the page shows of it. */
async function row(scope: BucketScope, c: Candidate, now: number, reconnectWindowMs: number) {
  const name = c.name;
  const [stat, pushes, vods, snapshot, disabled, record] = await Promise.all([
    c.state === 'deleted' ? undefined : scope.oss.getLiveChannelStat(name).catch(gone),
    loadPushes(scope, name, now - TIMELINE_MS),
    scope.ledger.listVods(name),
    scope.ledger.latestSnapshot(name),
    c.state === 'disabled' ? scope.ledger.latestDisabled(name) : undefined,
    scope.ledger.getChannel(name),
  ]);
  const state: ChannelState = stat ? stateOfStat(stat) : 'deleted';
  const last = lastOf(groupBroadcasts(mergePushes(pushes), { reconnectWindowMs }));
  const since =
    state === 'deleted'
      ? c.deletedAt
      : state === 'disabled'
        ? disabled?.disabledAt
        : state === 'live'
          ? stat?.connectedTime
          : (last?.lastEnd ?? record?.generation);
  return {
    name,
    state,
    since: iso(since),
    video: stat?.video
      ? {
          width: stat.video.width,
          height: stat.video.height,
          frameRate: stat.video.frameRate,
          bandwidth: stat.video.bandwidth,
          codec: stat.video.codec,
        }
      : null,
    audioBandwidth: stat?.audio?.bandwidth ?? null,
    snapshot: snapshot?.objectKey?.startsWith(`${name}/`) ? snapshot.objectKey.slice(name.length + 1) : null,
    snapshotAt: iso(snapshot?.at),
    lastBroadcast: last
      ? {
          id: last.id,
          startedAt: iso(last.firstStart),
          endedAt: iso(last.lastEnd),
          pushes: last.pushes.length,
          state: stat ? broadcastState(last, { now, stat, reconnectWindowMs }).state : 'ended',
        }
      : null,
    vods: vods.filter((v) => v.status === 'ready').length,
  };
}

export type ChannelRow = Awaited<ReturnType<typeof row>>;

/** One page of the channel list, filtered by state and name on the server, from `reads`. */
async function listChannelRows(
  query: ListQuery,
  reads: { candidates(): Promise<Candidate[]>; row(c: Candidate): Promise<ChannelRow> },
): Promise<{ channels: ChannelRow[]; total: number; counts: Record<ChannelState, number>; nextCursor: string | null }> {
  const all = await reads.candidates();
  const q = query.q?.toLowerCase();
  const named = q ? all.filter((c) => c.name.toLowerCase().includes(q)) : all;
  const counts: Record<ChannelState, number> = { live: 0, idle: 0, disabled: 0, deleted: 0 };
  for (const c of named) counts[c.state]++;
  const matching = query.state ? named.filter((c) => c.state === query.state) : named;
  const start = query.after === undefined ? 0 : matching.findIndex((c) => c.name > (query.after as string));
  const page = start < 0 ? [] : matching.slice(start, start + query.limit);
  const channels = await mapConcurrent(page, ROW_CONCURRENCY, reads.row);
  // A shown row's own Stat is newer than poll-stat's view: count it as what it shows.
  page.forEach((c, i) => {
    const shown = channels[i]!.state;
    if (shown !== c.state) {
      counts[c.state]--;
      counts[shown]++;
    }
  });
  const more = start >= 0 && start + query.limit < matching.length;
  return { channels, total: matching.length, counts, nextCursor: more ? (page.at(-1)?.name ?? null) : null };
}

/**
 * How long (injected clock) one instance reuses the list's reads: a change is in every refresh
 * that starts LIST_FRESH_MS after it, so the page, refreshing 2 s after each answer, shows it
 * within 5 s.
 */
export const LIST_FRESH_MS = 3_000;

/**
 * Values read at most once per `freshMs` of the injected clock, by key; callers meanwhile share
 * the read, also while it is in flight. A failed read is not kept.
 */
export class FreshCache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  constructor(private readonly freshMs: number) {}

  private fresh(at: number, now: number): boolean {
    return now >= at && now - at < this.freshMs;
  }

  get(key: string, now: number, read: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && this.fresh(hit.at, now)) return hit.value;
    for (const [k, e] of this.entries) if (!this.fresh(e.at, now)) this.entries.delete(k);
    // Stamped when the read starts, so the value is never older than its stamp says.
    const value = read();
    this.entries.set(key, { at: now, value });
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * The channel list of one api instance, with each row's cost per month. Bulk reads, rows and the
 * cost report are each reused for LIST_FRESH_MS, so a refresh within it costs no request, and
 * the filters and pages of one refresh share one set of bulk reads.
 */
export class ChannelList {
  private readonly bulk = new FreshCache<Candidate[]>(LIST_FRESH_MS);
  private readonly rows = new FreshCache<ChannelRow>(LIST_FRESH_MS);
  private readonly costs = new FreshCache<CostReport>(LIST_FRESH_MS);

  constructor(private readonly reconnectWindowMs: number) {}

  async page(scope: BucketScope, op: OperationContext, query: ListQuery) {
    const now = op.clock.now();
    const [page, cost] = await Promise.all([
      listChannelRows(query, {
        candidates: () => this.bulk.get(scope.name, now, () => candidates(scope)),
        row: (c) => this.rows.get(`${scope.name}/${c.name}`, now, () => row(scope, c, now, this.reconnectWindowMs)),
      }),
      // Cost per channel from one cost report (docs/cost.md): a few bucket-wide ledger reads, no listing.
      this.costs.get(scope.name, now, () => costReport(scope, op)),
    ]);
    const perMonth = new Map(cost.channels.map((c) => [c.name, c.cnyPerMonth.total]));
    return {
      ...page,
      channels: page.channels.map((c) => ({ ...c, cnyPerMonth: perMonth.get(c.name) ?? null })),
      prices: { source: cost.prices.source, asOf: cost.prices.asOf, region: cost.prices.region },
      now: new Date(now).toISOString(),
    };
  }

  /** After this instance changed a channel: its next refresh reads afresh. */
  forget(): void {
    this.bulk.clear();
    this.rows.clear();
    this.costs.clear();
  }
}

type ObjectKind = 'fragments' | 'playlists' | 'snapshots' | 'other';

function kindOf(key: string): ObjectKind {
  if (key.endsWith('.ts')) return 'fragments';
  if (key.endsWith('.m3u8')) return 'playlists';
  if (key.endsWith('.jpg')) return 'snapshots';
  return 'other';
}

/** Objects and bytes under `<channel>/`, by kind (at most MAX_OBJECT_PAGES listing pages). */
async function objectTotals(scope: BucketScope, channel: string) {
  const byKind: Record<ObjectKind, { objects: number; bytes: number }> = {
    fragments: { objects: 0, bytes: 0 },
    playlists: { objects: 0, bytes: 0 },
    snapshots: { objects: 0, bytes: 0 },
    other: { objects: 0, bytes: 0 },
  };
  let objects = 0;
  let bytes = 0;
  let token: string | undefined;
  let pages = 0;
  let truncated = false;
  do {
    const page = await scope.oss.listObjects({ prefix: `${channel}/`, continuationToken: token, maxKeys: 1000 });
    for (const o of page.objects) {
      const k = byKind[kindOf(o.key)];
      k.objects++;
      k.bytes += o.size;
      objects++;
      bytes += o.size;
    }
    token = page.isTruncated ? page.nextContinuationToken : undefined;
    truncated = token !== undefined && ++pages >= MAX_OBJECT_PAGES;
  } while (token && !truncated);
  return { objects, bytes, byKind, truncated };
}

/** This channel's part of the latest cleanup dry run: what the next pass would delete, never a deletion. */
function cleanupPlan(report: CleanupRunReport | undefined, channel: string) {
  if (!report || typeof report.runId !== 'string' || !Array.isArray(report.channels)) return null;
  if (!report.dryRun)
    return { runId: report.runId, finishedAt: iso(report.finishedAt), dryRun: false, channel: null, keys: [] };
  const entry = report.channels.find((c) => c.channel === channel) ?? null;
  return {
    runId: report.runId,
    finishedAt: iso(report.finishedAt),
    dryRun: true,
    channel: entry && {
      state: entry.state,
      candidates: entry.candidates,
      bytes: entry.bytes,
      expiredPlaylists: entry.expiredPlaylists,
      kept: entry.kept,
    },
    keys: report.keys.listed.filter((k) => k.startsWith(`${channel}/`)).map((k) => k.slice(channel.length + 1)),
    keysTruncated: report.keys.truncated,
  };
}

/** Everything the channel view shows. */
export async function channelDetail(scope: BucketScope, channel: string, now: number, reconnectWindowMs: number) {
  const [stat, info, record, pushes, vods, snapshot, events, actions, objects, report, tombstones] = await Promise.all([
    scope.oss.getLiveChannelStat(channel).catch(gone),
    scope.oss.getLiveChannelInfo(channel).catch(gone),
    scope.ledger.getChannel(channel),
    loadPushes(scope, channel, now - TIMELINE_MS),
    scope.ledger.listVods(channel),
    scope.ledger.latestSnapshot(channel),
    scope.ledger.listEvents(channel),
    scope.ledger.listConsoleActions(channel),
    objectTotals(scope, channel),
    scope.ledger.latestCleanupReport() as Promise<CleanupRunReport | undefined>,
    scope.ledger.listChannelTombstones(channel),
  ]);
  if (!stat && !record && tombstones.length === 0 && objects.objects === 0) return undefined;
  const broadcasts = groupBroadcasts(mergePushes(pushes), { reconnectWindowMs });
  const deliveries = await mapConcurrent(events, ROW_CONCURRENCY, (e) => scope.ledger.deliveryOf(e.id));
  const state: ChannelState = stat ? stateOfStat(stat) : 'deleted';
  return {
    name: channel,
    state,
    description: info?.description ?? record?.config.description ?? '',
    generation: iso(record?.generation),
    deletedAt: iso(tombstones.at(-1)?.deletedAt),
    playlistName: info?.target.playlistName ?? record?.config.playlistName ?? null,
    live: stat?.status === 'Live' ? { connectedAt: iso(stat.connectedTime), video: stat.video ?? null } : null,
    broadcasts: broadcasts.map((b) => ({
      id: b.id,
      startedAt: iso(b.firstStart),
      endedAt: iso(b.lastEnd),
      state: stat ? broadcastState(b, { now, stat, reconnectWindowMs }).state : 'ended',
      pushes: b.pushes.map((p) => ({ startedAt: iso(p.startTime), endedAt: iso(p.endTime) })),
      historyGaps: b.gaps.length,
    })),
    vods: vods.map((v) => {
      const playlist = v.parent?.key ?? v.parts[0]?.key;
      return {
        broadcastId: v.broadcastId,
        status: v.status,
        // Playable through the console's file route only when it lies in the channel's folder.
        file: playlist?.startsWith(`${channel}/`) ? playlist.slice(channel.length + 1) : null,
        recordedAt: iso(v.recordedAt),
        error: v.error ?? null,
      };
    }),
    snapshot: snapshot?.objectKey?.startsWith(`${channel}/`) ? snapshot.objectKey.slice(channel.length + 1) : null,
    webhooks: events
      .map((e, i) => {
        const d = deliveries[i]!;
        return {
          id: e.id,
          type: e.type,
          occurredAt: iso(e.occurredAt),
          status: d.status,
          // Records written before attempts were noted have only a count.
          attempts: d.tries.length || d.attempts,
          deliveredAt: iso(d.record?.at),
          tries: d.tries.map((t) => ({ at: iso(t.at), status: t.status ?? null, error: t.error ?? null })),
        };
      })
      .sort((a, b) => (a.occurredAt ?? '').localeCompare(b.occurredAt ?? '')),
    actions: actions.map((a) => ({ action: a.action, who: a.who, at: iso(a.at), outcome: a.outcome })),
    objects,
    cleanupPlan: cleanupPlan(report, channel),
  };
}

export type ChannelDetail = NonNullable<Awaited<ReturnType<typeof channelDetail>>>;
