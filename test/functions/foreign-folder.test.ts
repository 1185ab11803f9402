/**
 * Issue #11, part 2: cleanup must never delete objects livecycle did not write, even in the folder
 * of a channel it created and deleted. Through the deployed api and cleanup-orphans handlers, over
 * the emulator, with real deletes (DRY_RUN=false) and the default grace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as cleanup } from '../../functions/cleanup-orphans/index';
import type { CleanupRunReport } from '../../shared/cleanup';
import { OssError } from '../../shared/oss';
import { playlistSegments } from '../cleanup/helpers';
import { BUCKET, callApiNextSecond, cleanupTick, keysUnder, startWorld, type World } from './harness';

const DAY = 86_400_000;

let world: World;
beforeAll(async () => {
  world = await startWorld({ DRY_RUN: 'false' });
});
afterAll(() => world.stop());

/** Each signed request needs its own second (the api refuses a replayed signature). */
const call = (method: string, path: string, opts: { body?: unknown; query?: Record<string, string> } = {}) =>
  callApiNextSecond(api, world, method, path, opts);

async function cleanupRun() {
  expect(await cleanupTick(cleanup, world)).toEqual([expect.objectContaining({ status: 'complete' })]);
}

/** A 20 s push through the channel's signed publish URL; returns the fragments it wrote. */
async function push(channel: string, publishUrl: string): Promise<string[]> {
  const before = new Set(await keysUnder(world.bucket, `${channel}/`));
  await world.emu.ingest.start({ bucket: BUCKET, channel, signedUrl: publishUrl });
  await world.clock.advance(20_000);
  await world.emu.ingest.stop({ bucket: BUCKET, channel });
  const fragments = (await keysUnder(world.bucket, `${channel}/`)).filter((k) => k.endsWith('.ts') && !before.has(k));
  expect(fragments.length).toBeGreaterThan(3);
  return fragments;
}

async function channelExists(name: string): Promise<boolean> {
  return world.bucket.getLiveChannelInfo(name).then(
    () => true,
    (err: unknown) => {
      if (err instanceof OssError && err.code === 'NoSuchLiveChannel') return false;
      throw err;
    },
  );
}

describe('a folder livecycle did not write', () => {
  it('the reproduction: create is refused with folder_not_empty; adopted, the foreign key outlives delete + grace + a real cleanup while the channel’s own fragments go', async () => {
    await world.bucket.putObject('reports/2025-q4.ts', 'someone else’s quarterly numbers');
    // Also named like a fragment, and written before the channel: only its time gives it away.
    await world.bucket.putObject('reports/9000000000007.ts', 'also not ours');
    // Some time passes (beyond the clock-skew allowance) before anyone creates the channel.
    await world.clock.advance(60_000);

    const refused = await call('POST', '/channels', { body: { name: 'reports' } });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'folder_not_empty', field: 'name' } } });
    expect(refused.body.error.message).toContain('2 objects');
    expect(refused.body.error.message).toMatch(/reports\/(2025-q4|9000000000007)\.ts/);
    expect(await channelExists('reports')).toBe(false);
    expect(await world.ledger.listGenerations('reports')).toEqual([]);

    const created = await call('POST', '/channels', { body: { name: 'reports', adoptExistingFolder: true } });
    expect(created.status).toBe(201);
    expect(created.body.adoptedExistingFolder).toEqual({
      count: 2,
      truncated: false,
      sample: expect.stringMatching(/^reports\//),
    });
    expect(await world.ledger.getChannel('reports')).toMatchObject({
      generation: created.body.generation,
      adoptedExistingFolder: true,
      adoptedObjects: { count: 2, truncated: false },
    });

    const fragments = await push('reports', created.body.publishUrl);
    const stillListed = await playlistSegments(world.bucket, 'reports/playlist.m3u8');
    expect(await call('DELETE', '/channels/reports')).toMatchObject({ status: 200, body: { deleted: true } });
    // The delete built the broadcast's VOD first (issue #11.1), which keeps every fragment it
    // names; the operator then deletes that VOD, so those fragments become the channel's orphans.
    const vods = (await keysUnder(world.bucket, 'reports/')).filter((k) => /\/vod-.*\.m3u8$/.test(k));
    expect(vods.length).toBeGreaterThan(0);
    for (const key of vods) await world.bucket.deleteObject(key);
    // Dropped into the folder after the channel is gone: not the channel's output either.
    await world.clock.advance(60_000);
    await world.bucket.putObject('reports/9000000000099.ts', 'written after the delete');

    await world.clock.advance(DAY + 3_600_000);
    await cleanupRun();
    const left = new Set(await keysUnder(world.bucket, 'reports/'));
    for (const key of ['reports/2025-q4.ts', 'reports/9000000000007.ts', 'reports/9000000000099.ts'])
      expect(left.has(key), key).toBe(true);
    const orphans = fragments.filter((k) => !stillListed.includes(k));
    expect(orphans.length).toBeGreaterThan(0);
    for (const key of orphans) expect(left.has(key), key).toBe(false);
    expect((await world.bucket.getObject('reports/2025-q4.ts')).body.toString('utf8')).toBe(
      'someone else’s quarterly numbers',
    );
    const report = (await world.ledger.latestCleanupReport()) as CleanupRunReport;
    // The two fragment-named strangers are told apart by time (the report, the live playlist and snapshots by name).
    expect(report.channels.find((c) => c.channel === 'reports')?.kept).toMatchObject({
      'outside-channel-life': 2,
      referenced: stillListed.length,
    });
  });

  it('creating the name again over only what its own deleted channel wrote is not refused, and an idempotent retry still answers channel_exists', async () => {
    const first = await call('POST', '/channels', { body: { name: 'again' } });
    expect(first.status).toBe(201);
    await push('again', first.body.publishUrl);
    expect(await call('DELETE', '/channels/again')).toMatchObject({ status: 200 });

    const second = await call('POST', '/channels', { body: { name: 'again' } });
    expect(second.status).toBe(201);
    expect(second.body.adoptedExistingFolder).toBeUndefined();
    expect(await world.ledger.getChannel('again')).not.toHaveProperty('adoptedExistingFolder');
    // A retry of that create (its own fragments now in the folder too) is the existing 409.
    await push('again', second.body.publishUrl);
    expect(await call('POST', '/channels', { body: { name: 'again' } })).toMatchObject({
      status: 409,
      body: { error: { code: 'channel_exists' } },
    });
    expect(await call('POST', '/channels', { body: { name: 'again', adoptExistingFolder: true } })).toMatchObject({
      status: 409,
      body: { error: { code: 'channel_exists' } },
    });

    // Someone's file dropped in after a delete makes the folder foreign again.
    expect(await call('DELETE', '/channels/again')).toMatchObject({ status: 200 });
    await world.clock.advance(1_000);
    await world.bucket.putObject('again/notes.txt', 'mine');
    expect(await call('POST', '/channels', { body: { name: 'again' } })).toMatchObject({
      status: 409,
      body: { error: { code: 'folder_not_empty' } },
    });
  });

  it('adoptExistingFolder must be a boolean', async () => {
    expect(await call('POST', '/channels', { body: { name: 'typed', adoptExistingFolder: 'yes' } })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_field', field: 'adoptExistingFolder' } },
    });
  });
});
