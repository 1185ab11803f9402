/**
 * The whole sweep against the emulator over HTTP: deleted channels (one with a kept VOD, one
 * vanished without a tombstone), a live channel, and objects that merely look like ingest output.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BucketSweep, cleanupOrphans } from '../../shared/cleanup';
import { createLogger } from '../../shared/log';
import type { CleanupRunReport } from '../../shared/cleanup';
import { allKeys, HOUR, playlistSegments, startCleanupEnv, T0, type CleanupEnv } from './helpers';

const BUCKET = 'livecycle-demo';
const FRAG = { fragDuration: 5, fragCount: 3 };
const VOD = 'vod-20240501T120000Z.m3u8';

let env: CleanupEnv;
beforeEach(async () => {
  env = await startCleanupEnv();
});
afterEach(() => env.stop());

async function push(channel: string, seconds: number) {
  await env.emu.ingest.start({ bucket: BUCKET, channel });
  await env.emu.clock.advance(seconds * 1000);
  await env.emu.ingest.stop({ bucket: BUCKET, channel });
}

async function report(ctx: Parameters<typeof cleanupOrphans>[0], settings = {}): Promise<CleanupRunReport> {
  const [outcome] = await cleanupOrphans(ctx, { settings: { channelPrefixes: ['cam-'], ...settings } });
  if (!outcome || outcome.status === 'skipped') throw new Error(`run skipped: ${JSON.stringify(outcome)}`);
  return outcome.report;
}

/** What the bucket holds before any cleanup: the three channels, their VOD, and bystanders. */
async function scene(beforeDelete?: () => Promise<void>) {
  const { bucket, ledger } = env;
  for (const channel of ['cam-vod', 'cam-gone', 'cam-live']) await bucket.putLiveChannel(channel, { target: FRAG });
  await push('cam-vod', 40);
  await push('cam-gone', 30);
  await push('cam-live', 20);
  // A VOD over the first 12 s of cam-vod's push: it keeps those fragments after the channel goes.
  await bucket.postVodPlaylist('cam-vod', VOD, { startTime: T0 / 1000, endTime: T0 / 1000 + 12 });
  await beforeDelete?.();

  // cam-vod is deleted through livecycle (tombstone); cam-gone vanishes behind its back.
  await bucket.deleteLiveChannel('cam-vod');
  await ledger.recordTombstone({ channel: 'cam-vod', generation: T0 - HOUR, deletedAt: env.emu.clock.now() });
  await bucket.deleteLiveChannel('cam-gone');

  const bystanders = [
    'clip.ts',
    'exports/clip.ts',
    'other/0000000000001.ts',
    'cam-gone/sub/0000000000001.ts',
    'cam-gone/notes.txt',
    'cam-vod/0000000000001.jpg',
  ];
  for (const key of bystanders) await bucket.putObject(key, 'not ours');
  return { bystanders };
}

/** `.ts` directly under a folder, minus what its playlists list: what a full sweep may delete. */
async function unreferencedFragments(folder: string): Promise<string[]> {
  const keys = await allKeys(env.bucket, folder);
  const referenced = new Set<string>();
  for (const playlist of keys.filter((k) => k.endsWith('.m3u8')))
    for (const k of await playlistSegments(env.bucket, playlist)) referenced.add(k);
  return keys.filter((k) => /^[^/]+\/[^/]+\.ts$/.test(k) && !referenced.has(k));
}

describe('cleanup end to end', () => {
  it('dry run deletes nothing and lists exactly the orphans; the real run deletes exactly them and every kept playlist still plays', async () => {
    const { bystanders } = await scene();
    const vodFragments = await playlistSegments(env.bucket, `cam-vod/${VOD}`);
    expect(vodFragments.length).toBeGreaterThan(0);

    // Past the fragments' grace; cam-live is on air again while cleanup runs.
    await env.emu.clock.advance(25 * HOUR);
    await env.emu.ingest.start({ bucket: BUCKET, channel: 'cam-live' });
    await env.emu.clock.advance(10_000);
    const before = await allKeys(env.bucket);
    const tombstonedOrphans = await unreferencedFragments('cam-vod/');
    expect(tombstonedOrphans.length).toBeGreaterThan(0);

    const dry = await report(env.context());
    expect(dry.dryRun).toBe(true);
    expect(await allKeys(env.bucket)).toEqual(expect.arrayContaining(before));
    // cam-gone was only now seen missing: its grace starts now, so only cam-vod's orphans are listed.
    expect(dry.keys.listed.sort()).toEqual(tombstonedOrphans.sort());
    expect(dry.keys).toMatchObject({ count: tombstonedOrphans.length, truncated: false });
    expect(dry.status).toBe('complete');
    const byChannel = Object.fromEntries(dry.channels.map((c) => [c.channel, c]));
    expect(byChannel['cam-vod']).toMatchObject({
      state: 'tombstoned',
      candidates: tombstonedOrphans.length,
      deleted: 0,
    });
    expect(byChannel['cam-vod']!.kept.referenced).toBeGreaterThanOrEqual(vodFragments.length);
    expect(byChannel['cam-gone']).toMatchObject({ state: 'absent', candidates: 0 });
    expect(byChannel['cam-gone']!.kept['channel-recently-gone']).toBeGreaterThan(0);
    expect(byChannel['cam-live']).toMatchObject({ state: 'exists', candidates: 0 });
    // other/ and exports/ are neither configured prefixes nor known to the ledger; _livecycle/ is the ledger.
    expect(dry.totals.foldersOutOfScope).toBe(3);
    expect(await env.ledger.latestCleanupReport()).toEqual(dry);

    // A day later cam-gone has been missing for the grace period too. Real run.
    await env.emu.ingest.stop({ bucket: BUCKET, channel: 'cam-live' });
    await env.emu.clock.advance(24 * HOUR + 1000);
    await env.emu.ingest.start({ bucket: BUCKET, channel: 'cam-live' });
    await env.emu.clock.advance(10_000);
    const orphans = [
      ...(await unreferencedFragments('cam-vod/')),
      ...(await unreferencedFragments('cam-gone/')),
    ].sort();
    const keysBefore = await allKeys(env.bucket);

    const real = await report(env.context({ DRY_RUN: 'false' }));
    expect(real).toMatchObject({ dryRun: false, status: 'complete' });
    expect(real.totals).toMatchObject({ candidates: orphans.length, deleted: orphans.length, deleteErrors: 0 });
    expect(real.keys.listed.sort()).toEqual(orphans);
    const after = await allKeys(env.bucket);
    const outsideLedger = (keys: string[]) => keys.filter((k) => !k.startsWith('_livecycle/'));
    expect(outsideLedger(after)).toEqual(outsideLedger(keysBefore).filter((k) => !orphans.includes(k)));
    // The ledger only grew (report, cleaned marker); the run's lease is released.
    expect(after).toEqual(expect.arrayContaining(keysBefore.filter((k) => k.startsWith('_livecycle/'))));
    expect(after.filter((k) => k.startsWith('_livecycle/cleanup/leases/'))).toEqual([]);
    for (const key of bystanders) expect(after).toContain(key);
    expect(after.filter((k) => k.startsWith('_livecycle/tombstones/'))).toHaveLength(1);
    expect(after.filter((k) => k.startsWith('cam-live/') && k.endsWith('.ts')).length).toBeGreaterThan(0);
    expect(after.filter((k) => k.startsWith('cam-live/'))).toEqual(keysBefore.filter((k) => k.startsWith('cam-live/')));

    // Every playlist left in the bucket resolves every fragment it lists.
    const playlists = after.filter((k) => k.endsWith('.m3u8'));
    expect(playlists).toEqual(
      expect.arrayContaining([
        `cam-vod/${VOD}`,
        'cam-vod/playlist.m3u8',
        'cam-gone/playlist.m3u8',
        'cam-live/playlist.m3u8',
      ]),
    );
    for (const playlist of playlists) {
      for (const key of await playlistSegments(env.bucket, playlist)) {
        const object = await env.bucket.getObject(key);
        expect(object.body[0], key).toBe(0x47); // MPEG-TS sync byte
      }
    }
    // The tombstoned generation is recorded as cleaned; only VOD-pinned fragments remain.
    expect(await allKeys(env.bucket, '_livecycle/cleaned/cam-vod/')).toHaveLength(1);
    await env.emu.ingest.stop({ bucket: BUCKET, channel: 'cam-live' });
  });

  it('CLEANUP_CHANNEL_PREFIXES: in a channel livecycle never knew, only fragment-named keys written before it was found gone are deleted', async () => {
    const { bucket } = env;
    await bucket.putLiveChannel('cam-ext', { target: FRAG });
    await bucket.putObject('cam-ext/2025-q4.ts', 'a report, named unlike any fragment');
    await push('cam-ext', 30);
    const listed = await playlistSegments(bucket, 'cam-ext/playlist.m3u8');
    const fragments = (await allKeys(bucket, 'cam-ext/')).filter((k) => /\/\d+\.ts$/.test(k));
    await bucket.deleteLiveChannel('cam-ext');
    await report(env.context()); // first sighting of the channel missing: its grace starts
    await env.emu.clock.advance(60_000);
    await bucket.putObject('cam-ext/9000000000001.ts', 'named like a fragment, written after the channel was gone');

    await env.emu.clock.advance(25 * HOUR);
    const real = await report(env.context({ DRY_RUN: 'false' }));
    const left = new Set(await allKeys(bucket, 'cam-ext/'));
    expect(left.has('cam-ext/2025-q4.ts')).toBe(true);
    expect(left.has('cam-ext/9000000000001.ts')).toBe(true);
    const orphans = fragments.filter((k) => !listed.includes(k));
    expect(orphans.length).toBeGreaterThan(0);
    for (const key of orphans) expect(left.has(key), key).toBe(false);
    expect(real.channels.find((c) => c.channel === 'cam-ext')?.kept).toMatchObject({
      'not-ingest-output': 2,
      'outside-channel-life': 1,
      referenced: listed.length,
    });
  });

  it('retention deletes expired VOD playlists first, freeing their fragments in the same run; a hold pins one', async () => {
    await scene(() =>
      env.bucket
        .postVodPlaylist('cam-gone', 'vod-20240501T120010Z.m3u8', { startTime: T0 / 1000, endTime: T0 / 1000 + 300 })
        .then(() => undefined),
    );
    await env.ledger.setHold({ channel: 'cam-gone', holdId: 'vod-20240501T120010Z.m3u8', reason: 'legal' });
    await env.emu.clock.advance(3 * 24 * HOUR);
    // Seen missing now; a day later its grace has passed.
    await report(env.context());
    await env.emu.clock.advance(24 * HOUR);
    const heldFragments = await playlistSegments(env.bucket, 'cam-gone/vod-20240501T120010Z.m3u8');

    const real = await report(env.context({ DRY_RUN: 'false', VOD_RETENTION_DAYS: '2' }));
    expect(real.totals.expiredPlaylists).toBe(1);
    const after = new Set(await allKeys(env.bucket));
    expect(after.has(`cam-vod/${VOD}`)).toBe(false);
    expect(after.has('cam-gone/vod-20240501T120010Z.m3u8')).toBe(true);
    for (const key of heldFragments) expect(after.has(key), key).toBe(true);
    // With its VOD gone, cam-vod keeps only what its stale live playlist lists.
    const liveListed = await playlistSegments(env.bucket, 'cam-vod/playlist.m3u8');
    expect([...after].filter((k) => /^cam-vod\/\d+\.ts$/.test(k)).sort()).toEqual(liveListed.sort());
  });

  it('a channel recreated under the same name mid-run is caught by the re-check before the delete batch', async () => {
    await scene();
    await env.emu.clock.advance(25 * HOUR);
    const before = await allKeys(env.bucket, 'cam-vod/');
    // The run lists channels first (cam-vod is gone then); someone recreates it just before the
    // pre-delete re-check asks OSS. Every request still goes to the emulator over HTTP.
    const racing = new Proxy(env.bucket, {
      get(target, prop, receiver) {
        if (prop === 'getLiveChannelStat') {
          return async (channel: string) => {
            if (channel === 'cam-vod') await target.putLiveChannel('cam-vod', { target: FRAG });
            return target.getLiveChannelStat(channel);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const sweep = await BucketSweep.prepare({
      bucket: racing,
      ledger: env.ledger,
      settings: {
        dryRun: false,
        graceMs: 24 * HOUR,
        retentionDays: 0,
        maxObjects: 1000,
        maxBytes: 1e12,
        channelPrefixes: ['cam-'],
        endpoint: env.emu.url,
      },
      runId: 'race',
      stopAt: Infinity,
      logger: createLogger({ name: 'test', level: 'silent' }),
    });
    const real = await sweep.run();
    const vod = real.channels.find((c) => c.channel === 'cam-vod');
    expect(vod).toMatchObject({ state: 'tombstoned', deleted: 0 });
    expect(vod!.kept['channel-changed-mid-run']).toBeGreaterThan(0);
    expect(await allKeys(env.bucket, 'cam-vod/')).toEqual(before);
    // Its tombstone is not marked cleaned: the folder was not swept.
    expect(await allKeys(env.bucket, '_livecycle/cleaned/')).toEqual([]);
  });
});
