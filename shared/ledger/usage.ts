/**
 * The cost records of one bucket's ledger (docs/cost.md): counted usage per instance batch and the
 * monthly running totals cleanup folds it into, storage snapshots, budgets, drift plans and the
 * drift actions carried out. Same rules as the rest of the ledger: facts are created once.
 */
import { foldUsage, mergeUsage, type UsageTotals } from '../lifecycle/cost';
import type { LedgerKeys } from './keys';
import type {
  BudgetRecord,
  DriftActionRecord,
  DriftPlan,
  StorageSnapshot,
  UsageBatchRecord,
  UsageRecord,
  UsageRollup,
} from './records';
import { mapConcurrent } from '../concurrency';
import { JsonStore, LedgerCorruptError, type CreateOutcome, type LedgerObjects } from './store';

/** Raw usage records read at once when totalling a month. */
const READ_CONCURRENCY = 16;

export class CostLedger {
  private readonly store: JsonStore;

  constructor(
    objects: LedgerObjects,
    readonly keys: LedgerKeys,
  ) {
    this.store = new JsonStore(objects);
  }

  /** One instance's batch of usage; create-once, so a retried write counts it once. */
  recordUsage(record: UsageBatchRecord): Promise<unknown> {
    return this.store.createOnce(
      this.keys.usageRawRecord(record.month, record.startedAt, record.function, record.batchId),
      record,
    );
  }

  /**
   * A month's usage so far: the newest rollup plus every raw record it does not hold. The raw
   * records are listed BEFORE the rollup is read: a rollup written in between already holds
   * whatever its writer deletes afterwards, so nothing is counted twice or missed. `counted`: the
   * raw keys now in `totals` (an unreadable object, not one livecycle wrote, is neither counted
   * nor ever deleted).
   */
  async monthUsage(month: string): Promise<{ totals: UsageTotals; rollup?: UsageRollup; counted: string[] }> {
    const rawKeys: string[] = [];
    for await (const key of this.store.keys(this.keys.usageRaw(month))) rawKeys.push(key);
    const rollupKey = await this.store.firstKey(this.keys.usageRollups(month));
    const rollup = rollupKey === undefined ? undefined : await this.store.read<UsageRollup>(rollupKey);
    const folded = new Set(rollup?.folded ?? []);
    const fresh = rawKeys.filter((k) => !folded.has(k));
    const records = await mapConcurrent(fresh, READ_CONCURRENCY, (key) =>
      this.store.read<UsageRecord>(key).catch((err: unknown) => {
        if (err instanceof LedgerCorruptError) return undefined;
        throw err;
      }),
    );
    const totals = mergeUsage({}, rollup?.totals ?? {});
    for (const record of records)
      if (record?.v === 2) mergeUsage(totals, record.totals);
      else if (record) foldUsage(totals, [record]);
    const counted = [...rawKeys.filter((k) => folded.has(k)), ...fresh.filter((_, i) => records[i] !== undefined)];
    return { totals, rollup, counted };
  }

  /**
   * Folds the month's raw records into the next rollup, then deletes them (cleanup, under its
   * lease). A raw record whose delete fails stays in the next rollup's `folded`, so it is never
   * counted twice. Should another writer have taken the rollup's number, nothing is deleted.
   */
  async rollUp(
    month: string,
    at: number,
    runId: string,
    deleteKeys: (keys: string[]) => Promise<unknown>,
  ): Promise<void> {
    const { totals, rollup: previous, counted: rawKeys } = await this.monthUsage(month);
    if (rawKeys.length === 0) return;
    const sequence = (previous?.sequence ?? 0) + 1;
    const rollup: UsageRollup = { v: 1, month, sequence, runId, at, totals, folded: rawKeys };
    if ((await this.store.createOnce(this.keys.usageRollup(month, sequence), rollup)) === 'created')
      await deleteKeys(rawKeys);
  }

  putStorageSnapshot(snapshot: StorageSnapshot): Promise<unknown> {
    return this.store.createOnce(this.keys.storageSnapshot(snapshot.finishedAt, snapshot.runId), snapshot);
  }

  /**
   * Each channel folder's newest figures: snapshots newest first, each folder's first appearance,
   * back to the newest run that listed every folder (older ones add nothing that run did not see).
   */
  async latestStorage(): Promise<Map<string, StorageSnapshot['channels'][string]>> {
    const out = new Map<string, StorageSnapshot['channels'][string]>();
    for await (const key of this.store.keys(this.keys.storageSnapshots())) {
      const snapshot = await this.store.read<StorageSnapshot>(key);
      if (!snapshot) continue;
      for (const [channel, figures] of Object.entries(snapshot.channels))
        if (!out.has(channel)) out.set(channel, figures);
      if (snapshot.fromStart && snapshot.complete) break;
    }
    return out;
  }

  /** Every budget set through the api (a key listing, then one GET per budget). */
  async listBudgets(): Promise<BudgetRecord[]> {
    const out: BudgetRecord[] = [];
    for await (const key of this.store.keys(`${this.keys.prefix}budgets/`)) {
      const record = await this.store.read<BudgetRecord>(key);
      if (record) out.push(record);
    }
    return out;
  }

  getBudget(channel: string): Promise<BudgetRecord | undefined> {
    return this.store.read<BudgetRecord>(this.keys.budget(channel));
  }

  /** Last-writer-wins: a budget is a setting, the latest one asked for applies. */
  putBudget(record: BudgetRecord): Promise<void> {
    return this.store.put(this.keys.budget(record.channel), record);
  }

  putDriftPlan(plan: DriftPlan): Promise<unknown> {
    return this.store.createOnce(this.keys.driftPlan(plan.planId), plan);
  }

  getDriftPlan(planId: string): Promise<DriftPlan | undefined> {
    return this.store.read<DriftPlan>(this.keys.driftPlan(planId));
  }

  /** Create-once per (plan, item): applying a plan twice does each action once. */
  recordDriftAction(
    record: DriftActionRecord,
    itemToken: string,
  ): Promise<{ outcome: CreateOutcome; record: DriftActionRecord }> {
    return this.store.createOnceAndRead(this.keys.driftAction(record.planId, itemToken), record);
  }

  /** Every action recorded for a plan. */
  async listDriftActions(planId: string): Promise<DriftActionRecord[]> {
    const out: DriftActionRecord[] = [];
    for await (const key of this.store.keys(this.keys.driftActions(planId))) {
      const record = await this.store.read<DriftActionRecord>(key);
      if (record) out.push(record);
    }
    return out;
  }

  async getDriftAction(planId: string, itemToken: string): Promise<DriftActionRecord | undefined> {
    return this.store.read<DriftActionRecord>(this.keys.driftAction(planId, itemToken));
  }
}
