import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { BUCKET, distinctEventsOf, eventsOf, keysUnder, objectsUnder, startWorld, type World } from './harness';

let world: World;
beforeAll(async () => {
  world = await startWorld({ RECONNECT_WINDOW: '60', POLL_SHARD_SIZE: '1000' });
});
afterAll(() => world.stop());

const poll = () => pollStat(world.tick(), world.context('poll-stat'));

/** Everything poll-stat owns in the ledger except the poll state's observation times. */
async function ledgerState(channel: string) {
  const objects = await objectsUnder(world.bucket, '_livecycle/');
  return [...objects]
    .filter(([key]) => key.includes(`/${channel}/`) && !key.includes('/webhooks/'))
    .map(([key, body]) => [key, JSON.parse(body).observedAt === undefined ? body : 'observation']);
}

async function broadcast(channel: string, seconds: number): Promise<void> {
  await world.emu.ingest.start({ bucket: BUCKET, channel });
  await world.clock.advance(seconds * 1000);
  await world.emu.ingest.stop({ bucket: BUCKET, channel });
}

describe('poll-stat', () => {
  it('detects start and end once, whether ticks repeat or overlap', async () => {
    const channel = 'poll-once';
    await world.bucket.putLiveChannel(channel, {});
    await world.emu.ingest.start({ bucket: BUCKET, channel });
    await world.clock.advance(12_000);
    await poll();
    await Promise.all([poll(), poll(), poll()]);
    expect(distinctEventsOf(world, channel).map((e) => e.type)).toEqual(['stream.started']);
    await world.emu.ingest.stop({ bucket: BUCKET, channel });

    await world.clock.advance(30_000);
    await poll();
    expect(world.invocations).toHaveLength(0); // inside the reconnect window
    await world.clock.advance(40_000);
    await poll();
    const afterFirst = await ledgerState(channel);
    const deliveredAfterFirst = eventsOf(world, channel).length;
    await poll();
    await Promise.all([poll(), poll(), poll()]);
    expect(await ledgerState(channel)).toEqual(afterFirst);
    expect(eventsOf(world, channel)).toHaveLength(deliveredAfterFirst);
    expect(distinctEventsOf(world, channel).map((e) => e.type)).toEqual(['stream.started', 'stream.ended']);
    expect(world.invocations.map((i) => i.payload)).toEqual([
      { bucket: BUCKET, channel, broadcastId: expect.stringMatching(/^\d{8}T\d{6}Z$/) },
    ]);
    const vod = await world.ledger.listVods(channel);
    expect(vod.map((v) => v.status)).toEqual(['pending']);
    expect(vod[0]?.parts).toHaveLength(1);
  });

  it('records the pushes History reports, and one broadcast per reconnect window', async () => {
    const channel = 'poll-reconnect';
    await world.bucket.putLiveChannel(channel, {});
    await broadcast(channel, 20);
    await world.clock.advance(10_000);
    await poll();
    await broadcast(channel, 20);
    await world.clock.advance(61_000 + 5_000);
    await poll();
    const pushes = await world.ledger.listPushes(channel);
    expect(pushes.filter((p) => p.source === 'history')).toHaveLength(2);
    const ended = distinctEventsOf(world, channel).filter((e) => e.type === 'stream.ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]?.data.pushes).toBe(2);
  });

  it('asks nothing of disabled channels and only Stat of quiet enabled ones', async () => {
    await world.bucket.putLiveChannel('poll-quiet', {});
    await world.bucket.putLiveChannel('poll-off', { status: 'disabled' });
    await poll();
    const before = (await keysUnder(world.bucket, '_livecycle/poll/')).length;
    // History or any write would now fail; a quiet tick needs neither.
    world.emu.faults.set([
      { operation: 'GetLiveChannelHistory', rate: 1, kind: 'internal-error' },
      { operation: 'PutObject', rate: 1, kind: 'internal-error' },
    ]);
    try {
      const result = (await poll()) as { buckets: { polled: number; reconciled: number }[] };
      expect(result.buckets[0]?.reconciled).toBe(0);
    } finally {
      world.emu.faults.set([]);
    }
    expect((await keysUnder(world.bucket, '_livecycle/poll/')).length).toBe(before);
  });

  it('acknowledges an unrecognised payload', async () => {
    expect(await pollStat(Buffer.from('{"bucket":"x"}'), world.context('poll-stat'))).toEqual({ ignored: true });
  });

  it('acknowledges shard payloads it could not poll and events that are not timer events, without a request', async () => {
    const shard = (o: object) => Buffer.from(JSON.stringify({ bucket: BUCKET, marker: '', limit: 10, ...o }));
    const bad = [
      shard({ marker: 'm'.repeat(1024) }), // OSS refuses markers of 1024 bytes or more
      shard({ marker: 'a/b' }),
      shard({ marker: 7 }),
      shard({ bucket: 'not-configured' }),
      shard({ limit: 0 }),
      shard({ limit: 1.5 }),
      shard({ limit: 1_000_000 }), // past POLL_SHARD_SIZE
      Buffer.from('not json'),
      Buffer.from('[]'),
      Buffer.from(JSON.stringify({ triggerTime: 'yesterday', triggerName: 't' })),
      Buffer.from(JSON.stringify({ triggerTime: '2024-05-01T12:00:00Z', triggerName: 't', payload: 42 })),
    ];
    // Any OSS request would now fail, so only an answer without one is { ignored: true }.
    world.emu.faults.set([{ operation: '*', rate: 1, kind: 'internal-error' }]);
    try {
      for (const event of bad) expect(await pollStat(event, world.context('poll-stat'))).toEqual({ ignored: true });
    } finally {
      world.emu.faults.set([]);
    }
  });
});
