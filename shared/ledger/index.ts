export { Ledger, type Recorded, type ChannelGenerationRef } from './ledger';
export {
  LedgerKeys,
  LedgerKeyError,
  ClaimSeries,
  DEFAULT_LEDGER_PREFIX,
  CHANNEL_NAME,
  BUCKET_SCOPE,
  VOD_STATUSES,
  assertChannelName,
  channelSegment,
  isToken,
  type VodStatus,
} from './keys';
export { claimNext, type Claim, type ClaimOutcome } from './claims';
export { JsonStore, LedgerCorruptError, type CreateOutcome, type LedgerObjects } from './store';
export * from './records';
