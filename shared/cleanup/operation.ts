/**
 * The cleanup-orphans operation: for each configured bucket, take the bucket's cleanup lease,
 * sweep (BucketSweep), store the report in the ledger and emit `cleanup.completed`.
 */
import type { CleanupRunReport } from './report';
import type { OperationContext } from '../operations/context';
import type { Ledger } from '../ledger/ledger';
import type { Logger } from '../log';
import type { EmitInput } from '../webhooks';
import { acquireLease } from './lease';
import { isTransientFailure } from '../oss';
import { BucketSweep, type SweepSettings } from './sweep';
import { recordCleanupAccounting } from '../operations/cost';

/** Time kept back from the invocation's deadline for the report, the webhook and the lease. */
const MAX_WRAP_UP_MS = 30_000;
/** A lease outlives the deadline by this much: FC kills the invocation a little after it. */
const LEASE_SLACK_MS = 60_000;

export type BucketOutcome =
  | { bucket: string; status: 'complete' | 'partial'; report: CleanupRunReport }
  | { bucket: string; status: 'skipped'; reason: 'another-run-holds-the-lease'; heldBy: string };

export interface CleanupOptions {
  /** Overrides for tests and the CLI; by default from the context's config. */
  settings?: Partial<SweepSettings>;
  pageSize?: number;
}

/** Run ids go into ledger keys: FC request ids already fit, anything else is made to. */
function runIdOf(requestId: string, startedAt: number): string {
  const cleaned = requestId.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 100);
  return cleaned && cleaned !== '.' && cleaned !== '..' ? cleaned : `run-${startedAt}`;
}

/** `cleanup.completed` for a stored report: the event is derived from the report, never from run state. */
function completedEvent(report: CleanupRunReport): EmitInput {
  const { totals } = report;
  return {
    type: 'cleanup.completed',
    channel: null,
    fact: report.runId,
    occurredAt: report.finishedAt,
    data: {
      runId: report.runId,
      status: report.status,
      dryRun: report.dryRun,
      candidates: totals.candidates,
      deleted: totals.deleted,
      bytes: totals.bytes,
    },
  };
}

/**
 * A run killed between storing its report and emitting its event would lose the event: each run
 * first (re-)emits it for the newest stored report. Emit is idempotent per event id (fact = run
 * id), so when it was delivered this costs the report lookup and one GET. A transient failure here
 * is logged and left to the next run; it does not stop the sweep.
 */
async function emitLatestReport(
  ledger: Ledger,
  webhooks: { emit(input: EmitInput): Promise<unknown> },
  log: Logger,
): Promise<void> {
  try {
    const latest = (await ledger.latestCleanupReport()) as CleanupRunReport | undefined;
    if (!latest || typeof latest.runId !== 'string' || typeof latest.finishedAt !== 'number' || !latest.totals) return;
    await webhooks.emit(completedEvent(latest));
  } catch (err) {
    if (!isTransientFailure(err)) throw err;
    log.warn({ err }, 'cleanup: could not re-emit cleanup.completed for the latest report; the next run tries again');
  }
}

export async function cleanupOrphans(ctx: OperationContext, options: CleanupOptions = {}): Promise<BucketOutcome[]> {
  const { config, clock } = ctx;
  const settings: SweepSettings = {
    dryRun: config.dryRun,
    graceMs: config.orphanGraceSeconds * 1000,
    retentionDays: config.vodRetentionDays,
    maxObjects: config.cleanupMaxObjects,
    maxBytes: config.cleanupMaxBytes,
    channelPrefixes: config.cleanupChannelPrefixes,
    endpoint: config.ossEndpoint,
    ...options.settings,
  };
  const startedAt = clock.now();
  const runId = runIdOf(ctx.requestId, startedAt);
  const stopAt = ctx.deadline - Math.min(MAX_WRAP_UP_MS, Math.max(0, ctx.deadline - startedAt) * 0.2);
  const outcomes: BucketOutcome[] = [];
  for (const name of config.buckets) {
    const { oss, ledger, webhooks } = ctx.bucket(name);
    const log = ctx.logger.child({ bucket: name, runId });
    const lease = await acquireLease(oss, ledger.keys.prefix, {
      runId,
      now: clock.now(),
      expiresAt: ctx.deadline + LEASE_SLACK_MS,
    });
    if (!lease.acquired) {
      log.info(
        { heldBy: lease.heldBy.runId, until: lease.heldBy.expiresAt },
        'cleanup skipped: another run holds the lease',
      );
      outcomes.push({
        bucket: name,
        status: 'skipped',
        reason: 'another-run-holds-the-lease',
        heldBy: lease.heldBy.runId,
      });
      continue;
    }
    try {
      await emitLatestReport(ledger, webhooks, log);
      const sweep = await BucketSweep.prepare({
        bucket: oss,
        ledger,
        settings,
        runId,
        stopAt,
        logger: ctx.logger,
        pageSize: options.pageSize,
      });
      const report = await sweep.run();
      // The sweep has already saved (or cleared) its cursor: a failure from here on loses no progress.
      await ledger.putCleanupReport(report);
      // Should the run die before this emit, the next run emits it from the stored report.
      await webhooks.emit(completedEvent(report));
      await recordCleanupAccounting(ctx.bucket(name), ctx, { report, storage: sweep.storage });
      const { totals } = report;
      log.info(
        {
          status: report.status,
          stoppedBy: report.stoppedBy,
          dryRun: report.dryRun,
          candidates: totals.candidates,
          deleted: totals.deleted,
          bytes: totals.bytes,
          folderErrors: totals.folderErrors,
        },
        'cleanup finished',
      );
      outcomes.push({ bucket: name, status: report.status, report });
    } finally {
      await lease.release();
    }
  }
  return outcomes;
}
