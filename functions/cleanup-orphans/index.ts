/**
 * Timer-triggered (hourly): removes what deleted channels left behind and VOD playlists past
 * retention. Dry run by default; see docs/cleanup.md.
 */
import { cleanupOrphans } from '../../shared/cleanup';
import { isRunRequest, isTimerEvent, jsonObject } from '../../shared/operations/events';
import { functionHandler } from '../../shared/operations/handler';

export const handler = functionHandler('cleanup-orphans', async (event, ctx) => {
  // A timer event, or `{}` from a manual invoke: both mean "run now". Anything else is bad input:
  // acknowledged without a run (a run per garbage event would cost a whole sweep).
  const trigger = jsonObject(event);
  if (!trigger || !isRunRequest(trigger)) {
    ctx.logger.warn('cleanup-orphans: unrecognised payload; acknowledged without work');
    return { ignored: true };
  }
  if (isTimerEvent(trigger))
    ctx.logger.info({ triggerName: trigger.triggerName, triggerTime: trigger.triggerTime }, 'cleanup-orphans: timer');
  const outcomes = await cleanupOrphans(ctx);
  return {
    buckets: outcomes.map((o) =>
      o.status === 'skipped'
        ? { bucket: o.bucket, status: o.status, reason: o.reason }
        : {
            bucket: o.bucket,
            status: o.status,
            runId: o.report.runId,
            dryRun: o.report.dryRun,
            stoppedBy: o.report.stoppedBy ?? null,
            totals: o.report.totals,
          },
    ),
  };
});
