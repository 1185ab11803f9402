/**
 * One cleanup run per bucket at a time. Overlapping timers (a slow run still going when the next
 * fires, FC retrying an invocation) would otherwise both sweep, double-count deletions in their
 * reports and fight over the cursor.
 *
 * Leases are numbered objects `<ledger>/cleanup/leases/<descending n>.json` created with
 * forbid-overwrite. To acquire, a run reads the newest lease (a 1-key listing: descending numbers
 * list newest first); if it is in force and not ours the run yields, otherwise it creates lease
 * n+1. Of any number of runs racing for n+1 exactly one PUT succeeds, so no lease is ever taken
 * over twice, and no delete is ever needed to take over an expired one (OSS has no conditional
 * delete). A lease expires when its run's function would be killed anyway, so a crashed run
 * blocks the next one for at most one function timeout.
 */
import { LedgerKeys } from '../ledger/keys';
import { JsonStore, type LedgerObjects } from '../ledger/store';

export interface LeaseRecord {
  v: 1;
  runId: string;
  acquiredAt: number;
  expiresAt: number;
}

export type LeaseOutcome = { acquired: true; release(): Promise<void> } | { acquired: false; heldBy: LeaseRecord };

/** Loses at most this many races in a row (each lost race is another run's success). */
const MAX_RACES = 3;

export async function acquireLease(objects: LedgerObjects, ledgerPrefix: string, input: { runId: string; now: number; expiresAt: number }): Promise<LeaseOutcome> {
  const store = new JsonStore(objects);
  const leases = new LedgerKeys(ledgerPrefix).cleanupLeases();
  for (let race = 0; race < MAX_RACES; race++) {
    const newestKey = await store.firstKey(leases.prefix);
    let next = 1;
    if (newestKey !== undefined) {
      const newest = await store.read<LeaseRecord>(newestKey);
      // Released (deleted) between the listing and the GET: look again.
      if (newest === undefined) continue;
      if (newest.expiresAt > input.now && newest.runId !== input.runId) return { acquired: false, heldBy: newest };
      next = leases.numberOf(newestKey) + 1;
    }
    const key = leases.key(next);
    const record: LeaseRecord = { v: 1, runId: input.runId, acquiredAt: input.now, expiresAt: input.expiresAt };
    if ((await store.createOnce(key, record)) === 'created') {
      // The previous lease is superseded; dropping it keeps the folder to one or two objects.
      if (newestKey !== undefined) await store.delete(newestKey);
      return { acquired: true, release: () => store.delete(key) };
    }
    // Another run created lease `next` first; if it is in force the next pass yields to it.
  }
  const newestKey = await store.firstKey(leases.prefix);
  const holder = newestKey === undefined ? undefined : await store.read<LeaseRecord>(newestKey);
  return { acquired: false, heldBy: holder ?? { v: 1, runId: 'unknown', acquiredAt: input.now, expiresAt: input.expiresAt } };
}
