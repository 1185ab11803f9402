/**
 * Orchestration around broadcasts shared by poll-stat, on-snapshot and generate-vod: reading a
 * channel's pushes from the ledger, announcing broadcast starts and ends. The decisions
 * themselves are the pure functions of shared/lifecycle.
 */
import type { PushRecord } from '../ledger';
import {
  broadcastsOwedVod,
  compactUtcSeconds,
  groupBroadcasts,
  mergePushes,
  newPushesFromHistory,
  planVod,
  pushReadStarts,
  type Broadcast,
  type LiveRecord,
  type Push,
} from '../lifecycle';
import { DEFAULT_SKEW_TOLERANCE_MS } from '../lifecycle/time';
import type { BucketScope, OperationContext } from './context';
import { buildVod } from './generate-vod';

export function pushOf(record: PushRecord): Push {
  const push: Push = { startTime: record.startTime, remoteAddr: record.remoteAddr, source: record.source };
  if (record.endTime !== undefined) push.endTime = record.endTime;
  return push;
}

/** The channel's recorded push observations starting at or after `since` (all when undefined). */
export async function loadPushes(scope: BucketScope, channel: string, since?: number): Promise<Push[]> {
  return (await scope.ledger.listPushes(channel, { since: since === undefined ? undefined : Math.max(0, since) })).map(
    pushOf,
  );
}

export async function recordPushes(
  scope: BucketScope,
  channel: string,
  pushes: readonly Push[],
  generation?: number,
): Promise<void> {
  for (const push of pushes) await scope.ledger.recordPush({ channel, generation, ...push });
}

/** `stream.started`, identified by the broadcast id: poll-stat and on-snapshot may both report it. */
export async function announceStarted(
  scope: BucketScope,
  channel: string,
  broadcast: Pick<Broadcast, 'id' | 'firstStart'>,
): Promise<void> {
  await scope.webhooks.emit({
    type: 'stream.started',
    channel,
    fact: broadcast.id,
    occurredAt: broadcast.firstStart,
    data: { broadcastId: broadcast.id, startedAt: new Date(broadcast.firstStart).toISOString() },
  });
}

/** The channel's HLS fragment length: from its ledger record, else from OSS. */
export async function channelFacts(
  scope: BucketScope,
  channel: string,
): Promise<{ fragDuration: number; generation: number | undefined }> {
  const record = await scope.ledger.getChannel(channel);
  if (record) return { fragDuration: record.config.fragDuration, generation: record.generation };
  const info = await scope.oss.getLiveChannelInfo(channel);
  return { fragDuration: info.target.fragDuration, generation: undefined };
}

/**
 * A broadcast has ended: plan its VOD and record it pending (so the generate-vod sweep finds it
 * even if the invocation below is lost), announce `stream.ended`, then hand it to generate-vod.
 * Every step is idempotent, so a repeated tick repeats nothing visible.
 */
export async function concludeBroadcast(
  scope: BucketScope,
  ctx: OperationContext,
  channel: string,
  broadcast: Pick<Broadcast, 'id' | 'firstStart' | 'lastEnd' | 'pushes'>,
  endedAt: number,
): Promise<void> {
  const { fragDuration, generation } = await channelFacts(scope, channel);
  const plan = planVod({ channel, broadcast, fragDurationSeconds: fragDuration });
  await scope.ledger.recordVod({
    channel,
    broadcastId: broadcast.id,
    generation,
    status: 'pending',
    parts: plan.parts,
    ...(plan.parent ? { parent: plan.parent } : {}),
  });
  await scope.webhooks.emit({
    type: 'stream.ended',
    channel,
    fact: broadcast.id,
    occurredAt: endedAt,
    data: {
      broadcastId: broadcast.id,
      startedAt: new Date(broadcast.firstStart).toISOString(),
      endedAt: new Date(endedAt).toISOString(),
      pushes: broadcast.pushes.length,
    },
  });
  await ctx.invoker.invokeAsync(ctx.config.generateVodFunction, {
    bucket: scope.name,
    channel,
    broadcastId: broadcast.id,
  });
}

/**
 * Before a channel that is not live stops taking PostVodPlaylist — the api deletes it, or
 * disable-idle disables it (OSS may refuse PostVodPlaylist on a disabled channel: UNCONFIRMED,
 * docs/reliability.md) — every broadcast it had gets its VOD now. poll-stat may not have seen the
 * last broadcast (its polls failed) or concluded it (the reconnect window, a failed tick), and a
 * concluded VOD may still be pending (its generate-vod invocations failed). So History is folded
 * into the ledger's pushes, every broadcast still owed a VOD is announced and concluded (a forced
 * delete of a live channel ends its broadcast here), and every pending VOD is built.
 * A failure that is not a definitive refusal is thrown: the caller does not go on (the delete is
 * refused and retried by the client, the disable waits for the next run), and nothing is lost.
 *
 * `pushEndedSince`: the channel was live from this time (a forced delete disabled it). Stat says
 * "Disabled" at once while OSS drops the publisher seconds later, so until History holds that
 * push, ended, nothing is concluded and `false` is returned: the caller waits and asks again.
 * Deleting in between would lose the push's broadcast once the publisher dropped.
 */
export async function concludeAndBuildVods(
  scope: BucketScope,
  ctx: OperationContext,
  channel: string,
  pushEndedSince?: number,
): Promise<boolean> {
  const vods = await scope.ledger.listVodStatuses(channel);
  const pending = [...vods].filter(([, status]) => status === 'pending').map(([id]) => id);
  const history = await scope.oss.getLiveChannelHistory(channel);
  if (
    pushEndedSince !== undefined &&
    !history.some((r) => r.startTime >= pushEndedSince - DEFAULT_SKEW_TOLERANCE_MS && r.endTime >= r.startTime)
  )
    return false;
  for (const broadcast of broadcastsOwedVod(
    await unsettledBroadcasts(scope, ctx, channel, history, vods),
    vods,
    ctx.clock.now(),
  )) {
    // Announced as poll-stat would have (idempotent: a no-op when it did).
    await announceStarted(scope, channel, broadcast);
    await concludeBroadcast(scope, ctx, channel, broadcast, broadcast.lastEnd);
    pending.push(broadcast.id);
  }
  for (const broadcastId of pending) await buildVod(scope, ctx, channel, broadcastId);
  return true;
}

/**
 * The channel's broadcasts from the newest one with a VOD record on, History folded in (new
 * observations recorded). Older pushes are settled, and reading them would cost a GET each; the
 * starts to read from are tried as `pushReadStarts` says.
 */
async function unsettledBroadcasts(
  scope: BucketScope,
  ctx: OperationContext,
  channel: string,
  history: readonly LiveRecord[],
  vods: ReadonlyMap<string, unknown>,
): Promise<Broadcast[]> {
  const readFrom = async (since: number | undefined) => {
    const known = await loadPushes(scope, channel, since);
    const { newRecords, gap } = newPushesFromHistory(known, history);
    const fresh = newRecords.filter((p) => since === undefined || p.startTime >= since);
    const broadcasts = groupBroadcasts(mergePushes([...known, ...fresh]), {
      reconnectWindowMs: ctx.config.reconnectWindowSeconds * 1000,
      gaps: gap ? [gap] : [],
    });
    return { broadcasts, fresh };
  };
  let read: Awaited<ReturnType<typeof readFrom>> | undefined;
  for (const since of pushReadStarts(vods.keys())) {
    const candidate = await readFrom(since);
    if (candidate.broadcasts.some((b) => b.id === compactUtcSeconds(since))) {
      read = candidate;
      break;
    }
  }
  read ??= await readFrom(undefined);
  await recordPushes(scope, channel, read.fresh);
  return read.broadcasts;
}
