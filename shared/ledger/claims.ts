/**
 * Mutual exclusion in a bucket without conditional deletes: numbered create-once claims (a
 * `ClaimSeries`). To claim, read the newest claim (a 1-key listing); if it is in force and not
 * ours, yield; otherwise create claim n+1 with forbid-overwrite. Of any number of writers racing
 * for n+1 exactly one PUT succeeds, so a lapsed claim is taken over exactly once, and taking over
 * never needs a delete (OSS has none that is conditional). A claim lapses at its `expiresAt`, so
 * a claimant that died blocks the next one for at most that long.
 *
 * Users: the cleanup lease (shared/cleanup/lease.ts) and webhook delivery claims
 * (Ledger.claimDelivery). docs/ledger.md lists the keys.
 */
import type { ClaimSeries } from './keys';
import type { JsonStore } from './store';

export interface Claim {
  /** Epoch ms by the lifecycle clock; from then on the claim may be taken over. */
  expiresAt: number;
}

export type ClaimOutcome<T extends Claim> =
  /** `number` is ours; `superseded` is the claim it took over, if any. */
  | { claimed: true; number: number; key: string; superseded?: string }
  /** `heldBy` is the claim in force (undefined if it vanished while we looked). */
  | { claimed: false; heldBy: T | undefined };

/** Loses at most this many races in a row (each lost race is another claimant's success). */
const MAX_RACES = 3;

/**
 * Creates the next claim of `series` unless one is in force. `isOurs` recognises our own claim
 * (e.g. the same run retrying, or our create whose response was lost), which we may take over.
 */
export async function claimNext<T extends Claim>(
  store: JsonStore,
  series: ClaimSeries,
  claim: T,
  input: { now: number; isOurs: (held: T) => boolean },
): Promise<ClaimOutcome<T>> {
  for (let race = 0; race < MAX_RACES; race++) {
    const newestKey = await store.firstKey(series.prefix);
    let next = 1;
    if (newestKey !== undefined) {
      const newest = await store.read<T>(newestKey);
      // Deleted (a released lease) between the listing and the GET: look again.
      if (newest === undefined) continue;
      if (newest.expiresAt > input.now && !input.isOurs(newest)) return { claimed: false, heldBy: newest };
      next = series.numberOf(newestKey) + 1;
    }
    const key = series.key(next);
    if ((await store.createOnce(key, claim)) === 'created')
      return { claimed: true, number: next, key, ...(newestKey !== undefined ? { superseded: newestKey } : {}) };
    // Another claimant created `next` first; if it is in force the next pass yields to it.
  }
  const newestKey = await store.firstKey(series.prefix);
  return { claimed: false, heldBy: newestKey === undefined ? undefined : await store.read<T>(newestKey) };
}
