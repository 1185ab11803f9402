/**
 * A large folder: runs cut off by their budget or their deadline resume from the cursor and
 * finish; overlapping runs delete each orphan once and never a kept one.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { installClock } from '../../shared/clock';
import { cleanupOrphans, type BucketOutcome, type CleanupRunReport } from '../../shared/cleanup';
import { allKeys, HOUR, resetWithFragments, startCleanupEnv, steppingClock, T0, type CleanupEnv } from './helpers';

const ORPHANS = 1770;
const REFERENCED = 30;
const PLAYLIST = 'cam-big/vod-20240501T120000Z.m3u8';

let env: CleanupEnv;
let referenced: string[];
let orphans: string[];

beforeAll(async () => {
  env = await startCleanupEnv();
});
afterAll(() => env.stop());

/** A fresh big folder per test: a deleted channel, thousands of orphans, a VOD over a few fragments. */
beforeEach(async () => {
  const names = await resetWithFragments(env, ['cam-big'], ORPHANS + REFERENCED);
  // Referenced fragments spread through the listing, so every page has some to keep.
  referenced = names.filter((_, i) => i % Math.floor(names.length / REFERENCED) === 0).slice(0, REFERENCED);
  const set = new Set(referenced);
  orphans = names.filter((k) => !set.has(k));
  const m3u8 = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    '#EXT-X-TARGETDURATION:5',
    ...referenced.flatMap((k) => ['#EXTINF:5.000,', k.slice('cam-big/'.length)]),
    '#EXT-X-ENDLIST',
    '',
  ].join('\n');
  await env.bucket.putObject(PLAYLIST, m3u8);
  await env.ledger.recordTombstone({ channel: 'cam-big', generation: T0 - HOUR, deletedAt: T0 });
  await env.emu.clock.advance(25 * HOUR);
});

function completed(outcomes: BucketOutcome[]): CleanupRunReport[] {
  return outcomes.flatMap((o) => (o.status === 'skipped' ? [] : [o.report]));
}

async function expectOnlyOrphansGone() {
  const left = new Set(await allKeys(env.bucket, 'cam-big/'));
  for (const key of referenced) expect(left.has(key), key).toBe(true);
  expect(left.has(PLAYLIST)).toBe(true);
  expect([...left].filter((k) => orphans.includes(k))).toEqual([]);
}

describe('resuming and overlapping runs', () => {
  it('a run stopped by its object budget resumes from the cursor until done', async () => {
    const reports: CleanupRunReport[] = [];
    for (let run = 0; run < 5; run++) {
      const ctx = env.context({ DRY_RUN: 'false', CLEANUP_MAX_OBJECTS: '700' });
      const [report] = completed(await cleanupOrphans(ctx, { settings: { channelPrefixes: [] } }));
      reports.push(report!);
      if (report!.status === 'complete') break;
    }
    expect(reports.map((r) => r.status)).toEqual(['partial', 'partial', 'complete']);
    expect(reports.map((r) => r.stoppedBy)).toEqual(['budget-objects', 'budget-objects', undefined]);
    expect(reports.map((r) => r.totals.deleted)).toEqual([700, 700, ORPHANS - 1400]);
    // Each run starts exactly where the previous one stopped.
    expect(reports[1]!.resumedFrom).toEqual(reports[0]!.cursor);
    expect(reports[2]!.resumedFrom).toEqual(reports[1]!.cursor);
    expect(reports[0]!.cursor).toEqual({
      folder: 'cam-big/',
      startAfter: expect.stringMatching(/^cam-big\/\d{13}\.ts$/),
    });
    // The report lists at most REPORT_KEY_CAP keys but counts them all.
    expect(reports[0]!.keys).toMatchObject({ count: 700, truncated: true });
    await expectOnlyOrphansGone();
    expect(await env.ledger.getCleanupCursor('orphans')).toBeUndefined();
  });

  it('a run cut off by its deadline halfway through the listing is reported partial and the next run finishes', async () => {
    // Every clock reading is 0.4 s later: with a 60 s timeout the run reaches its deadline after
    // about a hundred readings, partway through sweeping the 1,800-key folder in 100-key pages.
    const base = env.emu.clock;
    installClock(steppingClock(base, 400));
    let first: CleanupRunReport;
    try {
      [first] = completed(
        await cleanupOrphans(env.context({ DRY_RUN: 'false' }, { timeoutSeconds: 60 }), {
          settings: { channelPrefixes: [] },
          pageSize: 100,
        }),
      ) as [CleanupRunReport];
    } finally {
      installClock(base);
    }
    expect(first).toMatchObject({ status: 'partial', stoppedBy: 'deadline' });
    expect(first.totals.deleted).toBeGreaterThan(0);
    expect(first.totals.deleted).toBeLessThan(ORPHANS);

    const [second] = completed(
      await cleanupOrphans(env.context({ DRY_RUN: 'false' }), { settings: { channelPrefixes: [] }, pageSize: 100 }),
    );
    expect(second).toMatchObject({ status: 'complete', resumedFrom: first.cursor });
    expect(first.totals.deleted + second!.totals.deleted).toBe(ORPHANS);
    await expectOnlyOrphansGone();
  });

  it('three overlapping runs: one sweeps, the others yield; each orphan deleted once, no kept key touched', async () => {
    const outcomes = (
      await Promise.all(
        [1, 2, 3].map((i) =>
          cleanupOrphans(env.context({ DRY_RUN: 'false' }, { requestId: `overlap-${i}` }), {
            settings: { channelPrefixes: [] },
          }),
        ),
      )
    ).flat();
    expect(outcomes.map((o) => o.status).sort()).toEqual(['complete', 'skipped', 'skipped']);
    const [report] = completed(outcomes);
    expect(report!.totals).toMatchObject({ deleted: ORPHANS, deleteErrors: 0 });
    await expectOnlyOrphansGone();
    // Exactly one report was written; the lease is released.
    expect(await allKeys(env.bucket, '_livecycle/cleanup/reports/')).toHaveLength(1);
    expect(await allKeys(env.bucket, '_livecycle/cleanup/leases/')).toEqual([]);
  });
});
