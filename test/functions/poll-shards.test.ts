import { afterAll, beforeAll, expect, it } from 'vitest';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { BUCKET, keysUnder, startWorld, type World } from './harness';

let world: World;
beforeAll(async () => {
  world = await startWorld({ POLL_SHARD_SIZE: '2' });
});
afterAll(() => world.stop());

it('fans a bucket with more channels than POLL_SHARD_SIZE out to shard invocations of itself', async () => {
  for (const name of ['s-a', 's-b', 's-c', 's-d', 's-e']) await world.bucket.putLiveChannel(name, {});
  world.dispatch.set('poll-stat', pollStat);
  const result = (await pollStat(world.tick(), world.context('poll-stat'))) as {
    buckets: unknown[];
    shards: unknown[];
  };
  await world.settled();
  expect(result.buckets).toEqual([]);
  expect(world.invocations.map((i) => i.payload)).toEqual([
    { bucket: BUCKET, marker: '', limit: 2 },
    { bucket: BUCKET, marker: 's-b', limit: 2 },
    { bucket: BUCKET, marker: 's-d', limit: 2 },
  ]);
  const states = await keysUnder(world.bucket, '_livecycle/poll/');
  expect(states).toHaveLength(3);
  const polled = new Set<string>();
  for (const key of states)
    for (const name of Object.keys(JSON.parse((await world.bucket.getObject(key)).body.toString()).channels))
      polled.add(name);
  expect([...polled].sort()).toEqual(['s-a', 's-b', 's-c', 's-d', 's-e']);
});
