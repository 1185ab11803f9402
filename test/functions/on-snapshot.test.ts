import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as disableIdle } from '../../functions/disable-idle/index';
import { handler as onSnapshot } from '../../functions/on-snapshot/index';
import { mnsEvent } from '../../local/runtime/events';
import { BUCKET, eventsOf, keysUnder, ledgerFactKeys, snapshotNoticeBody, startWorld, type World } from './harness';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.stop());

const SUB = { accountId: '1234567890123456', subscriptionName: 'on-snapshot' };

function ossEventBody(channel: string, atMs: number): string {
  return JSON.stringify({
    events: [
      {
        eventName: 'ObjectCreated:PutObject',
        eventSource: 'acs:oss',
        eventTime: new Date(atMs).toISOString(),
        oss: { bucket: { name: BUCKET }, object: { key: `${channel}/${atMs}.jpg`, size: 100 } },
      },
    ],
  });
}

function message(body: string, id: string, attributes?: Record<string, string>) {
  return {
    messageId: id,
    topic: 'livecycle-snapshots',
    body,
    publishTime: world.clock.now(),
    ...(attributes ? { attributes } : {}),
  };
}

async function run(event: Buffer) {
  return (await onSnapshot(event, world.context('on-snapshot'))) as {
    recorded: number;
    duplicates: number;
    started: number;
    skipped: string[];
  };
}

async function liveChannel(channel: string): Promise<void> {
  await world.bucket.putLiveChannel(channel, {});
  await world.emu.ingest.start({ bucket: BUCKET, channel });
  await world.clock.advance(1_000);
}

describe('on-snapshot envelopes and bodies', () => {
  it('reads every envelope format the trigger can deliver', async () => {
    await world.bucket.putLiveChannel('snap-formats', {});
    const at = (n: number) => world.clock.now() + n * 10;
    const events: [string, Buffer][] = [
      ['JSON', mnsEvent('JSON', message(snapshotNoticeBody('snap-formats', at(1)), 'M1'), SUB)],
      [
        'JSON + attributes',
        mnsEvent(
          'JSON',
          message(snapshotNoticeBody('snap-formats', at(2)), 'M2', { Extend: '{"k":"v"}', other: 'x' }),
          SUB,
        ),
      ],
      [
        'JSON, base64 Message',
        mnsEvent('JSON', message(Buffer.from(snapshotNoticeBody('snap-formats', at(3))).toString('base64'), 'M3'), SUB),
      ],
      ['STREAM raw', mnsEvent('STREAM', message(snapshotNoticeBody('snap-formats', at(4)), 'M4'), SUB)],
      [
        'STREAM {body, attrs}',
        mnsEvent('STREAM', message(snapshotNoticeBody('snap-formats', at(5)), 'M5', { a: 'b' }), SUB),
      ],
      ['STREAM base64', Buffer.from(Buffer.from(snapshotNoticeBody('snap-formats', at(6))).toString('base64'))],
      ['OSS object event, JSON', mnsEvent('JSON', message(ossEventBody('snap-formats', at(7)), 'M7'), SUB)],
      ['OSS object event, STREAM', mnsEvent('STREAM', message(ossEventBody('snap-formats', at(8)), 'M8'), SUB)],
    ];
    for (const [name, event] of events)
      expect({ name, recorded: (await run(event)).recorded }).toEqual({ name, recorded: 1 });
    const snapshots = await keysUnder(world.bucket, '_livecycle/snapshots/snap-formats/');
    expect(snapshots).toHaveLength(events.length);
    expect((await world.ledger.latestSnapshot('snap-formats'))?.objectKey).toBe(`snap-formats/${at(8)}.jpg`);
  });

  it('acknowledges garbage without throwing or recording', async () => {
    const garbage: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('not json at all {'),
      Buffer.from('null'),
      Buffer.from('[1,2,3]'),
      Buffer.from('"a string"'),
      Buffer.from(JSON.stringify({ Message: 42, MessageId: 'X' })),
      Buffer.from(JSON.stringify({ Message: 'not json', MessageId: 'X' })),
      Buffer.from(JSON.stringify({ body: '{"event":"LiveChannelSnapshot"}' })),
      Buffer.from(
        JSON.stringify({
          event: 'LiveChannelSnapshot',
          bucket: BUCKET,
          channel: '../etc',
          object: 'x.jpg',
          time: 'yesterday',
        }),
      ),
      Buffer.from(
        JSON.stringify({
          event: 'LiveChannelSnapshot',
          bucket: 'other-bucket',
          channel: 'cam',
          object: 'cam/1.jpg',
          time: new Date().toISOString(),
        }),
      ),
      Buffer.from(
        JSON.stringify({
          events: [{ oss: { bucket: { name: BUCKET }, object: { key: 'no-channel.jpg' } }, eventTime: 'x' }, null, 7],
        }),
      ),
      Buffer.from(
        JSON.stringify({
          events: [
            { eventTime: new Date().toISOString(), oss: { bucket: { name: BUCKET }, object: { key: 'cam/a/b.ts' } } },
          ],
        }),
      ),
      Buffer.from(JSON.stringify({ __proto__: { event: 'LiveChannelSnapshot' }, constructor: 1 })),
      Buffer.alloc(2 * 1024 * 1024, 0x7b),
      Buffer.from(`{"Message":"${'A'.repeat(200_000)}"}`),
      Buffer.from([0xff, 0xfe, 0x00, 0x01]),
      // No time in the body, and a PublishTime no Date can hold: skipped, not a RangeError.
      Buffer.from(
        JSON.stringify({
          Message: JSON.stringify({
            event: 'LiveChannelSnapshot',
            bucket: BUCKET,
            channel: 'cam',
            object: 'cam/1.jpg',
          }),
          MessageId: 'X',
          PublishTime: 1e300,
        }),
      ),
    ];
    const before = await ledgerFactKeys(world.bucket);
    for (const event of garbage) {
      const result = await run(event);
      expect(result.recorded).toBe(0);
      expect(result.skipped.length).toBeGreaterThan(0);
    }
    expect(await ledgerFactKeys(world.bucket)).toEqual(before);
  });
});

describe('on-snapshot effects', () => {
  it('a snapshot from a channel believed idle opens its broadcast once, however often it is delivered', async () => {
    await liveChannel('snap-live');
    const event = mnsEvent('JSON', message(snapshotNoticeBody('snap-live', world.clock.now()), 'M-LIVE'), SUB);
    const first = await run(event);
    expect(first).toMatchObject({ recorded: 1, started: 1 });
    const again = await Promise.all([run(event), run(event), run(event)]);
    expect(again.map((r) => r.duplicates)).toEqual([1, 1, 1]);
    // A later snapshot while live is recorded but announces nothing new.
    await world.clock.advance(10_000);
    const later = await run(
      mnsEvent('JSON', message(snapshotNoticeBody('snap-live', world.clock.now()), 'M-LIVE-2'), SUB),
    );
    expect(later).toMatchObject({ recorded: 1, started: 0 });
    expect(eventsOf(world, 'snap-live').map((e) => e.type)).toEqual(['stream.started']);
    expect(await world.ledger.lastSeenLive('snap-live')).toBe(world.clock.now());
    const pushes = await world.ledger.listPushes('snap-live');
    expect(pushes.map((p) => p.source)).toEqual(['stat']);
    await world.emu.ingest.stop({ bucket: BUCKET, channel: 'snap-live' });
  });

  it('concurrent first deliveries of different snapshots still announce one start', async () => {
    await liveChannel('snap-race');
    const now = world.clock.now();
    const events = [0, 1, 2, 3].map((i) =>
      mnsEvent('JSON', message(snapshotNoticeBody('snap-race', now + i), `M-R${i}`), SUB),
    );
    const results = await Promise.all(events.map(run));
    expect(results.reduce((n, r) => n + r.recorded, 0)).toBe(4);
    // Concurrent emitters of one event: only the delivery claimant POSTs it, once.
    expect(eventsOf(world, 'snap-race').map((e) => [e.type, e.sequence])).toEqual([['stream.started', 1]]);
    await world.emu.ingest.stop({ bucket: BUCKET, channel: 'snap-race' });
  });

  it('a notice dated more than 15 min from now writes nothing: a snapshot "in 2286" cannot keep an idle channel from being disabled', async () => {
    await world.bucket.putLiveChannel('snap-future', {});
    const before = await ledgerFactKeys(world.bucket);
    const now = world.clock.now();
    for (const [i, at] of [Date.UTC(2286, 0, 1), now + 15 * 60_000 + 1, now - 15 * 60_000 - 1].entries()) {
      for (const body of [snapshotNoticeBody('snap-future', at), ossEventBody('snap-future', at)]) {
        const result = await run(mnsEvent('JSON', message(body, `M-F${i}`), SUB));
        expect(result).toMatchObject({ recorded: 0, duplicates: 0, started: 0 });
        expect(result.skipped).toEqual([
          expect.stringMatching(/^snap-future: snapshot time .* is more than 15 min from now$/),
        ]);
      }
    }
    expect(await ledgerFactKeys(world.bucket)).toEqual(before);
    expect(await world.ledger.lastSeenLive('snap-future')).toBeUndefined();

    // Never pushed to: past IDLE_AFTER (30 min) it is disabled.
    await world.clock.advance(31 * 60_000);
    await disableIdle(world.tick(), world.context('disable-idle'));
    expect((await world.bucket.getLiveChannelInfo('snap-future')).status).toBe('disabled');
  });

  it('a notice for a channel that does not exist writes nothing', async () => {
    const before = await ledgerFactKeys(world.bucket);
    for (const body of [
      snapshotNoticeBody('snap-nobody', world.clock.now()),
      ossEventBody('snap-nobody', world.clock.now()),
    ]) {
      const result = await run(mnsEvent('JSON', message(body, 'M-NOBODY'), SUB));
      expect(result).toMatchObject({
        recorded: 0,
        duplicates: 0,
        started: 0,
        skipped: ['snap-nobody: no such channel'],
      });
    }
    expect(await ledgerFactKeys(world.bucket)).toEqual(before);
  });
});
