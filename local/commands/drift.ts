/**
 * `livecycle drift [--json] [--fix PLAN_ID]`: where OSS's channel list, the ledger and the
 * bucket's folders disagree on the running local stack, with the action that resolves each
 * (shared/operations/drift.ts; docs/cost.md, "Drift"). Reconciling needs the id of a reviewed dry run.
 */
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import type { DriftItem } from '../../shared/lifecycle/drift';
import { DriftPlanError, applyDriftPlan, planDrift } from '../../shared/operations/drift';
import { parseCommandLine, parseOptions, UsageError } from './args';
import { runOnStack } from './stack-operation';
import type { Command } from './types';

const USAGE = `Usage: livecycle drift [options]

Compares OSS's LiveChannels, the ledger and the bucket's top-level folders on the running
\`livecycle start\` stack, and lists each disagreement with the action that resolves it:

  untracked-channel  OSS has it, the ledger never saw it        adopt (record a generation)
  missing-channel    the ledger has it, OSS no longer does      record-deletion (tombstone it)
  orphan-prefix      objects, no channel, a name livecycle ran  cleanup (cleanup-orphans reclaims it)
  foreign-prefix     objects no channel livecycle knows wrote   leave (never touched)

Without --fix this is the dry run: nothing changes, and when something is fixable the plan is
stored in the ledger and its id printed. --fix PLAN_ID then carries out exactly that plan's
adopt/record-deletion items that are still true (each re-checked against OSS right before), once
each, and records every action with who asked for it. Drift found after the plan is not touched.

Options:
  --fix PLAN_ID  apply the plan a dry run printed (plans expire after 24 h)
  --by NAME      who is acting, recorded with the plan and each action (default: cli:<user>@<host>)
  --json         the report (dry run) or the actions (--fix) as JSON
  --data DIR     data directory of the running stack (default .data)
  --help         show this text

Exit codes: 0 no drift / plan applied, 1 failure or no running stack, 2 usage error,
3 drift found (dry run).`;

const BY = /^[\x21-\x7e]{1,128}$/;

function itemLine(item: DriftItem): string {
  return `  ${item.kind.padEnd(17)} ${(item.prefix ?? item.channel ?? '').padEnd(24)} → ${item.action}${item.fixable ? '' : ' (not by --fix)'}\n      ${item.detail}`;
}

export const driftCommand: Command = {
  name: 'drift',
  summary: 'drift between OSS, the ledger and the bucket (dry run; --fix PLAN_ID reconciles)',
  usage: USAGE,
  async run(argv) {
    const values = parseCommandLine(driftCommand, () => {
      const at = argv.indexOf('--fix');
      if (at >= 0 && (argv[at + 1] === undefined || argv[at + 1]!.startsWith('-')))
        throw new UsageError('--fix needs the plan id a dry run printed: run `livecycle drift` first and review it');
      const { values } = parseOptions(argv, {
        options: {
          fix: { type: 'string' },
          by: { type: 'string' },
          json: { type: 'boolean' },
          data: { type: 'string' },
        },
      });
      if (values.by !== undefined && !BY.test(values.by))
        throw new UsageError('--by must be 1-128 printable characters without spaces');
      return values;
    });
    if (values === undefined) return 2;
    const dataDir = values.data ?? join(process.cwd(), '.data');
    const by = values.by ?? `cli:${userInfo().username}@${hostname()}`;
    try {
      // cleanup-orphans' settings: its CLEANUP_CHANNEL_PREFIXES say which folders cleanup would reclaim.
      return await runOnStack({ dataDir, fn: 'cleanup-orphans', requestIdPrefix: 'drift' }, async (ctx) => {
        let code = 0;
        for (const bucket of ctx.config.buckets) {
          const scope = ctx.bucket(bucket);
          if (values.fix === undefined) {
            const report = await planDrift(scope, ctx, by);
            if (report.items.length) code = 3;
            if (values.json) {
              process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
              continue;
            }
            process.stdout.write(
              `drift in bucket ${bucket} (${report.counts.ossChannels} channels in OSS, ${report.counts.ledgerChannels} in the ledger, ${report.counts.folders} folders): ${report.items.length ? `${report.items.length} item${report.items.length === 1 ? '' : 's'}` : 'none'}\n`,
            );
            for (const item of report.items) process.stdout.write(`${itemLine(item)}\n`);
            if (report.planId)
              process.stdout.write(
                `\ndry run: nothing changed. To carry out the fixable items:\n  livecycle drift --fix ${report.planId}\n`,
              );
            continue;
          }
          const applied = await applyDriftPlan(scope, ctx, { planId: values.fix, by });
          if (values.json) {
            process.stdout.write(`${JSON.stringify(applied, null, 2)}\n`);
            continue;
          }
          process.stdout.write(`plan ${applied.planId} in bucket ${bucket}, by ${by}:\n`);
          for (const r of applied.results)
            process.stdout.write(`  ${r.outcome.padEnd(7)} ${r.action} ${r.itemId}: ${r.detail}\n`);
          if (applied.notInPlan.length)
            process.stdout.write(
              `not in the plan (run the dry run again to review): ${applied.notInPlan.map((i) => i.id).join(', ')}\n`,
            );
        }
        return code;
      });
    } catch (err) {
      process.stderr.write(`livecycle drift: ${(err as Error).message}\n`);
      return err instanceof DriftPlanError ? 2 : 1;
    }
  },
};
