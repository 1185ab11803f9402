/**
 * The whole story on the emulator's clock: create via the api → push with the returned signed
 * URL → snapshots → stop → reconnect inside the window → stop → poll-stat → exactly one VOD with
 * the fragments of both pushes → idle → disable-idle → DELETE → tombstone. Assertions are on what
 * OSS holds and on what a real webhook receiver got.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as disableIdle } from '../../functions/disable-idle/index';
import { handler as generateVod } from '../../functions/generate-vod/index';
import { handler as onSnapshot } from '../../functions/on-snapshot/index';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { OssError } from '../../shared/oss';
import { mnsEvent } from '../../local/runtime/events';
import { BUCKET, SNAPSHOT_TOPIC, callApi, eventsOf, keysUnder, startWorld, type World } from '../functions/harness';

const CHANNEL = 'cam-e2e';
let world: World;

beforeAll(async () => {
  world = await startWorld({ RECONNECT_WINDOW: '60', IDLE_AFTER: '1800', SNAPSHOT_INTERVAL: '10' });
  world.dispatch.set('generate-vod', generateVod);
  world.emu.topics.subscribe(SNAPSHOT_TOPIC, async (message) => {
    await onSnapshot(
      mnsEvent('JSON', message, { accountId: '1234567890123456', subscriptionName: 'on-snapshot' }),
      world.context('on-snapshot'),
    );
  });
});
afterAll(() => world.stop());

async function advance(ms: number): Promise<void> {
  await world.clock.advance(ms);
  await world.emu.topics.idle();
}

async function poll(): Promise<void> {
  await pollStat(world.tick(), world.context('poll-stat'));
  await world.settled();
}

describe('a channel from creation to deletion', () => {
  it('runs the whole lifecycle', async () => {
    // Create through the api, snapshots on.
    const created = await callApi(api, world, 'POST', '/channels', { body: { name: CHANNEL, snapshot: true } });
    expect(created.status).toBe(201);
    expect(created.body.publishUrl).toMatch(/^rtmp:\/\//);
    const info = await world.bucket.getLiveChannelInfo(CHANNEL);
    expect(info.status).toBe('enabled');
    expect(info.snapshot?.notifyTopic).toBe(SNAPSHOT_TOPIC);
    expect(info.snapshot?.destBucket).toBe(BUCKET);
    await poll(); // idle channel: nothing to report

    // Push 1 with the URL the api returned; snapshots arrive while it runs.
    await advance(1_000);
    await world.emu.ingest.start({ bucket: BUCKET, channel: CHANNEL, signedUrl: created.body.publishUrl as string });
    await advance(30_000);
    await poll();
    expect((await world.bucket.getLiveChannelStat(CHANNEL)).status).toBe('Live');
    const snapshot = await world.ledger.latestSnapshot(CHANNEL);
    expect(snapshot?.objectKey).toMatch(new RegExp(`^${CHANNEL}/\\d+\\.jpg$`));
    await world.bucket.headObject(snapshot!.objectKey!);
    await world.emu.ingest.stop({ bucket: BUCKET, channel: CHANNEL });
    const push1 = (await keysUnder(world.bucket, `${CHANNEL}/`)).filter((k) => k.endsWith('.ts'));
    expect(push1.length).toBeGreaterThanOrEqual(6);

    // Reconnect 20 s later: inside the 60 s window, so the same broadcast.
    await advance(20_000);
    await poll();
    await world.emu.ingest.start({ bucket: BUCKET, channel: CHANNEL, signedUrl: created.body.publishUrl as string });
    await advance(25_000);
    await poll();
    await world.emu.ingest.stop({ bucket: BUCKET, channel: CHANNEL });
    const push2 = (await keysUnder(world.bucket, `${CHANNEL}/`)).filter((k) => k.endsWith('.ts') && !push1.includes(k));
    expect(push2.length).toBeGreaterThanOrEqual(5);

    // Inside the window nothing ends; after it (plus the skew allowance) the broadcast ends once.
    await advance(30_000);
    await poll();
    expect(world.invocations.filter((i) => i.fn === 'generate-vod')).toHaveLength(0);
    await advance(40_000);
    await poll();
    await poll();
    const vodCalls = world.invocations.filter((i) => i.fn === 'generate-vod');
    expect(vodCalls).toHaveLength(1);

    const vods = (await keysUnder(world.bucket, `${CHANNEL}/vod-`)).filter((k) => k.endsWith('.m3u8'));
    expect(vods).toHaveLength(1);
    const playlist = (await world.bucket.getObject(vods[0]!)).body.toString('utf8');
    for (const key of [...push1, ...push2]) expect(playlist).toContain(key.slice(CHANNEL.length + 1));
    expect(playlist).toContain('#EXT-X-ENDLIST');

    // Idle for 30 minutes after the broadcast ended (70 s ago): not yet at 28 min, then disabled.
    await advance(27 * 60_000);
    await disableIdle(world.tick(), world.context('disable-idle'));
    expect((await world.bucket.getLiveChannelInfo(CHANNEL)).status).toBe('enabled');
    await advance(3 * 60_000);
    await disableIdle(world.tick(), world.context('disable-idle'));
    expect((await world.bucket.getLiveChannelInfo(CHANNEL)).status).toBe('disabled');
    const disables = await world.ledger.listDisabled(CHANNEL);
    expect(disables).toHaveLength(1);
    expect(disables[0]?.reason).toBe('idle');

    // Delete through the api: the channel goes, a tombstone stays.
    await advance(1_000);
    const deleted = await callApi(api, world, 'DELETE', `/channels/${CHANNEL}`);
    expect(deleted.status).toBe(200);
    await expect(world.bucket.getLiveChannelInfo(CHANNEL)).rejects.toSatisfy(
      (e: unknown) => e instanceof OssError && e.code === 'NoSuchLiveChannel',
    );
    const tombstones = [];
    for await (const t of world.ledger.listTombstones()) tombstones.push(t);
    expect(tombstones.map((t) => [t.channel, t.generation])).toEqual([[CHANNEL, created.body.generation]]);

    // The receiver got every event once, signed, in order, numbered without gaps.
    const events = eventsOf(world, CHANNEL);
    expect(world.deliveries.every((d) => d.verified)).toBe(true);
    expect(events.map((e) => e.type)).toEqual([
      'channel.created',
      'stream.started',
      'stream.ended',
      'vod.ready',
      'channel.disabled',
      'channel.deleted',
    ]);
    expect(events.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.find((e) => e.type === 'vod.ready')?.data.playlist).toBe(vods[0]);
  });
});
