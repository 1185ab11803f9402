/**
 * Issue #16, budgets: `channel.budget_warning` at 80 % and `channel.budget_exceeded` at 100 % of a
 * channel's monthly budget (COST_BUDGET_CNY, or the api's per-channel override), signed, once each
 * per channel and month however often cleanup runs, retried or overlapping. Spending is made a
 * function of the injected clock alone: only storage is priced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { handler as cleanup } from '../../functions/cleanup-orphans/index';
import { timerEvent } from '../../local/runtime/events';
import { callApi, startWorld, type World } from './harness';

let world: World;
beforeAll(async () => {
  world = await startWorld({
    COST_PRICES: JSON.stringify({
      storageGbMonth: 1e8,
      putPer10k: 0,
      getPer10k: 0,
      fcInvocationsPer10k: 0,
      fcGbSecond: 0,
      fcVcpuSecond: 0,
    }),
    COST_BUDGET_CNY: '1000000',
  });
});
afterAll(() => world.stop());

async function call(method: string, path: string, opts: { body?: unknown } = {}) {
  await world.clock.advance(1_000);
  return callApi(api, world, method, path, opts);
}

/** One cleanup run; `mayOverlap`: another run may hold the lease. */
async function cleanupRun(mayOverlap = false) {
  // Runs are minutes apart, as the timer's are (spending grows with the month passed).
  await world.clock.advance(10 * 60_000);
  const result = (await cleanup(
    timerEvent('hourly', world.clock.now(), undefined),
    world.context('cleanup-orphans', 900),
  )) as { buckets: { status: string }[] };
  if (!mayOverlap) expect(result.buckets).toEqual([expect.objectContaining({ status: 'complete' })]);
}

describe('budgets', () => {
  const budgetEvents = (channel: string) =>
    world.deliveries
      .filter((d) => d.payload.channel === channel && d.payload.type.startsWith('channel.budget_'))
      .map((d) => {
        expect(d.verified).toBe(true);
        return `${d.payload.type}:${String((d.payload.data as { month: string }).month)}`;
      });

  it('warning at 80 %, exceeded at 100 %, once each per month, whatever runs repeat or overlap', async () => {
    for (const name of ['bud-w', 'bud-x', 'bud-none']) {
      expect((await call('POST', '/channels', { body: { name } })).status).toBe(201);
      await world.bucket.putObject(`${name}/clip.bin`, Buffer.alloc(1000));
    }
    await cleanupRun();
    const spent = async (name: string) =>
      (await call('GET', `/channels/${name}/cost`)).body.channel.cnyThisMonth.total as number;
    const w = await spent('bud-w');
    expect(w).toBeGreaterThan(1);
    // bud-w at about 88 % of its budget, bud-x at about 150 %; bud-none has the (huge) default.
    expect(
      await call('PUT', '/channels/bud-w/budget', { body: { cnyPerMonth: Math.round((w / 0.88) * 100) / 100 } }),
    ).toMatchObject({
      status: 200,
      body: { name: 'bud-w', by: expect.stringMatching(/^api:/) },
    });
    const x = await spent('bud-x');
    expect(
      (await call('PUT', '/channels/bud-x/budget', { body: { cnyPerMonth: Math.round((x / 1.5) * 100) / 100 } }))
        .status,
    ).toBe(200);
    expect((await call('PUT', '/channels/bud-x/budget', { body: { cnyPerMonth: -1 } })).body.error).toMatchObject({
      code: 'invalid_field',
      field: 'cnyPerMonth',
    });

    await cleanupRun();
    // A retried run and two overlapping runs: nothing new.
    await cleanupRun();
    await Promise.all([cleanupRun(true), cleanupRun(true)]);
    await cleanupRun();
    const march = '2026-03';
    expect(budgetEvents('bud-w').sort()).toEqual([`channel.budget_warning:${march}`]);
    expect(budgetEvents('bud-x').sort()).toEqual([
      `channel.budget_exceeded:${march}`,
      `channel.budget_warning:${march}`,
    ]);
    expect(budgetEvents('bud-none')).toEqual([]);
    const x1 = await call('GET', '/channels/bud-x/cost');
    expect(x1.body.channel.budget).toMatchObject({ source: 'channel', level: 'exceeded' });

    // Next month: new events, once again.
    await world.clock.advance(Date.UTC(2026, 3, 20) - world.clock.now());
    await cleanupRun();
    await cleanupRun();
    expect(
      budgetEvents('bud-x')
        .filter((e) => e.endsWith('2026-04'))
        .sort(),
    ).toEqual(['channel.budget_exceeded:2026-04', 'channel.budget_warning:2026-04']);
    expect(budgetEvents('bud-w').filter((e) => e.endsWith('2026-04'))).toContain('channel.budget_warning:2026-04');
  });
});
