/**
 * `livecycle cost [--json] [--now]`: cost per channel of the running local stack's bucket
 * (shared/operations/cost.ts; docs/cost.md), as a table or as the api's JSON.
 */
import { join } from 'node:path';
import { cleanupOrphans } from '../../shared/cleanup';
import { costReport, type CostReport } from '../../shared/operations/cost';
import { parseCommandLine, parseOptions } from './args';
import { formatBytes } from '../../shared/format';
import { runOnStack } from './stack-operation';
import type { Command } from './types';

const USAGE = `Usage: livecycle cost [options]

Cost per channel per month in CNY on the running \`livecycle start\` stack: objects and bytes
under each channel's folder (as cleanup-orphans last listed them), the OSS requests livecycle
made for it this month (counted per operation, projected to the month), its share of Function
Compute invocations and GB-seconds, and the estimate from the price table (docs/cost.md).

Options:
  --now         list the bucket first (a cleanup-orphans dry run, which deletes nothing), so the
                storage figures are current
  --json        the report as GET /cost answers it
  --data DIR    data directory of the running stack (default .data)
  --help        show this text

Exit codes: 0 printed, 1 no running stack or a failure, 2 usage error.`;

const cny = (n: number) => n.toFixed(4);

export function formatCost(report: CostReport): string {
  const header = [
    'channel',
    'objects',
    'bytes',
    'req/month',
    'storage',
    'requests',
    'compute',
    'shared',
    'CNY/month',
    'budget',
  ];
  const rows = report.channels.map((c) => [
    c.name,
    String(c.objects),
    formatBytes(c.bytes),
    String(c.requestsPerMonth),
    cny(c.cnyPerMonth.storage),
    cny(c.cnyPerMonth.requests),
    cny(c.cnyPerMonth.compute),
    cny(c.cnyPerMonth.overheadShare),
    cny(c.cnyPerMonth.total),
    c.budget
      ? `${Math.round(c.budget.used * 100)} % of ${c.budget.cnyPerMonth}${c.budget.level ? ` (${c.budget.level})` : ''}`
      : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const { prices } = report;
  const listed = report.channels
    .map((c) => c.listedAt)
    .filter((t): t is string => t !== null)
    .sort()[0];
  return [
    `cost per channel, bucket ${report.bucket}, ${report.month} (${(report.monthElapsed * 100).toFixed(1)} % of the month passed)`,
    `prices: ${prices.region}, as of ${prices.asOf} — ${prices.source}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    `overhead (bucket-wide, shared evenly): ${report.overhead.requestsPerMonth} requests/month, ${cny(report.overhead.cnyPerMonth.total)} CNY/month`,
    `total: ${report.totals.channels} channels, ${report.totals.objects} objects, ${formatBytes(report.totals.bytes)}, ${cny(report.totals.cnyPerMonth)} CNY/month`,
    listed
      ? `storage as cleanup-orphans listed it (oldest figure ${listed}); --now lists the bucket first`
      : 'no storage figures yet: cleanup-orphans has not listed the bucket; --now lists it',
  ].join('\n');
}

export const costCommand: Command = {
  name: 'cost',
  summary: 'cost per channel per month (storage, counted OSS requests, FC share) in CNY',
  usage: USAGE,
  async run(argv) {
    const values = parseCommandLine(costCommand, () => {
      const { values } = parseOptions(argv, {
        options: { now: { type: 'boolean' }, json: { type: 'boolean' }, data: { type: 'string' } },
      });
      return values;
    });
    if (values === undefined) return 2;
    const dataDir = values.data ?? join(process.cwd(), '.data');
    try {
      // cleanup-orphans' settings: its scope decides which folders are listed, and it emits budget events.
      return await runOnStack(
        { dataDir, fn: 'cleanup-orphans', env: { DRY_RUN: 'true' }, requestIdPrefix: 'cost' },
        async (ctx) => {
          if (values.now) {
            for (const outcome of await cleanupOrphans(ctx, { settings: { dryRun: true } })) {
              if (outcome.status === 'skipped') {
                process.stderr.write(
                  `livecycle cost: ${outcome.bucket}: a cleanup run (${outcome.heldBy}) holds the lease; its listing is the one to wait for — try again when it finishes\n`,
                );
                return 1;
              }
            }
          }
          for (const bucket of ctx.config.buckets) {
            const report = await costReport(ctx.bucket(bucket), ctx);
            process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : formatCost(report)}\n`);
          }
          return 0;
        },
      );
    } catch (err) {
      process.stderr.write(`livecycle cost: ${(err as Error).message}\n`);
      return 1;
    }
  },
};
