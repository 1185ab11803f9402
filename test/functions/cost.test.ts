/**
 * Issue #16, cost per channel: through the deployed handlers over the emulator. Storage comes from
 * cleanup's own listing and must equal the sum of the object sizes under each channel's prefix;
 * requests are counted per channel by every invocation and land in the ledger per month; budgets
 * raise their webhooks once per month.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as cleanup } from '../../functions/cleanup-orphans/index';
import { handler as pollStat } from '../../functions/poll-stat/index';
import { timerEvent } from '../../local/runtime/events';
import type { OssBucket } from '../../shared/oss';
import { BUCKET, callApi, keysUnder, startWorld, type World } from './harness';

let world: World;
beforeAll(async () => {
  world = await startWorld({ COST_BUDGET_CNY: '' });
});
afterAll(() => world.stop());

async function call(method: string, path: string, opts: { body?: unknown; query?: Record<string, string> } = {}) {
  await world.clock.advance(1_000);
  return callApi(api, world, method, path, opts);
}

async function cleanupRun() {
  const result = (await cleanup(
    timerEvent('hourly', world.clock.now(), undefined),
    world.context('cleanup-orphans', 900),
  )) as { buckets: { status: string }[] };
  expect(result.buckets).toEqual([expect.objectContaining({ status: 'complete' })]);
}

/** What the bucket holds under a prefix, by listing it (the figure cost must reproduce). */
async function sizesUnder(bucket: OssBucket, prefix: string): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for await (const o of bucket.iterateObjects({ prefix })) {
    objects++;
    bytes += o.size;
  }
  return { objects, bytes };
}

async function push(channel: string, publishUrl: string, ms = 20_000): Promise<void> {
  await world.emu.ingest.start({ bucket: BUCKET, channel, signedUrl: publishUrl });
  await world.clock.advance(ms);
  await world.emu.ingest.stop({ bucket: BUCKET, channel });
}

describe('cost per channel', () => {
  it('bytes and objects equal the sizes under each prefix; requests are counted per channel and operation', async () => {
    const a = await call('POST', '/channels', { body: { name: 'cost-a' } });
    const b = await call('POST', '/channels', { body: { name: 'cost-b' } });
    expect([a.status, b.status]).toEqual([201, 201]);
    await push('cost-a', a.body.publishUrl, 30_000);
    await push('cost-b', b.body.publishUrl, 10_000);
    await world.bucket.putObject('cost-a/notes.txt', 'an operator’s note');
    for (let i = 0; i < 3; i++) {
      await pollStat(world.tick(), world.context('poll-stat'));
      await world.clock.advance(60_000);
    }
    await cleanupRun();

    const report = await call('GET', '/cost');
    expect(report.status).toBe(200);
    expect(report.body.prices).toMatchObject({
      source: expect.any(String),
      asOf: expect.any(String),
      region: 'cn-hangzhou',
    });
    for (const name of ['cost-a', 'cost-b']) {
      const row = report.body.channels.find((c: { name: string }) => c.name === name);
      expect(row, name).toBeDefined();
      const listed = await sizesUnder(world.bucket, `${name}/`);
      expect(listed.bytes).toBeGreaterThan(0);
      expect({ objects: row.objects, bytes: row.bytes }).toEqual(listed);
      const kinds = Object.values(row.storage as Record<string, { objects: number; bytes: number }>);
      expect(kinds.reduce((s, k) => s + k.bytes, 0)).toBe(listed.bytes);
      expect(row.requests.byOperation.GetLiveChannelStat).toBeGreaterThanOrEqual(3);
      expect(row.requestsPerMonth).toBeGreaterThan(row.requests.total);
      expect(row.cnyPerMonth).toMatchObject({
        storage: expect.any(Number),
        requests: expect.any(Number),
        compute: expect.any(Number),
        total: expect.any(Number),
      });
      expect(row.compute.invocations).toBeGreaterThan(0);
    }
    const a1 = report.body.channels.find((c: { name: string }) => c.name === 'cost-a');
    expect(a1.storage.other).toEqual({ objects: 1, bytes: Buffer.byteLength('an operator’s note') });
    expect(a1.storage.playlists.objects).toBeGreaterThan(0);

    const one = await call('GET', '/channels/cost-b/cost');
    expect(one.status).toBe(200);
    expect(one.body.channel.name).toBe('cost-b');
    expect((await call('GET', '/channels/no-such-channel/cost')).status).toBe(404);
  });

  it('usage folded by cleanup is counted once, even when deleting the folded raw records fails', async () => {
    // Polls recorded since the last rollup: raw records the next rollup folds.
    for (let i = 0; i < 2; i++) {
      await pollStat(world.tick(), world.context('poll-stat'));
      await world.clock.advance(60_000);
    }
    const before = await call('GET', '/channels/cost-a/cost');
    const rawKeys = async () => (await keysUnder(world.bucket, '_livecycle/usage/')).filter((k) => k.includes('/raw/'));
    // Deleting the folded records fails: they stay, named by the rollup, and are not counted again.
    world.emu.faults.set([{ operation: 'DeleteMultipleObjects', rate: 1, kind: 'internal-error' }], 1);
    try {
      await cleanupRun();
    } finally {
      world.emu.faults.set([]);
    }
    expect((await rawKeys()).length).toBeGreaterThan(0);
    const rollups = (await keysUnder(world.bucket, '_livecycle/usage/')).filter((k) => k.includes('/rollups/'));
    expect(rollups.length).toBeGreaterThan(0);
    await cleanupRun();
    // The second run folded and deleted what the first could not (only records written since remain).
    const after = await call('GET', '/channels/cost-a/cost');
    const ops = (body: Record<string, any>) => body.channel.requests.byOperation as Record<string, number>;
    // Requests only grow (the GETs of this test add some), and never double: nothing counted twice.
    for (const [op, n] of Object.entries(ops(before.body))) {
      expect(ops(after.body)[op], op).toBeGreaterThanOrEqual(n);
      expect(ops(after.body)[op], op).toBeLessThan(2 * n + 20);
    }
    expect(ops(after.body).GetLiveChannelStat).toBe(ops(before.body).GetLiveChannelStat);
  });
});
