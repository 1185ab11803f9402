/**
 * on-snapshot: a LiveChannel snapshot proves the channel is live at that moment. Each notice
 * records the snapshot (create-once per channel and time: a redelivered message, or the same
 * object reported twice, stops there) and "seen live at". A snapshot from a channel believed
 * idle (not seen live within the reconnect window) asks Stat for the push and announces its
 * broadcast's start — the broadcast id comes from the same pure grouping poll-stat uses, so
 * both report the same `stream.started` event.
 *
 * Nothing is written for a notice whose time is not within MAX_REPORTED_TIME_SKEW_MS of now (a
 * snapshot "seen live" in 2286 would keep its channel from ever being disabled) or whose channel
 * does not exist in OSS — a forged notice, or one of a channel deleted since. That check is one
 * GetLiveChannelStat per notice, whose answer the idle-channel path below reuses; the ledger
 * would need a LIST and would not know channels created outside livecycle. Such notices are
 * logged and acknowledged.
 */
import { MAX_REPORTED_TIME_SKEW_MS, groupBroadcasts, mergePushes, pushFromStat, withinSkew } from '../lifecycle';
import { isNoSuchLiveChannel, isTransientFailure } from '../oss';
import { announceStarted, loadPushes, recordPushes } from './broadcasts';
import type { BucketScope, OperationContext } from './context';
import { decodeSnapshotEvent, type SnapshotNotice } from './snapshot-message';

export interface SnapshotResult {
  messageId?: string;
  recorded: number;
  duplicates: number;
  started: number;
  skipped: string[];
}

/** Pushes that began this long before a live push are read to find its broadcast's start. */
const LOOKBACK_MS = 24 * 3600_000;

/**
 * Never throws for what the event contains; only a transient OSS failure is thrown, so MNS
 * redelivers the message (everything recorded so far is create-once, a redelivery repeats nothing).
 */
export async function onSnapshot(ctx: OperationContext, event: Buffer): Promise<SnapshotResult> {
  const decoded = decodeSnapshotEvent(event);
  const result: SnapshotResult = {
    messageId: decoded.messageId,
    recorded: 0,
    duplicates: 0,
    started: 0,
    skipped: [...decoded.skipped],
  };
  for (const notice of decoded.notices) {
    if (!ctx.config.buckets.includes(notice.bucket)) {
      result.skipped.push(`bucket ${notice.bucket} is not managed here`);
      continue;
    }
    if (!withinSkew(notice.at, ctx.clock.now())) {
      result.skipped.push(
        `${notice.channel}: snapshot time ${new Date(notice.at).toISOString()} is more than ${MAX_REPORTED_TIME_SKEW_MS / 60_000} min from now`,
      );
      continue;
    }
    try {
      const outcome = await recordNotice(ctx.bucket(notice.bucket), ctx, notice);
      if (outcome === 'no-such-channel') {
        result.skipped.push(`${notice.channel}: no such channel`);
        continue;
      }
      if (outcome === 'duplicate') result.duplicates++;
      else result.recorded++;
      if (outcome === 'started') result.started++;
    } catch (err) {
      if (isTransientFailure(err)) throw err;
      ctx.logger.warn({ err, bucket: notice.bucket, channel: notice.channel }, 'snapshot notice not recorded');
      result.skipped.push(`${notice.channel}: ${err instanceof Error ? err.name : 'error'}`);
    }
  }
  if (result.skipped.length)
    ctx.logger.warn(
      { messageId: decoded.messageId, skipped: result.skipped.slice(0, 10) },
      'snapshot message (partly) skipped',
    );
  return result;
}

async function recordNotice(
  scope: BucketScope,
  ctx: OperationContext,
  notice: SnapshotNotice,
): Promise<'no-such-channel' | 'duplicate' | 'recorded' | 'started'> {
  const { channel, at } = notice;
  const stat = await scope.oss.getLiveChannelStat(channel).catch((err: unknown) => {
    if (isNoSuchLiveChannel(err)) return undefined;
    throw err;
  });
  if (!stat) return 'no-such-channel';
  const seenBefore = await scope.ledger.lastSeenLive(channel);
  const outcome = await scope.ledger.recordSnapshot({
    channel,
    at,
    bucket: notice.bucket,
    objectKey: notice.objectKey,
  });
  if (outcome === 'exists') return 'duplicate';
  await scope.ledger.recordSeenLive(channel, at);
  const windowMs = ctx.config.reconnectWindowSeconds * 1000;
  if (seenBefore !== undefined && at - seenBefore < windowMs) return 'recorded';
  // Live after a quiet spell: poll-stat may have backed this channel off; poll it every tick again.
  await scope.ledger.wakePoll(channel, at);

  const live = pushFromStat(stat);
  if (!live) return 'recorded'; // the push is already over; poll-stat reconciles from History
  const known = await loadPushes(scope, channel, live.startTime - LOOKBACK_MS);
  await recordPushes(scope, channel, [live]);
  const broadcasts = groupBroadcasts(mergePushes([...known, live]), { reconnectWindowMs: windowMs });
  const current = broadcasts.at(-1);
  if (!current) return 'recorded';
  await announceStarted(scope, channel, current);
  return 'started';
}
