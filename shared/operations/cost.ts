/**
 * Cost per channel (docs/cost.md): the report (`costReport`, served by `GET /cost`,
 * `GET /channels/{name}/cost` and `livecycle cost`), what cleanup records after its listing
 * (`recordCleanupAccounting`: storage snapshot, monthly usage rollup, budget events) and budgets.
 *
 * Figures: storage from the newest cleanup listing of each channel folder; OSS requests and FC
 * usage as counted by every invocation this month, projected to the whole month; CNY from the
 * configured price table. Nothing here lists the bucket.
 */
import type * as v from 'valibot';
import type { CleanupRunReport } from '../cleanup/report';
import type { BudgetRecord, StorageSnapshot } from '../ledger/records';
import {
  OVERHEAD,
  budgetLevels,
  cnyOf,
  emptyStorage,
  monthElapsed,
  monthOf,
  requestCounts,
  roundCny,
  type BudgetLevel,
  type ChannelUsage,
  type CnyBreakdown,
  type PriceTable,
  type StorageFigures,
  type UsageTotals,
} from '../lifecycle/cost';
import { isTransientFailure } from '../oss';
import type { BucketScope, OperationContext } from './context';
import type { CHANNEL_COST, COST_REPORT } from '../lifecycle/cost-schema';

export interface CostReportOptions {
  /** Only this channel (the totals and overhead share still count every channel). */
  channel?: string;
  /** Page: at most this many channels, by name … */
  limit?: number;
  /** … after this name. */
  after?: string;
}

/** One channel's figures (schema: CHANNEL_COST in cost-schema.ts). */
export type ChannelCost = v.InferOutput<typeof CHANNEL_COST>;
/** The report of a bucket, a page of its channels (schema: COST_REPORT in cost-schema.ts). */
export type CostReport = v.InferOutput<typeof COST_REPORT>;

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

function totalRequests(usage: ChannelUsage | undefined): number {
  return Object.values(usage?.requests ?? {}).reduce((a, b) => a + b, 0);
}

/** Budgets in force: the api's per-channel ones over COST_BUDGET_CNY. */
async function budgets(scope: BucketScope): Promise<Map<string, BudgetRecord>> {
  return new Map((await scope.ledger.cost.listBudgets()).map((b) => [b.channel, b]));
}

/** Every channel the ledger knows as not deleted, plus whatever has storage or usage. */
async function channelNames(
  scope: BucketScope,
  storage: ReadonlyMap<string, unknown>,
  usage: UsageTotals,
): Promise<string[]> {
  const names = new Set<string>([...storage.keys(), ...Object.keys(usage)]);
  names.delete(OVERHEAD);
  for await (const ref of scope.ledger.listChannels()) if (ref.channel !== undefined) names.add(ref.channel);
  return [...names].sort();
}

/** The cost report of one bucket (see CostReport; docs/cost.md has the arithmetic). */
export async function costReport(
  scope: BucketScope,
  op: OperationContext,
  opts: CostReportOptions = {},
): Promise<CostReport> {
  const now = op.clock.now();
  const prices = op.config.costPrices;
  const month = monthOf(now);
  const elapsed = monthElapsed(month, now);
  const [storage, { totals: usage }, budgetRecords] = await Promise.all([
    scope.ledger.cost.latestStorage(),
    scope.ledger.cost.monthUsage(month),
    budgets(scope),
  ]);
  const names = await channelNames(scope, storage, usage);
  const overheadUsage = usage[OVERHEAD];
  const projected = (u: ChannelUsage | undefined, bytes: number) =>
    cnyOf(
      {
        bytes,
        monthFraction: 1,
        requests: scaled(requestCounts(u?.requests ?? {}), 1 / elapsed),
        invocations: (u?.invocations ?? 0) / elapsed,
        gbSeconds: (u?.gbSeconds ?? 0) / elapsed,
      },
      prices,
    );
  const overheadCny = projected(overheadUsage, 0);
  const overheadShare = names.length ? roundCny(overheadCny.total / names.length) : 0;

  const costOf = (name: string): ChannelCost => {
    const figures = storage.get(name);
    const u = usage[name];
    const counts = requestCounts(u?.requests ?? {});
    const perMonth = projected(u, figures?.bytes ?? 0);
    const thisMonth = cnyOf(
      {
        bytes: figures?.bytes ?? 0,
        monthFraction: elapsed,
        requests: counts,
        invocations: u?.invocations ?? 0,
        gbSeconds: u?.gbSeconds ?? 0,
      },
      prices,
    );
    const record = budgetRecords.get(name);
    const budgetCny = record ? (record.cnyPerMonth ?? undefined) : op.config.costBudgetCny;
    const levels = budgetLevels(thisMonth.total, budgetCny);
    return {
      name,
      objects: figures?.objects ?? 0,
      bytes: figures?.bytes ?? 0,
      storage: (figures ?? emptyStorage()).byKind,
      listedAt: iso(figures?.listedAt),
      requestsPerMonth: Math.round(counts.total / elapsed),
      requests: { month, ...counts, byOperation: { ...(u?.requests ?? {}) } },
      compute: { invocations: round3(u?.invocations ?? 0), gbSeconds: round3(u?.gbSeconds ?? 0) },
      cnyPerMonth: { ...perMonth, overheadShare, total: roundCny(perMonth.total + overheadShare) },
      cnyThisMonth: thisMonth,
      budget:
        budgetCny === undefined
          ? null
          : {
              cnyPerMonth: budgetCny,
              source: record ? 'channel' : 'config',
              used: round3(thisMonth.total / budgetCny),
              level: levels.at(-1) ?? null,
            },
    };
  };

  const all = names.map(costOf);
  let selected = opts.channel === undefined ? all : all.filter((c) => c.name === opts.channel);
  if (opts.after !== undefined) selected = selected.filter((c) => c.name > opts.after!);
  const page = opts.limit === undefined ? selected : selected.slice(0, opts.limit);
  const more = page.length < selected.length;
  return {
    bucket: scope.name,
    month,
    generatedAt: new Date(now).toISOString(),
    monthElapsed: round3(elapsed),
    prices,
    channels: page,
    overhead: { requestsPerMonth: Math.round(totalRequests(overheadUsage) / elapsed), cnyPerMonth: overheadCny },
    totals: {
      channels: all.length,
      objects: all.reduce((a, c) => a + c.objects, 0),
      bytes: all.reduce((a, c) => a + c.bytes, 0),
      cnyPerMonth: roundCny(all.reduce((a, c) => a + c.cnyPerMonth.total, 0)),
    },
    nextCursor: more ? (page.at(-1)?.name ?? null) : null,
  };
}

function scaled(counts: { get: number; put: number; total: number }, factor: number) {
  return { get: counts.get * factor, put: counts.put * factor, total: counts.total * factor };
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Sets (or, with null, removes: the channel has no budget even when COST_BUDGET_CNY sets one)
 * a channel's monthly budget; `by` says who.
 */
export async function setBudget(
  scope: BucketScope,
  op: OperationContext,
  input: { channel: string; cnyPerMonth: number | null; by: string },
): Promise<BudgetRecord> {
  const record: BudgetRecord = { v: 1, ...input, setAt: op.clock.now() };
  await scope.ledger.cost.putBudget(record);
  return record;
}

/**
 * `channel.budget_warning` (80 %) and `channel.budget_exceeded` (100 %) for every channel whose
 * spending this month reached them. The event's fact is the month, so each is sent once per
 * channel and month however many runs (or overlapping runs) find it.
 */
export async function emitBudgetEvents(scope: BucketScope, report: CostReport): Promise<number> {
  let emitted = 0;
  for (const channel of report.channels) {
    const budget = channel.budget;
    if (!budget?.level) continue;
    for (const level of budgetLevels(channel.cnyThisMonth.total, budget.cnyPerMonth)) {
      await scope.webhooks.emit({
        type: level === 'warning' ? 'channel.budget_warning' : 'channel.budget_exceeded',
        channel: channel.name,
        fact: report.month,
        occurredAt: Date.parse(report.generatedAt),
        data: {
          month: report.month,
          budgetCny: budget.cnyPerMonth,
          spentCny: channel.cnyThisMonth.total,
          used: budget.used,
          source: budget.source,
        },
      });
      emitted++;
    }
  }
  return emitted;
}

/**
 * After a cleanup run (it holds the bucket's lease): the storage its listing saw, this month's
 * (and, early in a month, last month's) raw usage folded into a rollup, and the budget events.
 * Accounting never fails cleanup: a failure is logged and left to the next run.
 */
export async function recordCleanupAccounting(
  scope: BucketScope,
  op: OperationContext,
  input: { report: CleanupRunReport; storage: ReadonlyMap<string, StorageSnapshot['channels'][string]> },
): Promise<void> {
  const { report, storage } = input;
  const log = op.logger.child({ bucket: scope.name, runId: report.runId });
  try {
    await scope.ledger.cost.putStorageSnapshot({
      v: 1,
      runId: report.runId,
      finishedAt: report.finishedAt,
      fromStart: report.resumedFrom === undefined,
      complete: report.status === 'complete',
      channels: Object.fromEntries(storage),
    });
    const now = op.clock.now();
    // Invocations that started last month may still be recorded in the first hours of this one.
    for (const month of new Set([monthOf(now - 6 * 3_600_000), monthOf(now)]))
      await scope.ledger.cost.rollUp(month, now, report.runId, (keys) => scope.oss.deleteObjects(keys));
    await emitBudgetEvents(scope, await costReport(scope, op));
  } catch (err) {
    // Cleanup's own work is done and reported: accounting never fails it.
    if (isTransientFailure(err))
      log.warn({ err }, 'cost accounting failed transiently; the next cleanup run records it');
    else log.error({ err }, 'cost accounting failed; cleanup itself completed');
  }
}
