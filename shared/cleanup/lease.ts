/**
 * One cleanup run per bucket at a time. Overlapping timers (a slow run still going when the next
 * fires, FC retrying an invocation) would otherwise both sweep, double-count deletions in their
 * reports and fight over the cursor.
 *
 * Leases are numbered create-once claims `<ledger>/cleanup/leases/<descending n>.json`
 * (`claimNext`, shared/ledger/claims.ts): a run takes lease n+1 unless lease n is in force and
 * another run's, exactly one of any number of racing runs succeeds, and taking over an expired
 * lease needs no delete. Unlike other claims a lease is deleted on release, so the next run need
 * not wait for it to expire. A lease expires when its run's function would be killed anyway, so a
 * crashed run blocks the next one for at most one function timeout.
 */
import { claimNext } from '../ledger/claims';
import { LedgerKeys } from '../ledger/keys';
import { JsonStore, type LedgerObjects } from '../ledger/store';

export interface LeaseRecord {
  v: 1;
  runId: string;
  acquiredAt: number;
  expiresAt: number;
}

export type LeaseOutcome = { acquired: true; release(): Promise<void> } | { acquired: false; heldBy: LeaseRecord };

export async function acquireLease(
  objects: LedgerObjects,
  ledgerPrefix: string,
  input: { runId: string; now: number; expiresAt: number },
): Promise<LeaseOutcome> {
  const store = new JsonStore(objects);
  const record: LeaseRecord = { v: 1, runId: input.runId, acquiredAt: input.now, expiresAt: input.expiresAt };
  const outcome = await claimNext(store, new LedgerKeys(ledgerPrefix).cleanupLeases(), record, {
    now: input.now,
    isOurs: (held) => held.runId === input.runId,
  });
  if (!outcome.claimed)
    return {
      acquired: false,
      heldBy: outcome.heldBy ?? { v: 1, runId: 'unknown', acquiredAt: input.now, expiresAt: input.expiresAt },
    };
  // The previous lease is superseded; dropping it keeps the folder to one or two objects.
  if (outcome.superseded !== undefined) await store.delete(outcome.superseded);
  const { key } = outcome;
  return { acquired: true, release: () => store.delete(key) };
}
