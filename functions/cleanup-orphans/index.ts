/**
 * Timer-triggered (hourly): removes what deleted channels left behind and VOD playlists past
 * retention. Dry run by default; see docs/cleanup.md.
 */
import { cleanupOrphans } from '../../shared/cleanup';
import { isTimerEvent, jsonObject } from '../../shared/operations/events';
import { functionHandler } from '../../shared/operations/handler';

export const handler = functionHandler('cleanup-orphans', async (event, ctx) => {
  // A timer event, or a manual invoke with any JSON object (`s invoke`, the CLI): both just mean "run now".
  const trigger = jsonObject(event);
  if (!trigger) {
    ctx.logger.warn('cleanup-orphans: event is not a JSON object; running anyway');
  } else if (isTimerEvent(trigger)) {
    ctx.logger.info({ triggerName: trigger.triggerName, triggerTime: trigger.triggerTime }, 'cleanup-orphans: timer');
  }
  const outcomes = await cleanupOrphans(ctx);
  return {
    buckets: outcomes.map((o) =>
      o.status === 'skipped'
        ? { bucket: o.bucket, status: o.status, reason: o.reason }
        : { bucket: o.bucket, status: o.status, runId: o.report.runId, dryRun: o.report.dryRun, stoppedBy: o.report.stoppedBy ?? null, totals: o.report.totals },
    ),
  };
});
