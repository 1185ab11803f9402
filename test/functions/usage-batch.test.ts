/**
 * Issue #16, "no extra requests in steady state": an instance writes its counted usage at most
 * once per USAGE_FLUSH_INTERVAL_MS of the injected clock, and what cleanup folds equals what the
 * emulator served, through a failed flush and one whose PUT landed but whose answer was lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as cleanup } from '../../functions/cleanup-orphans/index';
import { handler as onSnapshot } from '../../functions/on-snapshot/index';
import { mnsEvent } from '../../local/runtime/events';
import type { FaultDecision } from '../../local/emulator/faults';
import { OVERHEAD, monthOf, type UsageTotals } from '../../shared/lifecycle/cost';
import type { UsageRecord } from '../../shared/ledger/records';
import { USAGE_FLUSH_INTERVAL_MS } from '../../shared/operations/usage';
import { cleanupTick, keysUnder, snapshotNoticeBody, startWorld, type World } from './harness';

let world: World;
/** Operations the emulator handled while `counting` (the functions' requests, not the test's own). */
let served: string[] = [];
let counting = false;
/** Faults to answer the next PutObjects with, in order (then none). */
let putFaults: FaultDecision['fault'][] = [];

beforeAll(async () => {
  world = await startWorld();
  const decide = world.emu.faults.decide.bind(world.emu.faults);
  world.emu.faults.decide = (operation: string) => {
    if (counting) served.push(operation);
    const decision = decide(operation);
    if (operation === 'PutObject' && putFaults.length > 0) return { ...decision, fault: putFaults.shift() };
    return decision;
  };
});
afterAll(() => world.stop());

const SUB = { accountId: '1234567890123456', subscriptionName: 'on-snapshot' };
let messages = 0;

/** One on-snapshot invocation for a snapshot of `channel` taken `at`; the test's own requests are not counted. */
async function snapshot(channel: string, at = world.clock.now()): Promise<void> {
  const body = snapshotNoticeBody(channel, at);
  const event = mnsEvent(
    'JSON',
    { messageId: `U${++messages}`, topic: 'livecycle-snapshots', body, publishTime: at },
    SUB,
  );
  counting = true;
  try {
    expect(await onSnapshot(event, world.context('on-snapshot'))).toMatchObject({ recorded: 1 });
  } finally {
    counting = false;
  }
}

/** An on-snapshot invocation that sends no request of its own (a notice it skips): only a due flush writes. */
async function emptyInvocation(): Promise<void> {
  counting = true;
  try {
    expect(await onSnapshot(Buffer.from('not a notice'), world.context('on-snapshot'))).toMatchObject({ recorded: 0 });
  } finally {
    counting = false;
  }
}

/** Once the interval has passed, an invocation whose flush meets `faults` (its PUT's attempts, in order). */
async function flushWith(faults: FaultDecision['fault'][]): Promise<void> {
  await world.clock.advance(USAGE_FLUSH_INTERVAL_MS);
  putFaults = faults;
  await emptyInvocation();
  expect(putFaults).toEqual([]);
}

const rawKeys = async () => (await keysUnder(world.bucket, '_livecycle/usage/')).filter((k) => k.includes('/raw/'));

async function readRecords(keys: string[]): Promise<UsageRecord[]> {
  return Promise.all(keys.map(async (k) => JSON.parse((await world.bucket.getObject(k)).body.toString('utf8'))));
}

function tally(ops: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const op of ops) out[op] = (out[op] ?? 0) + 1;
  return out;
}

/** Folds the month's records as cleanup does, then the channel's requests from the rollup. */
async function foldedRequests(channel: string): Promise<UsageTotals[string]['requests']> {
  expect(await cleanupTick(cleanup, world)).toEqual([expect.objectContaining({ status: 'complete' })]);
  const { rollup } = await world.ledger.cost.monthUsage(monthOf(world.clock.now()));
  return rollup?.totals[channel]?.requests ?? {};
}

describe('usage batched per instance', () => {
  it('N invocations within the interval write one usage record; the fold equals what the emulator served', async () => {
    await world.bucket.putLiveChannel('use-a', {});
    served = [];
    const before = await rawKeys();
    // The instance's first invocation flushes at once, then none until the interval has passed.
    for (let i = 0; i < 6; i++) {
      await snapshot('use-a');
      await world.clock.advance(10_000);
    }
    const written = (await rawKeys()).filter((k) => !before.includes(k));
    expect(written).toHaveLength(1);
    expect(USAGE_FLUSH_INTERVAL_MS).toBeLessThanOrEqual(60_000);
    await snapshot('use-a'); // 60 s after the first flush: this one flushes the other six
    const records = (await readRecords((await rawKeys()).filter((k) => !before.includes(k)))) as Extract<
      UsageRecord,
      { v: 2 }
    >[];
    expect(records.map((r) => r.invocations)).toEqual([1, 6]);
    for (const r of records) expect(r.totals[OVERHEAD]?.requests).toEqual({ PutObject: 1 });
    expect(Object.keys(records[0]!.totals).sort()).toEqual([OVERHEAD, 'use-a'].sort());

    const expected = tally(served);
    expected.PutObject! -= records.length; // the usage records' own PUTs: overhead
    if (expected.PutObject === 0) delete expected.PutObject;
    expect(await foldedRequests('use-a')).toEqual(expected);
  });

  it('a failed flush loses nothing, and a flush retried after its PUT landed counts once', async () => {
    await world.bucket.putLiveChannel('use-b', {});
    await world.clock.advance(USAGE_FLUSH_INTERVAL_MS);
    served = [];
    const before = await rawKeys();
    const written = async () => (await rawKeys()).filter((k) => !before.includes(k));
    await snapshot('use-b'); // due: written at once, the interval starts here
    expect(await written()).toHaveLength(1);
    for (let i = 0; i < 5; i++) {
      await world.clock.advance(10_000);
      await snapshot('use-b');
    }
    // Due now; every attempt of the flush's PUT fails.
    await flushWith(['internal-error', 'internal-error', 'internal-error']);
    expect(await written()).toHaveLength(1);
    await snapshot('use-b');

    // Next flush retries that record first: its first attempt lands but the answer is lost, the
    // retries fail, so its outcome is unknown and it is kept; the batch sealed now is written.
    await flushWith(['truncate', 'internal-error', 'internal-error']);
    expect(await written()).toHaveLength(3);

    // The flush after retries the same record (found, not written twice) and writes the rest.
    await world.clock.advance(USAGE_FLUSH_INTERVAL_MS);
    await snapshot('use-b');
    const keys = await written();
    expect(keys).toHaveLength(4);
    const records = (await readRecords(keys)) as Extract<UsageRecord, { v: 2 }>[];
    expect(records.reduce((n, r) => n + r.invocations, 0)).toBe(1 + 5 + 1 + 1 + 1 + 1);
    for (const r of records) expect(r.totals[OVERHEAD]?.requests).toEqual({ PutObject: 1 });

    const expected = tally(served);
    // Usage PUTs served: 1 created; 3 failed; 1 landed unanswered + 2 failed, 1 created; 1
    // answered 409, 1 created.
    expected.PutObject! -= 1 + 3 + 3 + 1 + 2;
    if (expected.PutObject === 0) delete expected.PutObject;
    expect(await foldedRequests('use-b')).toEqual(expected);
  });

  it('overlapping invocations of one instance write one record between them and lose none', async () => {
    await world.bucket.putLiveChannel('use-c', {});
    const before = await rawKeys();
    await world.clock.advance(USAGE_FLUSH_INTERVAL_MS);
    // All due at once: the first to end seals and writes, the others go to the next record.
    await Promise.all([0, 1, 2, 3].map((i) => snapshot('use-c', world.clock.now() - i)));
    const first = (await rawKeys()).filter((k) => !before.includes(k));
    expect(first).toHaveLength(1);
    await world.clock.advance(USAGE_FLUSH_INTERVAL_MS);
    await emptyInvocation();
    const records = (await readRecords((await rawKeys()).filter((k) => !before.includes(k)))) as Extract<
      UsageRecord,
      { v: 2 }
    >[];
    expect(records.reduce((n, r) => n + r.invocations, 0)).toBe(4 + 1);
  });
});
