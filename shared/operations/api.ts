/**
 * The api's operations (shared/api/routes.ts `ApiOperations`). The api manages the FIRST
 * configured bucket: routes carry no bucket, and one api deployment per bucket keeps URLs simple.
 *
 * Idempotency: enable/disable converge on the status; create refuses an existing name unless
 * `replace` (a create without a name generates a fresh one, so a retried nameless create makes a
 * second channel: callers that retry send a name) — checked before the folder check
 * (`adoptExistingFolder`), so a retried create answers channel_exists, never folder_not_empty; DELETE of a channel
 * already gone finishes a half-done earlier delete (tombstone,
 * event) instead of failing; manual VODs go through the same create-once plan and builder as
 * automatic ones.
 */
import { randomInt } from 'node:crypto';
import { ApiError } from '../api/errors';
import type {
  ApiOperations,
  CreateChannelInput,
  ForceInput,
  OperationContext as ApiContext,
  VodInput,
} from '../api/routes';
import type { JsonObject } from '../api/validate';
import {
  LedgerKeyError,
  type AdoptedObjects,
  type ChannelConfigSummary,
  type ChannelRecord,
  type TombstoneRecord,
} from '../ledger';
import {
  broadcastState,
  channelLives,
  compactUtcSeconds,
  groupBroadcasts,
  mergePushes,
  planVod,
  unaccountedObjects,
  type VodPlan,
} from '../lifecycle';
import {
  OssError,
  OssValidationError,
  isNoSuchLiveChannel,
  type LiveChannelStat,
  type PutLiveChannelInput,
} from '../oss';
import type { EmitInput } from '../webhooks';
import { channelFacts, concludeBeforeDelete, loadPushes } from './broadcasts';
import {
  createOperationContext,
  sleepOnClock,
  type BucketScope,
  type FcContext,
  type Instance,
  type OperationContext,
} from './context';
import { costReport, setBudget } from './cost';
import { announceLatestDisable, disabledEvent } from './disables';
import { driftReport } from './drift';
import { buildVod } from './generate-vod';

/** OSS defaults for a channel's HLS target (reference §2). */
const DEFAULT_FRAG_DURATION = 5;
const DEFAULT_FRAG_COUNT = 3;
const DEFAULT_PLAYLIST = 'playlist.m3u8';
/** GET /channels/{name} shows broadcasts of this period. */
const BROADCAST_LOOKBACK_MS = 7 * 24 * 3600_000;
/** How often a forced DELETE re-checks whether the dropped publisher is gone. */
const LIVE_RECHECK_MS = 1_000;
const DEFAULT_PAGE = 100;
/** RFC 4648 base32 in lower case: letters and digits only, so generated names need no escaping. */
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const GENERATED_NAME_RANDOM_CHARS = 6;

/**
 * A name for a channel created without one: `ch-<compact UTC time>-<6 random base32>`, e.g.
 * `ch-20240501T120000Z-k3q7xa`. 28 characters of the channel-name alphabet; the time makes names
 * sort by creation, the 30 random bits keep names created in the same second apart.
 */
export function generateChannelName(now: number): string {
  const random = Array.from({ length: GENERATED_NAME_RANDOM_CHARS }, () => BASE32[randomInt(BASE32.length)]).join('');
  return `ch-${compactUtcSeconds(now)}-${random}`;
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** OSS and ledger failures that are the caller's doing, as the api's errors. */
function apiErrorOf(err: unknown, channel?: string): unknown {
  if (err instanceof OssError) {
    if (err.code === 'NoSuchLiveChannel')
      return new ApiError(404, 'channel_not_found', `no channel named ${channel ?? 'that'}`, 'name');
    if (err.code === 'ChannelStillLive' || err.code === 'LiveChannelStillLive')
      return new ApiError(409, 'channel_live', 'the channel is live; stop the push or use force', 'force');
    if (err.status === 400 && err.code === 'InvalidArgument')
      return new ApiError(400, 'invalid_field', err.message.replace(/\(request [^)]*\)/, '').trim());
  }
  if (err instanceof OssValidationError || err instanceof LedgerKeyError)
    return new ApiError(400, 'invalid_field', err.message);
  return err;
}

/**
 * The operations, bound to a function instance. Each call builds its invocation context from
 * the FC context the handler stores for the request (`bindInvocation`).
 */
export function apiOperations(instance: Instance, invocationOf: (ctx: ApiContext) => FcContext): ApiOperations {
  const run =
    <I extends { name?: string }>(fn: (scope: BucketScope, op: OperationContext, input: I) => Promise<JsonObject>) =>
    async (input: I, apiCtx: ApiContext): Promise<JsonObject> => {
      const op = createOperationContext(instance, invocationOf(apiCtx), apiCtx.requestId);
      const bucket = instance.config.buckets[0] as string;
      try {
        return await fn(op.bucket(bucket), op, input);
      } catch (err) {
        throw apiErrorOf(err, input.name);
      }
    };

  return {
    createChannel: run(createChannel),
    listChannels: run(async (scope, _op, input: { limit?: number; cursor?: string; name?: undefined }) => {
      const page = await scope.oss.listLiveChannels({ marker: input.cursor, maxKeys: input.limit ?? DEFAULT_PAGE });
      return {
        channels: page.channels.map((c) => ({
          name: c.name,
          description: c.description,
          status: c.status,
          lastModified: iso(c.lastModified),
          playUrl: c.playUrls[0] ?? null,
        })),
        nextCursor: page.isTruncated ? (page.nextMarker ?? null) : null,
      };
    }),
    getChannel: run(getChannel),
    createPublishUrl: run(async (scope, op, input: { name: string; expiresInSeconds?: number }) => {
      await scope.oss.getLiveChannelInfo(input.name);
      return { name: input.name, ...(await publishUrl(scope, op, input.name, input.expiresInSeconds)) };
    }),
    enableChannel: run(async (scope, op, input: { name: string }) => {
      await scope.oss.putLiveChannelStatus(input.name, 'enabled');
      await scope.ledger.wakePoll(input.name, op.clock.now());
      return { name: input.name, status: 'enabled' };
    }),
    disableChannel: run(disableChannel),
    deleteChannel: run(deleteChannel),
    createVod: run(createVod),
    holdVod: run(async (scope, _op, input: { name: string; key: string; reason?: string }) => {
      // Cleanup pins the playlist a hold names, but a hold naming no stored playlist pins the
      // whole channel (docs/cleanup.md): refuse a typo rather than pin more than was asked.
      await scope.oss.headObject(`${input.name}/${input.key}`).catch((err: unknown) => {
        throw err instanceof OssError && err.status === 404
          ? new ApiError(404, 'vod_not_found', `no VOD playlist ${input.key} in channel ${input.name}`, 'key')
          : err;
      });
      const hold = await scope.ledger.setHold({
        channel: input.name,
        holdId: input.key,
        reason: input.reason ?? 'held via api',
      });
      return { name: input.name, key: input.key, held: true, reason: hold.reason, setAt: iso(hold.setAt) };
    }),
    releaseVod: run(async (scope, _op, input: { name: string; key: string }) => {
      await scope.ledger.clearHold(input.name, input.key);
      return { name: input.name, key: input.key, held: false };
    }),
    cleanupReport: run(async (scope, _op, _input: { limit?: number; cursor?: string; name?: undefined }) => ({
      report: ((await scope.ledger.latestCleanupReport()) as JsonObject | undefined) ?? null,
    })),
    cost: run(
      async (scope, op, input: { limit?: number; cursor?: string; name?: undefined }) =>
        (await costReport(scope, op, {
          limit: input.limit ?? DEFAULT_PAGE,
          after: input.cursor,
        })) as unknown as JsonObject,
    ),
    channelCost: run(async (scope, op, input: { name: string }) => {
      const report = await costReport(scope, op, { channel: input.name });
      const cost = report.channels[0];
      if (!cost) throw new ApiError(404, 'channel_not_found', `no channel named ${input.name}`, 'name');
      return { ...report, channel: cost, channels: undefined } as unknown as JsonObject;
    }),
    setBudget: run(async (scope, op, input: { name: string; cnyPerMonth: number }) => {
      const record = await setBudget(scope, op, {
        channel: input.name,
        cnyPerMonth: input.cnyPerMonth === 0 ? null : input.cnyPerMonth,
        by: `api:${op.requestId}`,
      });
      return { name: input.name, cnyPerMonth: record.cnyPerMonth, setAt: iso(record.setAt), by: record.by };
    }),
    drift: run(
      async (scope, op, _input: { limit?: number; cursor?: string; name?: undefined }) =>
        (await driftReport(scope, op)) as unknown as JsonObject,
    ),
  };
}

async function publishUrl(scope: BucketScope, op: OperationContext, channel: string, expiresInSeconds?: number) {
  const ttl = expiresInSeconds ?? op.config.publishUrlTtlSeconds;
  // With STS credentials the URL carries the token and also stops working when the token expires.
  const url = await scope.oss.signRtmpUrl(channel, { expiresInSeconds: ttl });
  // A publish URL means a push is coming: poll the channel every tick again (adaptive polling).
  await scope.ledger.wakePoll(channel, op.clock.now());
  return { publishUrl: url, expiresAt: iso(op.clock.now() + ttl * 1000) };
}

async function createChannel(scope: BucketScope, op: OperationContext, input: CreateChannelInput): Promise<JsonObject> {
  const name = input.name ?? generateChannelName(op.clock.now());
  const snapshot = input.snapshot ?? op.config.snapshotTopic !== undefined;
  if (snapshot && !op.config.snapshotTopic)
    throw new ApiError(400, 'snapshot_not_configured', 'snapshots need SNAPSHOT_TOPIC configured', 'snapshot');
  const exists = await scope.oss.getLiveChannelInfo(name).then(
    () => true,
    (err: unknown) => {
      if (isNoSuchLiveChannel(err)) return false;
      throw err;
    },
  );
  // PutLiveChannel silently replaces an existing channel's configuration: refuse unless asked.
  if (exists && !input.replace) {
    // A create that died after PutLiveChannel and its ledger record still owes channel.created:
    // the caller's retry ends here, so announce the recorded generation (idempotent per event id).
    const record = await scope.ledger.getChannel(name);
    if (record) await scope.webhooks.emit(createdEvent(record, input.replace));
    throw new ApiError(
      409,
      'channel_exists',
      `a channel named ${name} exists; send replace: true to overwrite it`,
      'name',
    );
  }
  // A new channel's ingest writes into `<name>/`: someone else's objects there need consent.
  // (Replacing an existing channel keeps its folder, which is that channel's already.)
  const adoptedObjects = exists ? undefined : await unaccountedFolderObjects(scope, op, name);
  if (adoptedObjects && !input.adoptExistingFolder) {
    const { count, truncated, sample } = adoptedObjects;
    throw new ApiError(
      409,
      'folder_not_empty',
      `folder ${name}/ already holds ${truncated ? 'at least ' : ''}${count} object${count === 1 ? '' : 's'} livecycle did not write (e.g. ${JSON.stringify(sample.slice(0, 200))}); ` +
        'send adoptExistingFolder: true to create the channel over them (cleanup never deletes them)',
      'name',
    );
  }
  const summary: ChannelConfigSummary = {
    description: input.description ?? '',
    fragDuration: input.frag?.fragDuration ?? DEFAULT_FRAG_DURATION,
    fragCount: input.frag?.fragCount ?? DEFAULT_FRAG_COUNT,
    playlistName: input.playlistName ?? DEFAULT_PLAYLIST,
    snapshots: snapshot,
  };
  const config: PutLiveChannelInput = {
    description: summary.description,
    status: 'enabled',
    target: { fragDuration: summary.fragDuration, fragCount: summary.fragCount, playlistName: summary.playlistName },
  };
  if (snapshot && op.config.snapshotTopic) {
    config.snapshot = {
      roleName: op.config.snapshotRoleName,
      destBucket: scope.name,
      notifyTopic: op.config.snapshotTopic,
      interval: op.config.snapshotIntervalSeconds,
    };
  }
  const created = await scope.oss.putLiveChannel(name, config);
  const { record } = await scope.ledger.recordChannelCreated({
    channel: name,
    generation: op.clock.now(),
    config: summary,
    adoptedObjects,
  });
  await scope.webhooks.emit(createdEvent(record, input.replace));
  return {
    name,
    bucket: scope.name,
    generation: record.generation,
    status: 'enabled',
    ...(await publishUrl(scope, op, name)),
    playUrl: created.playUrls[0] ?? null,
    // The same shape as GET /channels/{name}: `snapshot`, as in the request (the ledger says `snapshots`).
    config: {
      description: summary.description,
      fragDuration: summary.fragDuration,
      fragCount: summary.fragCount,
      playlistName: summary.playlistName,
      snapshot: summary.snapshots,
    },
    ...(record.adoptedObjects ? { adoptedExistingFolder: { ...record.adoptedObjects } } : {}),
  };
}

/** Keys of the folder listing page that the create-time check looks at. */
const FOLDER_CHECK_KEYS = 1000;

/**
 * What `<name>/` holds that livecycle cannot account for as output of an earlier channel of the
 * name (`unaccountedObjects`), from one listing page — undefined when nothing (the usual empty
 * folder costs one request). Beyond the first page nothing is checked: cleanup's own rule (a key
 * written outside every life of the channel is never deleted) still protects whatever is there.
 */
async function unaccountedFolderObjects(
  scope: BucketScope,
  op: OperationContext,
  name: string,
): Promise<AdoptedObjects | undefined> {
  const page = await scope.oss.listObjects({ prefix: `${name}/`, maxKeys: FOLDER_CHECK_KEYS });
  if (page.objects.length === 0) return undefined;
  const [generations, tombstones] = await Promise.all([
    scope.ledger.listGenerations(name),
    scope.ledger.listChannelTombstones(name),
  ]);
  // GetLiveChannelInfo just said the channel does not exist: an earlier generation without a
  // tombstone (deleted outside livecycle) ended by now at the latest.
  const lives = channelLives({
    generations: generations.map((g) => g.generation),
    tombstones,
    missingSince: op.clock.now(),
    prefixScoped: false,
  });
  const foreign = unaccountedObjects(name, page.objects, lives);
  const first = foreign[0];
  return first && { count: foreign.length, truncated: page.isTruncated, sample: first.key };
}

/**
 * `channel.created` from the generation's record. `replaced` is the request's flag: a retry that
 * re-announces carries the same request (and a recorded event, if any, is the canonical payload).
 */
function createdEvent(record: ChannelRecord, replaced: boolean): EmitInput {
  return {
    type: 'channel.created',
    channel: record.channel,
    fact: String(record.generation),
    occurredAt: record.generation,
    data: { generation: record.generation, snapshots: record.config.snapshots, replaced },
  };
}

function deletedEvent(tombstone: TombstoneRecord): EmitInput {
  return {
    type: 'channel.deleted',
    channel: tombstone.channel,
    fact: String(tombstone.generation),
    occurredAt: tombstone.deletedAt,
    data: { generation: tombstone.generation },
  };
}

async function getChannel(scope: BucketScope, op: OperationContext, input: { name: string }): Promise<JsonObject> {
  const channel = input.name;
  const info = await scope.oss.getLiveChannelInfo(channel);
  const stat = await scope.oss.getLiveChannelStat(channel);
  const now = op.clock.now();
  const [record, pushes, vods, snapshot, holds] = await Promise.all([
    scope.ledger.getChannel(channel),
    loadPushes(scope, channel, now - BROADCAST_LOOKBACK_MS),
    scope.ledger.listVods(channel),
    scope.ledger.latestSnapshot(channel),
    scope.ledger.listHolds(channel),
  ]);
  const reconnectWindowMs = op.config.reconnectWindowSeconds * 1000;
  const broadcasts = groupBroadcasts(mergePushes(pushes), { reconnectWindowMs }).map((b) => ({
    id: b.id,
    startedAt: iso(b.firstStart),
    endedAt: iso(b.lastEnd),
    pushes: b.pushes.length,
    state: broadcastState(b, { now, stat, reconnectWindowMs }).state,
  }));
  return {
    name: channel,
    bucket: scope.name,
    generation: record?.generation ?? null,
    config: {
      description: info.description,
      status: info.status,
      fragDuration: info.target.fragDuration,
      fragCount: info.target.fragCount,
      playlistName: info.target.playlistName,
      snapshot: info.snapshot !== undefined || record?.config.snapshots === true,
    },
    live: liveStatus(stat),
    broadcasts,
    vods: vods.map((v) => ({
      broadcastId: v.broadcastId,
      status: v.status,
      playlist: v.parent?.key ?? v.parts[0]?.key ?? null,
      recordedAt: iso(v.recordedAt),
    })),
    latestSnapshot: snapshot ? { at: iso(snapshot.at), object: snapshot.objectKey ?? null } : null,
    holds: holds.map((h) => ({ key: h.holdId, reason: h.reason, until: iso(h.until) })),
  };
}

function liveStatus(stat: LiveChannelStat): JsonObject {
  return { status: stat.status, connectedAt: iso(stat.connectedTime), remoteAddr: stat.remoteAddr ?? null };
}

async function disableChannel(scope: BucketScope, op: OperationContext, input: ForceInput): Promise<JsonObject> {
  const channel = input.name;
  const info = await scope.oss.getLiveChannelInfo(channel);
  if (info.status === 'disabled') {
    // A retry of a disable that died after PutLiveChannelStatus still owes its event.
    await announceLatestDisable(scope, channel);
    return { name: channel, status: 'disabled' };
  }
  const stat = await scope.oss.getLiveChannelStat(channel);
  if (stat.status === 'Live' && !input.force)
    throw new ApiError(409, 'channel_live', 'the channel is live; send force: true to cut the publisher off', 'force');
  await disableNow(scope, op, channel);
  return { name: channel, status: 'disabled', publisherDropped: stat.status === 'Live' };
}

async function disableNow(scope: BucketScope, op: OperationContext, channel: string): Promise<void> {
  const now = op.clock.now();
  const generation = (await scope.ledger.getChannel(channel))?.generation ?? 0;
  const { record } = await scope.ledger.recordDisabled({
    channel,
    generation,
    since: now,
    disabledAt: now,
    reason: 'api',
  });
  await scope.oss.putLiveChannelStatus(channel, 'disabled');
  await scope.webhooks.emit(disabledEvent(record));
}

async function deleteChannel(scope: BucketScope, op: OperationContext, input: ForceInput): Promise<JsonObject> {
  const channel = input.name;
  const record = await scope.ledger.getChannel(channel);
  // A channel created outside livecycle has no generation; 0 stands for "unknown" in its tombstone.
  const generation = record?.generation ?? 0;
  let stat: LiveChannelStat;
  try {
    stat = await scope.oss.getLiveChannelStat(channel);
  } catch (err) {
    // Gone already: finish an earlier delete that stopped before its tombstone, else 404 — after
    // announcing the tombstone, for an earlier delete that died before its event.
    if (err instanceof OssError && err.code === 'NoSuchLiveChannel' && record) {
      const tombstone = await scope.ledger.getTombstone(channel, generation);
      if (!tombstone) return { ...(await recordDeletion(scope, op, channel, generation)), alreadyDeleted: true };
      await scope.webhooks.emit(deletedEvent(tombstone));
    }
    throw err;
  }
  const liveSince = stat.status === 'Live' ? (stat.connectedTime ?? op.clock.now()) : undefined;
  if (stat.status === 'Live') {
    if (!input.force)
      throw new ApiError(
        409,
        'channel_live',
        'the channel is live; send force=true to cut the publisher off and delete',
        'force',
      );
    await disableNow(scope, op, channel);
  }
  // After a disable OSS drops the publisher some seconds later (§5), and a publisher that just
  // left may still hold the channel for a moment: retry the delete until our deadline.
  for (;;) {
    try {
      if (
        (await scope.oss.getLiveChannelStat(channel)).status !== 'Live' &&
        (await concludeBeforeDelete(scope, op, channel, liveSince))
      ) {
        await scope.oss.deleteLiveChannel(channel);
        return recordDeletion(scope, op, channel, generation);
      }
    } catch (err) {
      if (!(err instanceof OssError && err.status === 409)) throw err;
    }
    if (op.clock.now() + LIVE_RECHECK_MS > op.deadline)
      throw new ApiError(409, 'channel_live', 'the publisher has not dropped yet; retry shortly', 'force');
    await sleepOnClock(op.clock, LIVE_RECHECK_MS);
  }
}

async function recordDeletion(
  scope: BucketScope,
  op: OperationContext,
  channel: string,
  generation: number,
): Promise<JsonObject> {
  const { record } = await scope.ledger.recordTombstone({ channel, generation, deletedAt: op.clock.now() });
  await scope.webhooks.emit(deletedEvent(record));
  return { name: channel, deleted: true, generation, deletedAt: iso(record.deletedAt) };
}

/** A manual VOD: planned like a broadcast from start to end, built by generate-vod's builder. */
async function createVod(scope: BucketScope, op: OperationContext, input: VodInput): Promise<JsonObject> {
  const channel = input.name;
  const { fragDuration, generation } = await channelFacts(scope, channel);
  const broadcastId = compactUtcSeconds(input.startMs);
  const plan = renamed(
    planVod({
      channel,
      broadcast: { id: broadcastId, firstStart: input.startMs, lastEnd: input.endMs },
      fragDurationSeconds: fragDuration,
    }),
    input.playlistName,
  );
  const { record } = await scope.ledger.recordVod({
    channel,
    broadcastId,
    generation,
    status: 'pending',
    parts: plan.parts,
    ...(plan.parent ? { parent: plan.parent } : {}),
  });
  if (JSON.stringify(record.parts) !== JSON.stringify(plan.parts) || record.parent?.key !== plan.parent?.key) {
    throw new ApiError(
      409,
      'vod_exists',
      `a different VOD starting at ${iso(input.startMs)} exists (${broadcastId})`,
      'start',
    );
  }
  const outcome = await buildVod(scope, op, channel, broadcastId);
  const vod = await scope.ledger.getVod(channel, broadcastId);
  if (outcome === 'failed' || outcome === 'already-failed') {
    throw new ApiError(422, 'vod_failed', vod?.error ?? 'no fragment of the channel lies in the range', 'start');
  }
  return {
    name: channel,
    broadcastId,
    status: vod?.status ?? 'pending',
    playlist: plan.parent?.key ?? plan.parts[0]?.key ?? null,
    parts: plan.parts.map((p) => ({ key: p.key, startTime: p.range.startTime, endTime: p.range.endTime })),
  };
}

/** A caller-chosen playlist name replaces the name viewers open: the single part's, or the parent's. */
function renamed(plan: VodPlan, playlistName: string | undefined): VodPlan {
  if (!playlistName) return plan;
  const key = `${plan.channel}/${playlistName}`;
  if (plan.parent) return { ...plan, parent: { playlistName, key } };
  return { ...plan, parts: plan.parts.map((p) => ({ ...p, playlistName, key })) };
}
