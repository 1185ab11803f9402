export { cleanupOrphans, type BucketOutcome, type CleanupOptions } from './operation';
export { BucketSweep, cursorName, parseCursor, type SweepSettings, type SweepInput } from './sweep';
export { acquireLease, type LeaseRecord, type LeaseOutcome } from './lease';
export {
  ReportBuilder,
  REPORT_KEY_CAP,
  REPORT_CHANNEL_CAP,
  REPORT_ERROR_CAP,
  type CleanupCursor,
  type CleanupRunReport,
  type StopReason,
} from './report';
export { bucketHosts, channelInScope, channelOfFolder, holdScope, startAfterFolder, type HoldScope } from './selection';
