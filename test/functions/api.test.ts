import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as cleanup } from '../../functions/cleanup-orphans/index';
import { channelName } from '../../shared/api/validate';
import { ReportBuilder } from '../../shared/cleanup';
import { compactUtcSeconds } from '../../shared/lifecycle';
import { OssError } from '../../shared/oss';
import { playlistSegments } from '../cleanup/helpers';
import {
  BUCKET,
  SNAPSHOT_TOPIC,
  callApiNextSecond,
  cleanupTick,
  distinctEventsOf,
  keysUnder,
  startWorld,
  type World,
} from './harness';

let world: World;
beforeAll(async () => {
  // For the cleanup runs in 'api holds': real deletes, VODs expire after a day.
  world = await startWorld({ DRY_RUN: 'false', VOD_RETENTION_DAYS: '1' });
});
afterAll(() => world.stop());

/** Each signed request needs its own second (the api refuses a replayed signature). */
const call = (method: string, path: string, opts: { body?: unknown; query?: Record<string, string> } = {}) =>
  callApiNextSecond(api, world, method, path, opts);

describe('api channels', () => {
  it('creates a channel once, refuses the name again unless replace, and hands out a working publish URL', async () => {
    const created = await call('POST', '/channels', {
      body: { name: 'api-cam', fragDuration: 2, fragCount: 4, snapshot: true },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'api-cam',
      bucket: BUCKET,
      status: 'enabled',
      config: { fragDuration: 2, fragCount: 4, snapshot: true },
    });
    const info = await world.bucket.getLiveChannelInfo('api-cam');
    expect(info.target).toMatchObject({ fragDuration: 2, fragCount: 4 });
    expect(info.snapshot).toMatchObject({ notifyTopic: SNAPSHOT_TOPIC, destBucket: BUCKET, interval: 10 });
    expect(Date.parse(created.body.expiresAt)).toBe(world.clock.now() + 3600_000);
    // One name per field: what create answers, GET answers too (it adds the live status).
    const fetched = await call('GET', '/channels/api-cam');
    expect(fetched.body.config).toMatchObject(created.body.config);

    const again = await call('POST', '/channels', { body: { name: 'api-cam' } });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'channel_exists' } } });
    expect((await world.bucket.getLiveChannelInfo('api-cam')).target.fragDuration).toBe(2);

    await world.emu.ingest.start({ bucket: BUCKET, channel: 'api-cam', signedUrl: created.body.publishUrl });
    await world.emu.ingest.stop({ bucket: BUCKET, channel: 'api-cam' });

    const replaced = await call('POST', '/channels', { body: { name: 'api-cam', replace: true, snapshot: false } });
    expect(replaced.status).toBe(201);
    expect(replaced.body.generation).toBeGreaterThan(created.body.generation);
    expect((await world.ledger.listGenerations('api-cam')).map((g) => g.generation)).toEqual([
      replaced.body.generation,
      created.body.generation,
    ]);
    expect(distinctEventsOf(world, 'api-cam').map((e) => e.type)).toEqual(['channel.created', 'channel.created']);
  });

  it('creates a channel without a name under a generated valid name, and returns it', async () => {
    const first = await call('POST', '/channels', {});
    const second = await call('POST', '/channels', { body: { description: 'nameless' } });
    for (const created of [first, second]) {
      expect(created.status).toBe(201);
      expect(created.body.name).toMatch(/^ch-\d{8}T\d{6}Z-[a-z2-7]{6}$/);
      expect(() => channelName(created.body.name, 'name')).not.toThrow();
      expect(created.body.name.startsWith(`ch-${compactUtcSeconds(created.body.generation)}-`)).toBe(true);
      expect((await world.bucket.getLiveChannelInfo(created.body.name)).status).toBe('enabled');
      expect(await world.ledger.getChannel(created.body.name)).toMatchObject({ generation: created.body.generation });
      expect(distinctEventsOf(world, created.body.name).map((e) => e.type)).toEqual(['channel.created']);
    }
    expect(second.body.name).not.toBe(first.body.name);
    expect((await world.bucket.getLiveChannelInfo(second.body.name)).description).toBe('nameless');
  });

  it('signs publish URLs with the invocation STS token', async () => {
    await call('POST', '/channels', { body: { name: 'api-sts' } });
    const sts = world.emu.mintSts({ ttlSeconds: 3600 });
    await world.clock.advance(1_000);
    const { apiEvent } = await import('./harness');
    const res = (await api(
      apiEvent(world.clock, 'POST', '/channels/api-sts/publish-url', { body: { expiresInSeconds: 600 } }),
      {
        ...world.context('api'),
        credentials: sts,
      },
    )) as { statusCode: number; body: string };
    const body = JSON.parse(res.body) as { publishUrl: string };
    expect(res.statusCode).toBe(200);
    expect(new URL(body.publishUrl).searchParams.get('security-token')).toBe(sts.securityToken);
    await world.emu.ingest.start({ bucket: BUCKET, channel: 'api-sts', signedUrl: body.publishUrl });
    await world.emu.ingest.stop({ bucket: BUCKET, channel: 'api-sts' });
  });

  it('lists channels page by page', async () => {
    for (const name of ['list-a', 'list-b', 'list-c']) await world.bucket.putLiveChannel(name, {});
    const first = await call('GET', '/channels', { query: { limit: '2' } });
    expect(first.status).toBe(200);
    const names: string[] = first.body.channels.map((c: { name: string }) => c.name);
    let cursor = first.body.nextCursor as string | null;
    while (cursor) {
      const page = await call('GET', '/channels', { query: { limit: '2', cursor } });
      names.push(...page.body.channels.map((c: { name: string }) => c.name));
      cursor = page.body.nextCursor;
    }
    expect(names).toEqual(expect.arrayContaining(['list-a', 'list-b', 'list-c']));
    expect(new Set(names).size).toBe(names.length);
  });

  it('answers 404 for a channel that does not exist', async () => {
    for (const [method, path] of [
      ['GET', '/channels/nope'],
      ['POST', '/channels/nope/enable'],
      ['POST', '/channels/nope/disable'],
      ['POST', '/channels/nope/publish-url'],
      ['DELETE', '/channels/nope'],
      ['POST', '/channels/nope/vod'],
    ] as const) {
      const body = path.endsWith('/vod') ? { start: world.clock.now() - 60_000, end: world.clock.now() } : undefined;
      expect(await call(method, path, { body })).toMatchObject({
        status: 404,
        body: { error: { code: 'channel_not_found' } },
      });
    }
  });

  it('disables and deletes a live channel only with force, waiting for the publisher to drop', async () => {
    await call('POST', '/channels', { body: { name: 'api-live' } });
    await world.emu.ingest.start({ bucket: BUCKET, channel: 'api-live' });
    expect(await call('POST', '/channels/api-live/disable')).toMatchObject({
      status: 409,
      body: { error: { code: 'channel_live' } },
    });
    expect(await call('DELETE', '/channels/api-live')).toMatchObject({
      status: 409,
      body: { error: { code: 'channel_live' } },
    });
    expect((await world.bucket.getLiveChannelInfo('api-live')).status).toBe('enabled');

    await world.clock.advance(1_000);
    const { apiEvent } = await import('./harness');
    let res: { statusCode: number; body: string } | undefined;
    const pending = (
      api(
        apiEvent(world.clock, 'DELETE', '/channels/api-live', { query: { force: 'true' } }),
        world.context('api', 120),
      ) as Promise<typeof res>
    ).then((r) => (res = r));
    // OSS drops the publisher ~10 s after the disable; move the clock until the request is answered.
    for (let i = 0; i < 60 && !res; i++) {
      await world.clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 10));
    }
    await pending;
    if (!res) throw new Error('forced delete did not finish');
    expect(res.statusCode).toBe(200);
    await expect(world.bucket.getLiveChannelInfo('api-live')).rejects.toBeInstanceOf(OssError);
    const generation = (await world.ledger.getChannel('api-live'))!.generation;
    expect(await world.ledger.getTombstone('api-live', generation)).toMatchObject({ channel: 'api-live', generation });
    // The delete ended the broadcast it cut off and made its VOD first (PostVodPlaylist needs the channel).
    expect(distinctEventsOf(world, 'api-live').map((e) => e.type)).toEqual([
      'channel.created',
      'channel.disabled',
      'stream.started',
      'stream.ended',
      'vod.ready',
      'channel.deleted',
    ]);
    expect((await world.ledger.listVods('api-live')).map((v) => v.status)).toEqual(['ready']);

    expect(await call('DELETE', '/channels/api-live')).toMatchObject({ status: 404 });
  });

  it('enables and disables idempotently', async () => {
    await call('POST', '/channels', { body: { name: 'api-toggle' } });
    for (let i = 0; i < 2; i++)
      expect(await call('POST', '/channels/api-toggle/disable')).toMatchObject({
        status: 200,
        body: { status: 'disabled' },
      });
    expect(await world.ledger.listDisabled('api-toggle')).toHaveLength(1);
    for (let i = 0; i < 2; i++)
      expect(await call('POST', '/channels/api-toggle/enable')).toMatchObject({
        status: 200,
        body: { status: 'enabled' },
      });
    expect((await world.bucket.getLiveChannelInfo('api-toggle')).status).toBe('enabled');
  });

  it('shows a channel with its broadcasts, VODs, snapshot and holds', async () => {
    await call('POST', '/channels', { body: { name: 'api-show', fragDuration: 2, fragCount: 3 } });
    await world.emu.ingest.start({ bucket: BUCKET, channel: 'api-show' });
    await world.clock.advance(10_000);
    await world.emu.ingest.stop({ bucket: BUCKET, channel: 'api-show' });
    const start = world.clock.now() - 10_000;
    const vod = await call('POST', '/channels/api-show/vod', { body: { start, end: start + 10_000 } });
    expect(vod.status).toBe(201);
    expect(vod.body.status).toBe('ready');
    const playlist = (await world.bucket.getObject(vod.body.playlist)).body.toString('utf8');
    expect(playlist.match(/\.ts/g)?.length).toBeGreaterThanOrEqual(5);
    const repeat = await call('POST', '/channels/api-show/vod', { body: { start, end: start + 10_000 } });
    expect(repeat).toMatchObject({ status: 201, body: { playlist: vod.body.playlist, status: 'ready' } });
    expect(distinctEventsOf(world, 'api-show').filter((e) => e.type === 'vod.ready')).toHaveLength(1);

    const key = (vod.body.playlist as string).split('/')[1]!;
    expect(await call('POST', `/channels/api-show/vods/${key}/hold`, { body: { reason: 'legal' } })).toMatchObject({
      status: 200,
      body: { held: true },
    });
    const shown = await call('GET', '/channels/api-show');
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      name: 'api-show',
      config: { fragDuration: 2, status: 'enabled' },
      live: { status: 'Idle' },
      holds: [{ key, reason: 'legal' }],
    });
    expect(shown.body.vods).toEqual([expect.objectContaining({ status: 'ready', playlist: vod.body.playlist })]);
    expect(await call('DELETE', `/channels/api-show/vods/${key}/hold`)).toMatchObject({
      status: 200,
      body: { held: false },
    });
    expect(await world.ledger.listHolds('api-show')).toEqual([]);
  });

  it('refuses a manual VOD over a range without fragments with 422', async () => {
    await call('POST', '/channels', { body: { name: 'api-empty' } });
    const start = world.clock.now() - 3600_000;
    expect(await call('POST', '/channels/api-empty/vod', { body: { start, end: start + 60_000 } })).toMatchObject({
      status: 422,
      body: { error: { code: 'vod_failed' } },
    });
    expect(await keysUnder(world.bucket, 'api-empty/')).toEqual([]);
  });

  it('returns the latest cleanup report', async () => {
    expect(await call('GET', '/cleanup/report')).toMatchObject({ status: 200, body: { report: null } });
    const settings = { graceSeconds: 0, retentionDays: 0, maxObjects: 1, maxBytes: 1, channelPrefixes: [] };
    const report = new ReportBuilder({ runId: 'run-1', bucket: BUCKET, startedAt: 1, dryRun: true, settings });
    await world.ledger.putCleanupReport(report.build(world.clock.now()));
    expect(await call('GET', '/cleanup/report')).toMatchObject({
      status: 200,
      body: { report: { runId: 'run-1', dryRun: true } },
    });
  });
});

describe('api holds', () => {
  /** One cleanup-orphans invocation through its deployed handler, on a timer event. */
  async function cleanupRun() {
    expect(await cleanupTick(cleanup, world)).toEqual([expect.objectContaining({ status: 'complete' })]);
  }

  it('accepts only generated VOD names that exist, and a hold set through the api pins that VOD through a real cleanup run until released', async () => {
    await call('POST', '/channels', { body: { name: 'api-hold', fragDuration: 2, fragCount: 3 } });
    const start = world.clock.now();
    await world.emu.ingest.start({ bucket: BUCKET, channel: 'api-hold' });
    await world.clock.advance(20_000);
    await world.emu.ingest.stop({ bucket: BUCKET, channel: 'api-hold' });
    const held = await call('POST', '/channels/api-hold/vod', { body: { start, end: start + 6_000 } });
    const free = await call('POST', '/channels/api-hold/vod', { body: { start: start + 12_000, end: start + 20_000 } });
    expect([held.status, free.status]).toEqual([201, 201]);
    const heldKey = (held.body.playlist as string).split('/')[1]!;

    expect(await call('POST', '/channels/api-hold/vods/playlist.m3u8/hold')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_field', field: 'key' } },
    });
    expect(await call('POST', '/channels/api-hold/vods/vod-20200101T000000Z.m3u8/hold')).toMatchObject({
      status: 404,
      body: { error: { code: 'vod_not_found', field: 'key' } },
    });
    expect(await call('POST', `/channels/api-hold/vods/${heldKey}/hold`, { body: { reason: 'legal' } })).toMatchObject({
      status: 200,
      body: { held: true },
    });
    expect(await world.ledger.listHolds('api-hold')).toEqual([
      expect.objectContaining({ holdId: heldKey, reason: 'legal' }),
    ]);

    const heldFragments = await playlistSegments(world.bucket, held.body.playlist);
    const liveFragments = await playlistSegments(world.bucket, 'api-hold/playlist.m3u8');
    const freeOnly = (await playlistSegments(world.bucket, free.body.playlist)).filter(
      (k) => !heldFragments.includes(k) && !liveFragments.includes(k),
    );
    expect(heldFragments.length).toBeGreaterThan(0);
    expect(freeOnly.length).toBeGreaterThan(0);
    expect(await call('DELETE', '/channels/api-hold')).toMatchObject({ status: 200, body: { deleted: true } });

    // Past the VOD retention (1 day) and the orphan grace (1 day).
    await world.clock.advance(2 * 86_400_000);
    await cleanupRun();
    let left = new Set(await keysUnder(world.bucket, 'api-hold/'));
    expect(left.has(held.body.playlist)).toBe(true);
    for (const key of heldFragments) expect(left.has(key), key).toBe(true);
    expect(left.has(free.body.playlist)).toBe(false);
    for (const key of freeOnly) expect(left.has(key), key).toBe(false);

    // Released through the api, the VOD expires at the next run. Its fragments follow a fresh
    // grace period later: the first run recorded the tombstone as cleaned, so the folder is now
    // a channel absent since this run (docs/cleanup.md, step 10).
    expect(await call('DELETE', `/channels/api-hold/vods/${heldKey}/hold`)).toMatchObject({
      status: 200,
      body: { held: false },
    });
    await world.clock.advance(3_600_000);
    await cleanupRun();
    left = new Set(await keysUnder(world.bucket, 'api-hold/'));
    expect(left.has(held.body.playlist)).toBe(false);
    for (const key of heldFragments) expect(left.has(key), key).toBe(true);
    await world.clock.advance(86_400_000);
    await cleanupRun();
    left = new Set(await keysUnder(world.bucket, 'api-hold/'));
    for (const key of heldFragments.filter((k) => !liveFragments.includes(k))) expect(left.has(key), key).toBe(false);
  });
});
