/**
 * poll-stat: one tick of LiveChannel observation per bucket.
 *
 * Cost in steady state: ListLiveChannel pages (1000 channels each), one listing of wake markers,
 * the poll state read once (and written when it changed), nothing for disabled channels, and for
 * enabled ones what the adaptive schedule says is due (shared/lifecycle/poll-schedule.ts): one
 * GetLiveChannelStat per tick for a channel that is live or recently active, one per back-off
 * interval for an idle one, plus a History read on the coarse History grid. GetLiveChannelHistory
 * and ledger reads otherwise happen only for a channel whose Stat changed since the last poll
 * (status or ConnectedTime), or whose broadcast is open with an end not yet known.
 * The api and on-snapshot wake a channel (ledger.wakePoll) so it is polled every tick again.
 *
 * Sharding (simple on purpose): a timer tick that finds more than POLL_SHARD_SIZE channels in a
 * bucket does not poll them itself; it cuts the name-sorted list into runs of POLL_SHARD_SIZE
 * and invokes poll-stat asynchronously once per run with `{bucket, marker, limit}` (ListLiveChannel's
 * exclusive marker and page size). Each shard keeps its own poll state, named after its marker;
 * a channel that moves to another shard as names are added just costs one extra History read.
 */
import { createHash } from 'node:crypto';
import { channelSegment, type ChannelObservation, type PollState } from '../ledger';
import {
  broadcastState,
  pollDecision,
  pollPhase,
  groupBroadcasts,
  mergePushes,
  newPushesFromHistory,
  pushFromStat,
  samePush,
  type Broadcast,
  type Push,
  type StatObservation,
} from '../lifecycle';
import type { LiveChannelSummary, LiveRecord } from '../oss';
import { announceStarted, concludeBroadcast, loadPushes, recordPushes } from './broadcasts';
import { mapConcurrent, type BucketScope, type OperationContext } from './context';
import type { Config } from '../config';
import { isChannelName, isRunRequest, jsonObject, stringField } from './events';

/**
 * What the poll state keeps per channel beyond the ledger's ChannelObservation (the store is
 * JSON, the extra fields travel along): the open broadcast, so ticks while it waits out the
 * reconnect window need no reads, and how far broadcasts are settled, so older pushes are
 * never regrouped.
 */
export interface TrackedObservation extends ChannelObservation {
  open?: { id: string; firstStart: number; lastEnd?: number };
  /** Latest end of any broadcast already concluded; pushes starting at or before it are done. */
  settledThrough?: number;
  /** Last Stat while backed off (the schedule's grid needs it; unset while polled every tick). */
  polledAt?: number;
  /** Last GetLiveChannelHistory read. */
  historyAt?: number;
  /**
   * The last poll of this channel failed. The next one reads History whatever Stat says: a
   * broadcast may have started and ended while every poll failed, leaving Stat as it was.
   */
  recheck?: true;
}

interface TrackedPollState extends PollState {
  channels: Record<string, TrackedObservation>;
}

export interface ShardRequest {
  bucket: string;
  /** Exclusive ListLiveChannel marker; '' for the first shard. */
  marker: string;
  limit: number;
}

export interface PollResult {
  buckets: {
    bucket: string;
    shard: string;
    channels: number;
    polled: number;
    skipped: number;
    reconciled: number;
    ended: number;
  }[];
  /** Shards handed to other invocations. */
  shards: ShardRequest[];
}

/**
 * Decodes the event: a timer tick (or a manual run) polls every bucket; a shard payload polls
 * that run. A shard payload is validated fully here, so nothing it carries can make the poll
 * throw (FC would retry the invocation for nothing): the bucket is a configured one, the marker
 * is '' or a channel name (what the fan-out writes; also keeps it under OSS's 1024-byte limit),
 * and the limit is a whole number from 1 to POLL_SHARD_SIZE (the fan-out never cuts more). Any
 * other event is undefined: bad input, to acknowledge without work.
 */
export function decodePollEvent(
  event: Buffer,
  config: Pick<Config, 'buckets' | 'pollShardSize'>,
): ShardRequest | 'tick' | undefined {
  const parsed = jsonObject(event);
  if (!parsed) return undefined;
  if (isRunRequest(parsed)) return 'tick';
  const bucket = stringField(parsed, 'bucket');
  const marker = parsed.marker === undefined ? '' : parsed.marker;
  const limit = parsed.limit;
  if (bucket === undefined || !config.buckets.includes(bucket)) return undefined;
  if (typeof marker !== 'string' || (marker !== '' && !isChannelName(marker))) return undefined;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > config.pollShardSize)
    return undefined;
  return { bucket, marker, limit };
}

export async function pollStat(ctx: OperationContext, request: ShardRequest | 'tick'): Promise<PollResult> {
  const result: PollResult = { buckets: [], shards: [] };
  const buckets = request === 'tick' ? ctx.config.buckets : ctx.config.buckets.filter((b) => b === request.bucket);
  for (const bucket of buckets) {
    const scope = ctx.bucket(bucket);
    if (request === 'tick') {
      const channels = await listAll(scope);
      if (channels.length > ctx.config.pollShardSize) {
        const shards = shardRequests(bucket, channels, ctx.config.pollShardSize);
        for (const shard of shards) await ctx.invoker.invokeAsync(ctx.functionName, shard);
        ctx.logger.info({ bucket, channels: channels.length, shards: shards.length }, 'poll fanned out to shards');
        result.shards.push(...shards);
        continue;
      }
      result.buckets.push(await pollChannels(scope, ctx, 'all', channels, () => true));
    } else {
      const channels = await listRun(scope, request.marker, request.limit);
      const last = channels.length === request.limit ? channels.at(-1)?.name : undefined;
      // Wake markers of this run's range (names after the marker, up to its last channel).
      const owns = (segment: string) => segment > request.marker && (last === undefined || segment <= last);
      result.buckets.push(await pollChannels(scope, ctx, shardId(request.marker), channels, owns));
    }
    await scope.webhooks.drainOutbox({ maxEvents: 100 });
  }
  return result;
}

async function listAll(scope: BucketScope): Promise<LiveChannelSummary[]> {
  const out: LiveChannelSummary[] = [];
  for await (const channel of scope.oss.iterateLiveChannels({ pageSize: 1000 })) out.push(channel);
  return out;
}

async function listRun(scope: BucketScope, marker: string, limit: number): Promise<LiveChannelSummary[]> {
  const out: LiveChannelSummary[] = [];
  let next: string | undefined = marker || undefined;
  while (out.length < limit) {
    const page = await scope.oss.listLiveChannels({ marker: next, maxKeys: Math.min(1000, limit - out.length) });
    out.push(...page.channels);
    if (!page.isTruncated || !page.nextMarker) break;
    next = page.nextMarker;
  }
  return out;
}

function shardRequests(bucket: string, channels: readonly LiveChannelSummary[], size: number): ShardRequest[] {
  const shards: ShardRequest[] = [];
  for (let i = 0; i < channels.length; i += size)
    shards.push({ bucket, marker: i === 0 ? '' : (channels[i - 1]?.name ?? ''), limit: size });
  return shards;
}

function shardId(marker: string): string {
  return marker === '' ? 'shard-first' : `shard-${createHash('sha256').update(marker).digest('hex').slice(0, 16)}`;
}

async function pollChannels(
  scope: BucketScope,
  ctx: OperationContext,
  shard: string,
  channels: readonly LiveChannelSummary[],
  ownsWake: (segment: string) => boolean,
) {
  const [state, wakes] = await Promise.all([
    scope.ledger.getPollState(shard) as Promise<TrackedPollState | undefined>,
    scope.ledger.listPollWakes(),
  ]);
  const before = state?.channels ?? {};
  const now = ctx.clock.now();
  const idleAfterMs = ctx.config.idleAfterSeconds * 1000;
  let reconciled = 0;
  let ended = 0;
  let polled = 0;
  let skipped = 0;
  const outcomes = await mapConcurrent(channels, ctx.config.pollConcurrency, async (summary) => {
    const previous = Object.hasOwn(before, summary.name) ? before[summary.name] : undefined;
    try {
      let history = false;
      let backedOff = false;
      if (summary.status === 'enabled') {
        const activeAt = Math.max(
          summary.lastModified,
          previous?.settledThrough ?? -Infinity,
          wakes.get(channelSegment(summary.name)) ?? -Infinity,
        );
        const due = pollDecision({
          now,
          phase: pollPhase(summary.name),
          previous: previous && { ...previous, open: previous.open !== undefined },
          activeAt,
          idleAfterMs,
          maxIdleIntervalMs: ctx.config.pollIdleMaxIntervalSeconds * 1000,
        });
        if (!due.stat && previous) {
          skipped++;
          return [summary.name, previous] as const;
        }
        polled++;
        history = due.history;
        backedOff = due.reason === 'idle';
      }
      const outcome = await pollChannel(scope, ctx, summary, previous, history);
      if (backedOff) outcome.observation.polledAt = now;
      if (outcome.reconciled) reconciled++;
      ended += outcome.ended;
      return [summary.name, outcome.observation] as const;
    } catch (err) {
      // One channel's trouble must not stop the others; keeping its old state retries it next tick.
      ctx.logger.warn({ err, bucket: scope.name, channel: summary.name }, 'poll of channel failed');
      return previous ? ([summary.name, { ...previous, recheck: true }] as const) : undefined;
    }
  });
  const after: Record<string, TrackedObservation> = {};
  for (const entry of outcomes) if (entry) after[entry[0]] = entry[1];
  if (materiallyChanged(before, after)) {
    const state: TrackedPollState = { updatedAt: ctx.clock.now(), channels: after };
    await scope.ledger.putPollState(shard, state);
  }
  await clearStaleWakes(scope, wakes, now - idleAfterMs, ownsWake);
  ctx.logger.info(
    { bucket: scope.name, shard, channels: channels.length, polled, skipped, reconciled, ended },
    'poll done',
  );
  return { bucket: scope.name, shard, channels: channels.length, polled, skipped, reconciled, ended };
}

/**
 * Wake markers older than IDLE_AFTER no longer change any schedule: removing them keeps the
 * per-tick listing short. A wake written again between the listing and the delete is lost,
 * which only delays that channel's next poll to its back-off interval.
 */
async function clearStaleWakes(
  scope: BucketScope,
  wakes: ReadonlyMap<string, number>,
  staleBefore: number,
  owns: (segment: string) => boolean,
): Promise<void> {
  for (const [segment, at] of wakes) if (at < staleBefore && owns(segment)) await scope.ledger.clearPollWake(segment);
}

/** Whether the state differs in anything but observation times (those alone need no write). */
function materiallyChanged(
  before: Record<string, TrackedObservation>,
  after: Record<string, TrackedObservation>,
): boolean {
  const strip = (channels: Record<string, TrackedObservation>) =>
    JSON.stringify(
      Object.keys(channels)
        .sort()
        .map((name) => {
          const { observedAt: _ignored, ...rest } = channels[name] as TrackedObservation;
          return [name, rest];
        }),
    );
  return strip(before) !== strip(after);
}

interface ChannelOutcome {
  observation: TrackedObservation;
  reconciled: boolean;
  ended: number;
}

/** `readHistory`: the schedule's periodic History read, which finds pushes that began and ended between two Stats. */
async function pollChannel(
  scope: BucketScope,
  ctx: OperationContext,
  summary: LiveChannelSummary,
  previous: TrackedObservation | undefined,
  readHistory: boolean,
): Promise<ChannelOutcome> {
  const channel = summary.name;
  const now = ctx.clock.now();
  // A disabled channel cannot be live (OSS drops its publisher), so it costs no request.
  const stat: StatObservation =
    summary.status === 'disabled' ? { status: 'Disabled' } : await scope.oss.getLiveChannelStat(channel);
  const observation: TrackedObservation = { status: stat.status, observedAt: now };
  if (stat.connectedTime !== undefined) observation.connectedTime = stat.connectedTime;
  if (previous?.settledThrough !== undefined) observation.settledThrough = previous.settledThrough;
  if (previous?.historyAt !== undefined) observation.historyAt = previous.historyAt;
  const changed =
    !previous ||
    previous.recheck === true ||
    previous.status !== stat.status ||
    previous.connectedTime !== stat.connectedTime;

  let history: LiveRecord[] | undefined;
  if (!changed && readHistory && !previous.open) {
    // The schedule's periodic check: only a push newer than everything settled needs the ledger.
    history = await scope.oss.getLiveChannelHistory(channel);
    const settled = previous.settledThrough ?? -Infinity;
    if (!history.some((record) => record.startTime > settled))
      return { observation: { ...observation, historyAt: now }, reconciled: false, ended: 0 };
  } else if (!changed) {
    const open = previous.open;
    // Nothing new and nothing waiting, or still live in the open broadcast: nothing to do.
    if (!open || stat.status === 'Live')
      return { observation: { ...observation, ...(open ? { open } : {}) }, reconciled: false, ended: 0 };
    // Waiting out the reconnect window with the end known: while it runs, the state alone says
    // so. Once it seems over, History confirms (below) that no short push slipped in between
    // two ticks unseen by Stat, which would have kept the broadcast open.
    if (open.lastEnd !== undefined) {
      const state = broadcastState(
        { firstStart: open.firstStart, lastEnd: open.lastEnd, id: open.id, pushes: [], gaps: [] },
        { now, stat, reconnectWindowMs: ctx.config.reconnectWindowSeconds * 1000 },
      );
      if (state.state === 'open') return { observation: { ...observation, open }, reconciled: false, ended: 0 };
    }
  }

  // Something changed (or an open broadcast's end is unknown, or a push the schedule's History
  // read found): ask History and fold it in.
  history ??= await scope.oss.getLiveChannelHistory(channel);
  observation.historyAt = now;
  const since =
    previous?.open?.firstStart ?? (previous?.settledThrough === undefined ? undefined : previous.settledThrough + 1);
  const known = await loadPushes(
    scope,
    channel,
    since === undefined ? undefined : since - ctx.config.reconnectWindowSeconds * 1000,
  );
  const { newRecords, gap } = newPushesFromHistory(known, history);
  if (gap)
    ctx.logger.warn(
      { bucket: scope.name, channel, gap },
      'history gap: pushes between polls may be missing (more than 10 since the last poll)',
    );
  const settledThrough = observation.settledThrough;
  const unsettled = (p: Push) => settledThrough === undefined || p.startTime > settledThrough;
  // History repeats pushes of concluded broadcasts (it lists the last 10); those are recorded already.
  const fresh: Push[] = newRecords.filter(unsettled);
  const live = pushFromStat(stat);
  if (live && !known.some((k) => samePush(k, live))) fresh.push(live);
  await recordPushes(scope, channel, fresh);
  if (stat.status === 'Live') await scope.ledger.recordSeenLive(channel, now);
  else if (previous?.status === 'Live') await scope.ledger.recordSeenLive(channel, previous.observedAt);

  const pushes = mergePushes([...known, ...fresh]).filter(unsettled);
  const broadcasts = groupBroadcasts(pushes, {
    reconnectWindowMs: ctx.config.reconnectWindowSeconds * 1000,
    gaps: gap ? [gap] : [],
  });
  return settle(scope, ctx, channel, stat, previous, observation, broadcasts);
}

/** Announces starts of new broadcasts, concludes ended ones, and keeps the open one. */
async function settle(
  scope: BucketScope,
  ctx: OperationContext,
  channel: string,
  stat: StatObservation,
  previous: TrackedObservation | undefined,
  observation: TrackedObservation,
  broadcasts: readonly Broadcast[],
): Promise<ChannelOutcome> {
  let ended = 0;
  for (const broadcast of broadcasts) {
    if (broadcast.id !== previous?.open?.id) await announceStarted(scope, channel, broadcast);
    const state = broadcastState(broadcast, {
      now: ctx.clock.now(),
      stat,
      reconnectWindowMs: ctx.config.reconnectWindowSeconds * 1000,
    });
    if (state.state === 'ended') {
      await concludeBroadcast(scope, ctx, channel, broadcast, state.endedAt);
      observation.settledThrough = Math.max(
        observation.settledThrough ?? -Infinity,
        broadcast.lastEnd ?? state.endedAt,
      );
      ended++;
    } else {
      observation.open = {
        id: broadcast.id,
        firstStart: broadcast.firstStart,
        ...(broadcast.lastEnd === undefined ? {} : { lastEnd: broadcast.lastEnd }),
      };
    }
  }
  return { observation, reconciled: true, ended };
}
