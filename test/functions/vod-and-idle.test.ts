import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as disableIdle } from '../../functions/disable-idle/index';
import { handler as generateVod } from '../../functions/generate-vod/index';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { isDefinitiveRefusal } from '../../shared/operations/generate-vod';
import { OssError, OssNetworkError, OssProtocolError, OssTimeoutError } from '../../shared/oss';
import { BUCKET, distinctEventsOf, keysUnder, objectsUnder, startWorld, type World } from './harness';

let world: World;
beforeAll(async () => {
  world = await startWorld({ RECONNECT_WINDOW: '60', IDLE_AFTER: '600' });
});
afterAll(() => world.stop());

const payload = (channel: string, broadcastId: string) =>
  Buffer.from(JSON.stringify({ bucket: BUCKET, channel, broadcastId }));

/** A finished broadcast that poll-stat has planned (pending VOD) and handed over. */
async function endedBroadcast(channel: string): Promise<string> {
  await world.bucket.putLiveChannel(channel, {});
  await world.emu.ingest.start({ bucket: BUCKET, channel });
  await world.clock.advance(20_000);
  await world.emu.ingest.stop({ bucket: BUCKET, channel });
  await world.clock.advance(70_000);
  await pollStat(world.tick(), world.context('poll-stat'));
  const call = world.invocations.find((i) => (i.payload as { channel: string }).channel === channel);
  return (call?.payload as { broadcastId: string }).broadcastId;
}

describe('generate-vod', () => {
  it('builds a VOD once however often and however concurrently it is invoked', async () => {
    const channel = 'vod-once';
    const id = await endedBroadcast(channel);
    await generateVod(payload(channel, id), world.context('generate-vod'));
    const after = await objectsUnder(world.bucket, `${channel}/vod-`);
    expect([...after.keys()]).toEqual([`${channel}/vod-${id}.m3u8`]);
    await Promise.all([1, 2, 3].map(() => generateVod(payload(channel, id), world.context('generate-vod'))));
    expect(await objectsUnder(world.bucket, `${channel}/vod-`)).toEqual(after);
    expect((await world.ledger.getVod(channel, id))?.status).toBe('ready');
    expect(distinctEventsOf(world, channel).map((e) => e.type)).toEqual([
      'stream.started',
      'stream.ended',
      'vod.ready',
    ]);
  });

  it('the timer sweep builds VODs whose invocation was lost', async () => {
    const channel = 'vod-sweep';
    const id = await endedBroadcast(channel);
    await world.ledger.recordChannelCreated({
      channel,
      generation: world.clock.now() - 200_000,
      config: { description: '', fragDuration: 5, fragCount: 3, playlistName: 'playlist.m3u8', snapshots: false },
    });
    const result = (await generateVod(world.tick(), world.context('generate-vod'))) as {
      vods: { channel: string; outcome: string }[];
    };
    expect(result.vods).toContainEqual(expect.objectContaining({ channel, broadcastId: id, outcome: 'ready' }));
    expect(await keysUnder(world.bucket, `${channel}/vod-`)).toEqual([`${channel}/vod-${id}.m3u8`]);
  });

  it('records failed only for a definitive refusal: never for a timeout, a reset, a 5xx, a throttle, 403, 408 or an unreadable answer', () => {
    const oss = (status: number, code: string) => new OssError('PostVodPlaylist', { status, code, message: 'x' });
    expect(isDefinitiveRefusal(oss(400, 'InvalidArgument'))).toBe(true);
    expect(isDefinitiveRefusal(oss(404, 'NoSuchLiveChannel'))).toBe(true);
    for (const err of [
      oss(500, 'InternalError'),
      oss(503, 'MetaOperationQpsLimitExceeded'),
      oss(429, 'TooManyRequests'),
      oss(408, 'RequestTimeout'),
      oss(403, 'SecurityTokenExpired'),
      oss(404, 'NoSuchKey'),
      new OssProtocolError('PostVodPlaylist', 200, 'truncated'),
      new OssTimeoutError('PostVodPlaylist', 'deadline', 100),
      new OssNetworkError('PostVodPlaylist', 'UND_ERR_SOCKET', 'reset'),
      new TypeError('bug'),
    ]) {
      expect(isDefinitiveRefusal(err)).toBe(false);
    }
  });

  it('acknowledges payloads it cannot use', async () => {
    expect(
      await generateVod(Buffer.from('{"bucket":"livecycle-demo","channel":"x"}'), world.context('generate-vod')),
    ).toEqual({ ignored: true });
    expect(await generateVod(payload('no-such', '20260101T000000Z'), world.context('generate-vod'))).toEqual({
      vods: [expect.objectContaining({ outcome: 'not-planned' })],
    });
  });
});

describe('disable-idle', () => {
  it('disables an idle channel once, never a live one, and not before IDLE_AFTER', async () => {
    await world.bucket.putLiveChannel('idle-quiet', {});
    await world.bucket.putLiveChannel('idle-live', {});
    await world.emu.ingest.start({ bucket: BUCKET, channel: 'idle-live' });
    await world.clock.advance(9 * 60_000);
    await disableIdle(world.tick(), world.context('disable-idle'));
    expect((await world.bucket.getLiveChannelInfo('idle-quiet')).status).toBe('enabled');

    await world.clock.advance(2 * 60_000);
    await Promise.all([1, 2, 3].map(() => disableIdle(world.tick(), world.context('disable-idle'))));
    await disableIdle(world.tick(), world.context('disable-idle'));
    expect((await world.bucket.getLiveChannelInfo('idle-quiet')).status).toBe('disabled');
    expect((await world.bucket.getLiveChannelInfo('idle-live')).status).toBe('enabled');
    const records = await world.ledger.listDisabled('idle-quiet');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ reason: 'idle', channel: 'idle-quiet' });
    expect(distinctEventsOf(world, 'idle-quiet').map((e) => e.type)).toEqual(['channel.disabled']);
    expect(await world.ledger.listDisabled('idle-live')).toEqual([]);
    await world.emu.ingest.stop({ bucket: BUCKET, channel: 'idle-live' });
  });
});
