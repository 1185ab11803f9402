/**
 * disable-idle: disables enabled channels nobody has pushed to for IDLE_AFTER (from creation,
 * or from the end of the last broadcast). Cheap when nothing is idle: a channel whose creation
 * alone is recent enough costs no request beyond the listing; only candidates are checked
 * against the ledger, and a live check (GetLiveChannelStat) comes right before disabling.
 *
 * Order per channel: decide → Stat → conclude its ended broadcasts and build their pending VODs →
 * record the decision (create-once per idle period) → PutLiveChannelStatus(disabled) →
 * `channel.disabled`, derived from the record. VODs first because OSS may refuse PostVodPlaylist
 * on a disabled channel (409 LiveChannelDisabled; UNCONFIRMED): a VOD left pending would then
 * wait until someone enables the channel again. A build that fails transiently leaves the
 * channel enabled until a run builds it. A crash before
 * the status change is finished by the next run with the same decision identity. A crash after
 * it leaves a disabled channel, which no later run would decide about again: so every run also
 * announces the latest disable record of each disabled channel it has not yet confirmed (emit is
 * idempotent per event id). Confirmed channels are cached in the ledger's idle state with their
 * LastModified (PutLiveChannelStatus changes it), so in steady state that costs one GET per run;
 * a channel seen enabled leaves the cache, and a cache entry lost to last-writer-wins is only
 * checked again.
 */
import { idleDecision } from '../lifecycle';
import type { LiveChannelSummary } from '../oss';
import { concludeAndBuildVods, loadPushes } from './broadcasts';
import type { BucketScope, OperationContext } from './context';
import { announceLatestDisable, disabledEvent } from './disables';

export interface DisableResult {
  disabled: { bucket: string; channel: string; idleSince: number }[];
  checked: number;
  /** Disabled channels the cache did not confirm, whose latest disable was announced (again) this run. */
  reannounced: number;
}

/** A day: pushes that started earlier than this before the last sighting are not read. */
const LOOKBACK_MS = 24 * 3600_000;

export async function disableIdle(ctx: OperationContext): Promise<DisableResult> {
  const result: DisableResult = { disabled: [], checked: 0, reannounced: 0 };
  for (const bucket of ctx.config.buckets) {
    const scope = ctx.bucket(bucket);
    const cached = (await scope.ledger.getIdleState())?.announced ?? {};
    const announced: Record<string, number> = {};
    for await (const summary of scope.oss.iterateLiveChannels({ pageSize: 1000 })) {
      if (summary.status !== 'enabled') {
        const confirmed = await confirmAnnounced(scope, ctx, summary, cached);
        if (confirmed !== 'failed') announced[summary.name] = summary.lastModified;
        if (confirmed === 'announced') result.reannounced++;
        continue;
      }
      result.checked++;
      try {
        const idleSince = await disableIfIdle(scope, ctx, summary);
        if (idleSince !== undefined) result.disabled.push({ bucket, channel: summary.name, idleSince });
      } catch (err) {
        ctx.logger.warn({ err, bucket, channel: summary.name }, 'idle check failed; the next run retries');
      }
    }
    if (!sameEntries(cached, announced)) await scope.ledger.putIdleState({ updatedAt: ctx.clock.now(), announced });
    await scope.webhooks.drainOutbox({ maxEvents: 100 });
  }
  return result;
}

/** Whether the disabled channel's latest disable is announced: by the cache, or by announcing it now. */
async function confirmAnnounced(
  scope: BucketScope,
  ctx: OperationContext,
  summary: LiveChannelSummary,
  cached: Record<string, number>,
): Promise<'cached' | 'announced' | 'failed'> {
  if (Object.hasOwn(cached, summary.name) && cached[summary.name] === summary.lastModified) return 'cached';
  try {
    await announceLatestDisable(scope, summary.name);
    return 'announced';
  } catch (err) {
    ctx.logger.warn(
      { err, bucket: scope.name, channel: summary.name },
      'announcing a disabled channel failed; the next run retries',
    );
    return 'failed';
  }
}

function sameEntries(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

/** The latest activity the ledger knows: the last push end or the last time seen live. */
async function lastActivity(scope: BucketScope, channel: string, createdAt: number): Promise<number | undefined> {
  const seen = await scope.ledger.lastSeenLive(channel);
  const pushes = await loadPushes(scope, channel, (seen ?? createdAt) - LOOKBACK_MS);
  const times = [...(seen === undefined ? [] : [seen]), ...pushes.map((p) => p.endTime ?? p.startTime)];
  return times.length ? Math.max(...times) : undefined;
}

async function disableIfIdle(
  scope: BucketScope,
  ctx: OperationContext,
  summary: LiveChannelSummary,
): Promise<number | undefined> {
  const channel = summary.name;
  const idleAfterMs = ctx.config.idleAfterSeconds * 1000;
  const record = await scope.ledger.getChannel(channel);
  // A channel created outside livecycle has no record; its last modification is the best "created".
  const createdAt = record?.generation ?? summary.lastModified;
  const input = { status: 'enabled' as const, live: false, createdAt, now: ctx.clock.now(), idleAfterMs };
  if (!idleDecision(input).disable) return undefined;
  const byActivity = idleDecision({ ...input, lastBroadcastEnd: await lastActivity(scope, channel, createdAt) });
  if (!byActivity.disable) return undefined;

  const stat = await scope.oss.getLiveChannelStat(channel);
  const decision = idleDecision({
    ...input,
    lastBroadcastEnd: byActivity.idleSince,
    live: stat.status === 'Live',
    now: ctx.clock.now(),
  });
  if (!decision.disable) return undefined;

  try {
    await concludeAndBuildVods(scope, ctx, channel);
  } catch (err) {
    ctx.logger.warn(
      { err, bucket: scope.name, channel, idleSince: decision.idleSince },
      'idle channel not disabled: a VOD of its broadcasts could not be built; the next run retries',
    );
    return undefined;
  }
  const generation = record?.generation ?? summary.lastModified;
  const { record: disable } = await scope.ledger.recordDisabled({
    channel,
    generation,
    since: decision.idleSince,
    disabledAt: ctx.clock.now(),
    reason: 'idle',
  });
  await scope.oss.putLiveChannelStatus(channel, 'disabled');
  await scope.webhooks.emit(disabledEvent(disable));
  ctx.logger.info({ bucket: scope.name, channel, idleSince: decision.idleSince }, 'idle channel disabled');
  return decision.idleSince;
}
