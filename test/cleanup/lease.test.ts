import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acquireLease } from '../../shared/cleanup';
import { LedgerKeys } from '../../shared/ledger';
import { allKeys, startCleanupEnv, T0, type CleanupEnv } from './helpers';

let env: CleanupEnv;
let prefix: string;
let n = 0;
beforeAll(async () => {
  env = await startCleanupEnv();
});
afterAll(() => env.stop());
beforeEach(() => {
  prefix = `_lease-t${++n}/`;
});

describe('cleanup lease', () => {
  it('of five runs racing for a free lease exactly one gets it', async () => {
    const outcomes = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        acquireLease(env.bucket, prefix, { runId: `run-${i}`, now: T0, expiresAt: T0 + 60_000 }),
      ),
    );
    expect(outcomes.filter((o) => o.acquired)).toHaveLength(1);
    const winner = outcomes.find((o) => o.acquired);
    for (const o of outcomes) if (!o.acquired) expect(o.heldBy.expiresAt).toBe(T0 + 60_000);
    if (winner?.acquired) await winner.release();
    expect(await allKeys(env.bucket, new LedgerKeys(prefix).cleanupLeases().prefix)).toEqual([]);
  });

  it('a lease in force blocks others until it expires; then exactly one run takes over, without deleting first', async () => {
    const first = await acquireLease(env.bucket, prefix, { runId: 'crashed', now: T0, expiresAt: T0 + 60_000 });
    expect(first.acquired).toBe(true);
    const blocked = await acquireLease(env.bucket, prefix, {
      runId: 'next',
      now: T0 + 59_999,
      expiresAt: T0 + 120_000,
    });
    expect(blocked).toMatchObject({ acquired: false, heldBy: { runId: 'crashed' } });
    // The crashed run never releases. At its expiry two runs race; one wins.
    const racers = await Promise.all(
      ['a', 'b'].map((runId) => acquireLease(env.bucket, prefix, { runId, now: T0 + 60_000, expiresAt: T0 + 120_000 })),
    );
    expect(racers.filter((o) => o.acquired)).toHaveLength(1);
    // The superseded lease is gone; only the winner's remains.
    expect(await allKeys(env.bucket, new LedgerKeys(prefix).cleanupLeases().prefix)).toHaveLength(1);
  });

  it('released: the next run acquires at once', async () => {
    const first = await acquireLease(env.bucket, prefix, { runId: 'one', now: T0, expiresAt: T0 + 60_000 });
    if (!first.acquired) throw new Error('not acquired');
    await first.release();
    expect(
      (await acquireLease(env.bucket, prefix, { runId: 'two', now: T0 + 1, expiresAt: T0 + 60_000 })).acquired,
    ).toBe(true);
  });
});
