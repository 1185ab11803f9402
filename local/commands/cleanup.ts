/**
 * `livecycle cleanup --plan`: runs the cleanup-orphans operation (shared/cleanup) as a dry run
 * against the running local stack, with cleanup-orphans' own s.yaml settings, and prints its
 * report for people: per channel what would be deleted and what is kept, and why.
 */
import { join } from 'node:path';
import { cleanupOrphans, type CleanupRunReport } from '../../shared/cleanup';
import { formatBytes } from '../../shared/format';
import { parseCommandLine, parseOptions, UsageError, wholeNumberOption } from './args';
import { runOnStack } from './stack-operation';
import type { Command } from './types';

const CLEANUP_FUNCTION = 'cleanup-orphans';

const USAGE = `Usage: livecycle cleanup --plan [options]

Runs cleanup-orphans as a dry run (DRY_RUN=true, whatever s.yaml says) against the running
\`livecycle start\` stack and prints what it would delete: per channel folder, the candidate
fragments and their bytes, and what is kept with the reason. Nothing is deleted. Like every
dry run, the report is stored in the ledger (GET /cleanup/report serves the latest); no webhook
is sent. Settings are cleanup-orphans' own from s.yaml (ORPHAN_GRACE, VOD_RETENTION_DAYS,
CLEANUP_MAX_*), on the stack's clock.

Options:
  --plan            required: print the dry-run plan (real runs are the hourly timer's job,
                    or \`livecycle invoke cleanup-orphans\`)
  --data DIR        data directory of the running stack (default .data)
  --grace SECONDS   ORPHAN_GRACE for this plan instead of s.yaml's
  --json            the report as stored (JSON) instead of the text
  --help            show this text

Exit codes: 0 planned, 1 no running stack or the run failed, 2 usage error.`;

const REASONS: Record<string, string> = {
  'channel-exists': 'channel exists',
  'channel-live': 'channel live',
  referenced: 'in a playlist',
  'within-grace': 'younger than the grace period',
  'channel-recently-gone': 'channel gone for less than the grace period',
  held: 'held',
  'unreadable-playlist': 'a playlist could not be read',
  'not-ingest-output': 'not ingest output',
  'channel-changed-mid-run': 'channel changed during the run',
};

function keptText(kept: Record<string, number>): string {
  const parts = Object.entries(kept).map(([reason, n]) => `${n} ${REASONS[reason] ?? reason}`);
  return parts.length ? parts.join(', ') : 'nothing';
}

export function formatPlan(report: CleanupRunReport): string {
  const { totals, settings } = report;
  const lines = [
    `cleanup plan for bucket ${report.bucket} (dry run ${report.runId}, ${report.status}${report.stoppedBy ? `, stopped by ${report.stoppedBy}` : ''})`,
    `settings: grace ${String(settings.graceSeconds)} s, VOD retention ${Number(settings.retentionDays) ? `${String(settings.retentionDays)} days` : 'forever'}, budget ${String(settings.maxObjects)} objects / ${formatBytes(Number(settings.maxBytes))}`,
    '',
  ];
  if (report.channels.length === 0) lines.push('no channel folders in scope');
  for (const c of report.channels) {
    lines.push(`${c.channel}/  (${c.state})`);
    lines.push(
      `  would delete: ${c.candidates} objects, ${formatBytes(c.bytes)}${c.expiredPlaylists ? ` (${c.expiredPlaylists} expired VOD playlists)` : ''}`,
    );
    lines.push(`  kept: ${keptText(c.kept)}`);
    if (c.unreadablePlaylists.length)
      lines.push(`  unreadable playlists (they pin the channel): ${c.unreadablePlaylists.join(', ')}`);
  }
  if (report.channelsOmitted) lines.push(`… and ${report.channelsOmitted} more channel folders (in the totals)`);
  lines.push('');
  lines.push(
    `total: would delete ${totals.candidates} objects, ${formatBytes(totals.bytes)}; kept ${keptText(totals.kept)}; ${totals.foldersOutOfScope} folder${totals.foldersOutOfScope === 1 ? '' : 's'} out of scope`,
  );
  if (totals.foldersOutOfScope) {
    const more = totals.foldersOutOfScope - report.foldersOutOfScope.length;
    lines.push(
      `out of scope (never touched): ${report.foldersOutOfScope.join(', ')}${more > 0 ? ` and ${more} more` : ''}`,
    );
  }
  if (report.keys.count) {
    lines.push(
      `candidates${report.keys.truncated ? ` (first ${report.keys.listed.length} of ${report.keys.count})` : ''}:`,
    );
    for (const key of report.keys.listed) lines.push(`  ${key}`);
  }
  return lines.join('\n');
}

export const cleanupCommand: Command = {
  name: 'cleanup',
  summary: 'cleanup --plan: what cleanup-orphans would delete (dry run) on the running stack',
  usage: USAGE,
  async run(argv) {
    const values = parseCommandLine(cleanupCommand, () => {
      const { values } = parseOptions(argv, {
        options: {
          plan: { type: 'boolean' },
          data: { type: 'string' },
          grace: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
      if (!values.plan) throw new UsageError('--plan is required (the only mode: a dry run that deletes nothing)');
      // Checked only: ORPHAN_GRACE gets the text as given.
      wholeNumberOption('grace', values.grace, Infinity, 'whole seconds');
      return values;
    });
    if (values === undefined) return 2;
    const dataDir = values.data ?? join(process.cwd(), '.data');
    try {
      // Secrets and webhooks are not the plan's business.
      const env = {
        DRY_RUN: 'true',
        WEBHOOK_URL: '',
        WEBHOOK_SECRETS: '',
        ...(values.grace === undefined ? {} : { ORPHAN_GRACE: values.grace }),
      };
      return await runOnStack({ dataDir, fn: CLEANUP_FUNCTION, env, requestIdPrefix: 'plan' }, async (ctx, stack) => {
        process.stderr.write(
          `planning cleanup of ${stack.buckets.join(', ')} on the stack at ${stack.emulatorUrl} (dry run)…\n`,
        );
        const outcomes = await cleanupOrphans(ctx, { settings: { dryRun: true } });
        for (const outcome of outcomes) {
          if (outcome.status === 'skipped') {
            process.stderr.write(
              `livecycle cleanup: ${outcome.bucket}: another cleanup run (${outcome.heldBy}) holds the lease; try again when it finishes\n`,
            );
            return 1;
          }
          process.stdout.write(
            `${values.json ? JSON.stringify(outcome.report, null, 2) : formatPlan(outcome.report)}\n`,
          );
        }
        return 0;
      });
    } catch (err) {
      process.stderr.write(`livecycle cleanup: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
