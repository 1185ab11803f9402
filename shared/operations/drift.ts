/**
 * Drift between OSS, the ledger and the bucket's folders (docs/cost.md, "Drift"): the check
 * (`driftReport`), the dry run that stores a plan (`planDrift`), and `applyDriftPlan`, which
 * carries out exactly the reviewed plan's fixable items that are still true, re-checking each
 * against OSS right before acting, and records every action (and every refusal) with who asked.
 */
import type * as v from 'valibot';
import { channelSegment } from '../ledger/keys';
import type { DriftActionRecord, DriftPlan } from '../ledger/records';
import { DRIFT_PLAN_TTL_MS, driftItemToken, driftItems, driftPlanId, type DriftItem } from '../lifecycle/drift';
import { isNoSuchLiveChannel } from '../oss';
import type { BucketScope, OperationContext } from './context';
import type { DRIFT_REPORT } from '../lifecycle/cost-schema';

/** Schema: DRIFT_REPORT in cost-schema.ts. */
export type DriftReport = v.InferOutput<typeof DRIFT_REPORT>;

/** Lists OSS's channels, the ledger's channels and the bucket's top-level folders, and compares them. */
export async function driftReport(scope: BucketScope, op: OperationContext): Promise<DriftReport> {
  const ossChannels = new Set<string>();
  for await (const c of scope.oss.iterateLiveChannels({ pageSize: 1000 })) ossChannels.add(c.name);
  const tombstoned = await scope.ledger.tombstonedGenerations();
  const ledgerChannels = new Map<string, { generation: number; deleted: boolean }>();
  for await (const ref of scope.ledger.listChannels()) {
    if (ref.channel === undefined) continue;
    ledgerChannels.set(ref.channel, {
      generation: ref.generation,
      deleted: tombstoned.has(`${channelSegment(ref.channel)}/${ref.generation}`),
    });
  }
  const folders: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await scope.oss.listObjects({ delimiter: '/', continuationToken, maxKeys: 1000 });
    folders.push(...page.commonPrefixes);
    continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
  } while (continuationToken);
  const items = driftItems({
    ossChannels,
    ledgerChannels,
    folders,
    ledgerPrefix: scope.ledger.keys.prefix,
    channelPrefixes: op.config.cleanupChannelPrefixes,
  });
  return {
    bucket: scope.name,
    checkedAt: new Date(op.clock.now()).toISOString(),
    counts: { ossChannels: ossChannels.size, ledgerChannels: ledgerChannels.size, folders: folders.length },
    items,
  };
}

/** The dry run: the report, and, when something is fixable, the plan stored for `applyDriftPlan`. */
export async function planDrift(
  scope: BucketScope,
  op: OperationContext,
  by: string,
): Promise<DriftReport & { planId: string | null }> {
  const report = await driftReport(scope, op);
  const fixable = report.items.filter((i) => i.fixable);
  if (fixable.length === 0) return { ...report, planId: null };
  const createdAt = op.clock.now();
  const plan: DriftPlan = { v: 1, planId: driftPlanId(createdAt, fixable), createdAt, by, items: fixable };
  await scope.ledger.cost.putDriftPlan(plan);
  return { ...report, planId: plan.planId };
}

export class DriftPlanError extends Error {
  override name = 'DriftPlanError';
}

export interface DriftActionResult {
  itemId: string;
  action: string;
  outcome: 'applied' | 'skipped';
  detail: string;
}

/**
 * Applies plan `planId`: each of its items that drift still shows is carried out once (a
 * repeated apply finds the action recorded and does nothing); items resolved meanwhile, or whose
 * re-check fails, are skipped and recorded so. Drift found since the plan is not touched: it is
 * returned as `notInPlan`, for the next dry run.
 */
export async function applyDriftPlan(
  scope: BucketScope,
  op: OperationContext,
  input: { planId: string; by: string },
): Promise<{ planId: string; results: DriftActionResult[]; notInPlan: DriftItem[] }> {
  const plan = await scope.ledger.cost.getDriftPlan(input.planId);
  if (!plan) throw new DriftPlanError(`no drift plan ${input.planId}: run the dry run (livecycle drift) first`);
  if (op.clock.now() - plan.createdAt > DRIFT_PLAN_TTL_MS)
    throw new DriftPlanError(`drift plan ${input.planId} is older than 24 h: run the dry run again`);
  const now = (await driftReport(scope, op)).items;
  const current = new Map(now.map((i) => [i.id, i]));
  const results: DriftActionResult[] = [];
  for (const item of plan.items) {
    const token = driftItemToken(item.id);
    const done = await scope.ledger.cost.getDriftAction(plan.planId, token);
    if (done) {
      results.push({
        itemId: item.id,
        action: item.action,
        outcome: done.outcome,
        detail: `${done.detail} (recorded earlier)`,
      });
      continue;
    }
    const outcome = current.has(item.id)
      ? await carryOut(scope, op, item)
      : { outcome: 'skipped' as const, detail: 'resolved meanwhile: drift no longer shows it' };
    const record: DriftActionRecord = {
      v: 1,
      planId: plan.planId,
      itemId: item.id,
      action: item.action,
      by: input.by,
      at: op.clock.now(),
      ...outcome,
    };
    const { record: stored } = await scope.ledger.cost.recordDriftAction(record, token);
    results.push({ itemId: item.id, action: item.action, outcome: stored.outcome, detail: stored.detail });
  }
  const planned = new Set(plan.items.map((i) => i.id));
  return { planId: plan.planId, results, notInPlan: now.filter((i) => i.fixable && !planned.has(i.id)) };
}

async function channelExists(scope: BucketScope, channel: string) {
  return scope.oss.getLiveChannelInfo(channel).then(
    (info) => info,
    (err: unknown) => {
      if (isNoSuchLiveChannel(err)) return undefined;
      throw err;
    },
  );
}

/** One fixable item, re-checked against OSS and the ledger right before acting. */
async function carryOut(
  scope: BucketScope,
  op: OperationContext,
  item: DriftItem,
): Promise<{ outcome: 'applied' | 'skipped'; detail: string }> {
  const channel = item.channel as string;
  const info = await channelExists(scope, channel);
  const latest = await scope.ledger.getChannel(channel);
  const live = latest && !(await scope.ledger.getTombstone(channel, latest.generation));
  if (item.action === 'adopt') {
    if (!info) return { outcome: 'skipped', detail: 'OSS no longer has the channel' };
    if (live) return { outcome: 'skipped', detail: `the ledger has generation ${latest.generation} now` };
    const { record } = await scope.ledger.recordChannelCreated({
      channel,
      generation: op.clock.now(),
      config: {
        description: info.description,
        fragDuration: info.target.fragDuration,
        fragCount: info.target.fragCount,
        playlistName: info.target.playlistName,
        snapshots: info.snapshot !== undefined,
      },
    });
    return {
      outcome: 'applied',
      detail: `recorded generation ${record.generation}; objects written before it stay out of cleanup's reach`,
    };
  }
  if (item.action === 'record-deletion') {
    if (info) return { outcome: 'skipped', detail: 'OSS has the channel again' };
    if (!live) return { outcome: 'skipped', detail: 'the ledger has no live generation of the channel now' };
    const { record } = await scope.ledger.recordTombstone({
      channel,
      generation: latest.generation,
      deletedAt: op.clock.now(),
    });
    await scope.webhooks.emit({
      type: 'channel.deleted',
      channel,
      fact: String(record.generation),
      occurredAt: record.deletedAt,
      data: { generation: record.generation },
    });
    return {
      outcome: 'applied',
      detail: `tombstoned generation ${record.generation}; cleanup may reclaim its ingest output after ORPHAN_GRACE`,
    };
  }
  return { outcome: 'skipped', detail: `${item.action} is not carried out by drift` };
}
