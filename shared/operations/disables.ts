/**
 * `channel.disabled`, derived from the disable record alone. Both disablers (disable-idle and the
 * api) record the decision before PutLiveChannelStatus(disabled) and announce after it; a run
 * killed in between leaves a disabled channel whose record was never announced. Whoever next sees
 * the channel disabled (disable-idle's scan, a repeated api disable) announces its latest record:
 * emit is idempotent per event id, so an announced one is not sent twice.
 */
import type { DisableRecord } from '../ledger';
import type { EmitInput } from '../webhooks';
import type { BucketScope } from './context';

export function disabledEvent(record: DisableRecord): EmitInput {
  return {
    type: 'channel.disabled',
    channel: record.channel,
    fact: `${record.generation}:${record.since}`,
    occurredAt: record.disabledAt,
    data: {
      reason: record.reason,
      ...(record.reason === 'idle' ? { idleSince: new Date(record.since).toISOString() } : {}),
      generation: record.generation,
    },
  };
}

/**
 * Announces the channel's latest disable decision, if it has one (a channel disabled outside
 * livecycle has none). Throws only when the ledger cannot be read or the event not recorded.
 */
export async function announceLatestDisable(scope: BucketScope, channel: string): Promise<void> {
  const record = await scope.ledger.latestDisabled(channel);
  if (record) await scope.webhooks.emit(disabledEvent(record));
}
