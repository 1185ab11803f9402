/**
 * poll-stat: one tick of LiveChannel observation per bucket.
 *
 * Cost in steady state: ListLiveChannel pages (1000 channels each), one GetLiveChannelStat per
 * ENABLED channel, nothing for disabled ones, and the poll state read and written once per shard.
 * GetLiveChannelHistory and ledger reads happen only for a channel whose Stat changed since the
 * last tick (status or ConnectedTime), or whose broadcast is open with an end not yet known.
 *
 * Sharding (simple on purpose): a timer tick that finds more than POLL_SHARD_SIZE channels in a
 * bucket does not poll them itself; it cuts the name-sorted list into runs of POLL_SHARD_SIZE
 * and invokes poll-stat asynchronously once per run with `{bucket, marker, limit}` (ListLiveChannel's
 * exclusive marker and page size). Each shard keeps its own poll state, named after its marker;
 * a channel that moves to another shard as names are added just costs one extra History read.
 */
import { createHash } from 'node:crypto';
import type { ChannelObservation, PollState } from '../ledger';
import {
  broadcastState,
  groupBroadcasts,
  mergePushes,
  newPushesFromHistory,
  pushFromStat,
  samePush,
  type Broadcast,
  type Push,
  type StatObservation,
} from '../lifecycle';
import type { LiveChannelSummary } from '../oss';
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
  buckets: { bucket: string; shard: string; channels: number; polled: number; reconciled: number; ended: number }[];
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
export function decodePollEvent(event: Buffer, config: Pick<Config, 'buckets' | 'pollShardSize'>): ShardRequest | 'tick' | undefined {
  const parsed = jsonObject(event);
  if (!parsed) return undefined;
  if (isRunRequest(parsed)) return 'tick';
  const bucket = stringField(parsed, 'bucket');
  const marker = parsed.marker === undefined ? '' : parsed.marker;
  const limit = parsed.limit;
  if (bucket === undefined || !config.buckets.includes(bucket)) return undefined;
  if (typeof marker !== 'string' || (marker !== '' && !isChannelName(marker))) return undefined;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > config.pollShardSize) return undefined;
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
      result.buckets.push(await pollChannels(scope, ctx, 'all', channels));
    } else {
      const channels = await listRun(scope, request.marker, request.limit);
      result.buckets.push(await pollChannels(scope, ctx, shardId(request.marker), channels));
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
  for (let i = 0; i < channels.length; i += size) shards.push({ bucket, marker: i === 0 ? '' : (channels[i - 1]?.name ?? ''), limit: size });
  return shards;
}

function shardId(marker: string): string {
  return marker === '' ? 'shard-first' : `shard-${createHash('sha256').update(marker).digest('hex').slice(0, 16)}`;
}

async function pollChannels(scope: BucketScope, ctx: OperationContext, shard: string, channels: readonly LiveChannelSummary[]) {
  const before = ((await scope.ledger.getPollState(shard)) as TrackedPollState | undefined)?.channels ?? {};
  let reconciled = 0;
  let ended = 0;
  let polled = 0;
  const outcomes = await mapConcurrent(channels, ctx.config.pollConcurrency, async (summary) => {
    const previous = Object.hasOwn(before, summary.name) ? before[summary.name] : undefined;
    try {
      if (summary.status === 'enabled') polled++;
      const outcome = await pollChannel(scope, ctx, summary, previous);
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
  ctx.logger.info({ bucket: scope.name, shard, channels: channels.length, polled, reconciled, ended }, 'poll done');
  return { bucket: scope.name, shard, channels: channels.length, polled, reconciled, ended };
}

/** Whether the state differs in anything but observation times (those alone need no write). */
function materiallyChanged(before: Record<string, TrackedObservation>, after: Record<string, TrackedObservation>): boolean {
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

async function pollChannel(scope: BucketScope, ctx: OperationContext, summary: LiveChannelSummary, previous: TrackedObservation | undefined): Promise<ChannelOutcome> {
  const channel = summary.name;
  const now = ctx.clock.now();
  // A disabled channel cannot be live (OSS drops its publisher), so it costs no request.
  const stat: StatObservation = summary.status === 'disabled' ? { status: 'Disabled' } : await scope.oss.getLiveChannelStat(channel);
  const observation: TrackedObservation = { status: stat.status, observedAt: now };
  if (stat.connectedTime !== undefined) observation.connectedTime = stat.connectedTime;
  if (previous?.settledThrough !== undefined) observation.settledThrough = previous.settledThrough;
  const changed = !previous || previous.recheck === true || previous.status !== stat.status || previous.connectedTime !== stat.connectedTime;

  if (!changed) {
    const open = previous.open;
    // Nothing new and nothing waiting, or still live in the open broadcast: nothing to do.
    if (!open || stat.status === 'Live') return { observation: { ...observation, ...(open ? { open } : {}) }, reconciled: false, ended: 0 };
    // Waiting out the reconnect window with the end known: while it runs, the state alone says
    // so. Once it seems over, History confirms (below) that no short push slipped in between
    // two ticks unseen by Stat, which would have kept the broadcast open.
    if (open.lastEnd !== undefined) {
      const state = broadcastState({ firstStart: open.firstStart, lastEnd: open.lastEnd, id: open.id, pushes: [], gaps: [] }, { now, stat, reconnectWindowMs: ctx.config.reconnectWindowSeconds * 1000 });
      if (state.state === 'open') return { observation: { ...observation, open }, reconciled: false, ended: 0 };
    }
  }

  // Something changed (or an open broadcast's end is unknown): ask History and fold it in.
  const history = await scope.oss.getLiveChannelHistory(channel);
  const since = previous?.open?.firstStart ?? (previous?.settledThrough === undefined ? undefined : previous.settledThrough + 1);
  const known = await loadPushes(scope, channel, since === undefined ? undefined : since - ctx.config.reconnectWindowSeconds * 1000);
  const { newRecords, gap } = newPushesFromHistory(known, history);
  if (gap) ctx.logger.warn({ bucket: scope.name, channel, gap }, 'history gap: pushes between polls may be missing (more than 10 since the last poll)');
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
  const broadcasts = groupBroadcasts(pushes, { reconnectWindowMs: ctx.config.reconnectWindowSeconds * 1000, gaps: gap ? [gap] : [] });
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
    const state = broadcastState(broadcast, { now: ctx.clock.now(), stat, reconnectWindowMs: ctx.config.reconnectWindowSeconds * 1000 });
    if (state.state === 'ended') {
      await concludeBroadcast(scope, ctx, channel, { id: broadcast.id, firstStart: broadcast.firstStart, lastEnd: broadcast.lastEnd, pushes: broadcast.pushes.length }, state.endedAt);
      observation.settledThrough = Math.max(observation.settledThrough ?? -Infinity, broadcast.lastEnd ?? state.endedAt);
      ended++;
    } else {
      observation.open = { id: broadcast.id, firstStart: broadcast.firstStart, ...(broadcast.lastEnd === undefined ? {} : { lastEnd: broadcast.lastEnd }) };
    }
  }
  return { observation, reconciled: true, ended };
}
