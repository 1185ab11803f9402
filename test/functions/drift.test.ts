/**
 * Issue #16, drift: OSS's channel list, the ledger and the bucket's folders disagree; the api's
 * GET /drift and the dry run name each disagreement with its action, and applying a reviewed plan
 * does exactly that, once, re-checked against OSS, recorded with who asked. Over the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as api } from '../../functions/api/index';
import { createInstance, createOperationContext, type OperationContext } from '../../shared/operations/context';
import { DriftPlanError, applyDriftPlan, planDrift } from '../../shared/operations/drift';
import { BUCKET, callApi, distinctEventsOf, startWorld, type World } from './harness';

let world: World;
let op: OperationContext;
beforeAll(async () => {
  world = await startWorld({ CLEANUP_CHANNEL_PREFIXES: 'scoped-' });
  op = createOperationContext(createInstance('cleanup-orphans'), world.context('cleanup-orphans'), 'drift-test');
});
afterAll(() => world.stop());

async function call(method: string, path: string, opts: { body?: unknown } = {}) {
  await world.clock.advance(1_000);
  return callApi(api, world, method, path, opts);
}

const ids = (items: { id: string }[]) => items.map((i) => i.id).sort();

describe('drift', () => {
  it('lists each disagreement with its action; --fix applies exactly the reviewed plan, once, and records who', async () => {
    // In sync: created through the api, with a folder.
    expect((await call('POST', '/channels', { body: { name: 'in-sync' } })).status).toBe(201);
    await world.bucket.putObject('in-sync/1.ts', 'x');
    // untracked: created in OSS directly. missing: created through the api, deleted in OSS directly.
    await world.bucket.putLiveChannel('untracked', {});
    expect((await call('POST', '/channels', { body: { name: 'vanished' } })).status).toBe(201);
    await world.bucket.putObject('vanished/1772355600000.ts', 'fragment');
    await world.bucket.deleteLiveChannel('vanished');
    // Folders without a channel: one in cleanup's scope by prefix, one nobody's.
    await world.bucket.putObject('scoped-old/9.ts', 'left by an old channel');
    await world.bucket.putObject('reports/q4.csv', 'someone else’s');

    const expected = [
      'foreign-prefix:reports/',
      'missing-channel:vanished',
      'orphan-prefix:scoped-old/',
      'orphan-prefix:vanished/',
      'untracked-channel:untracked',
    ];
    const viaApi = await call('GET', '/drift');
    expect(viaApi.status).toBe(200);
    expect(ids(viaApi.body.items)).toEqual(expected);
    const byId = new Map(viaApi.body.items.map((i: { id: string }) => [i.id, i]));
    expect(byId.get('untracked-channel:untracked')).toMatchObject({
      action: 'adopt',
      fixable: true,
      channel: 'untracked',
    });
    expect(byId.get('missing-channel:vanished')).toMatchObject({ action: 'record-deletion', fixable: true });
    expect(byId.get('orphan-prefix:scoped-old/')).toMatchObject({ action: 'cleanup', fixable: false });
    expect(byId.get('foreign-prefix:reports/')).toMatchObject({ action: 'leave', fixable: false, prefix: 'reports/' });

    const scope = op.bucket(BUCKET);
    // The dry run changes nothing but storing its plan.
    const dry = await planDrift(scope, op, 'tester@example');
    expect(dry.planId).toMatch(/^plan-/);
    expect(ids(dry.items)).toEqual(expected);
    expect(await world.ledger.getChannel('untracked')).toBeUndefined();
    expect(await world.ledger.listChannelTombstones('vanished')).toEqual([]);
    await expect(applyDriftPlan(scope, op, { planId: 'plan-1-000000000000', by: 'x' })).rejects.toThrow(DriftPlanError);

    // Drift that appears after the review is not touched by that plan.
    await world.bucket.putLiveChannel('late-untracked', {});
    const applied = await applyDriftPlan(scope, op, { planId: dry.planId!, by: 'tester@example' });
    expect(applied.results.map((r) => [r.itemId, r.outcome]).sort()).toEqual([
      ['missing-channel:vanished', 'applied'],
      ['untracked-channel:untracked', 'applied'],
    ]);
    expect(ids(applied.notInPlan)).toEqual(['untracked-channel:late-untracked']);
    expect(await world.ledger.getChannel('late-untracked')).toBeUndefined();
    expect(await world.ledger.getChannel('untracked')).toMatchObject({ channel: 'untracked' });
    const generation = (await world.ledger.getChannel('vanished'))!.generation;
    expect(await world.ledger.getTombstone('vanished', generation)).toMatchObject({ generation });
    await world.settled();
    expect(distinctEventsOf(world, 'vanished').map((e) => e.type)).toEqual(['channel.created', 'channel.deleted']);
    // Every action is in the ledger with who asked for it.
    const actions = (await world.ledger.cost.listDriftActions(dry.planId!)).map((a) => [a.itemId, a.by, a.outcome]);
    expect(actions.sort()).toEqual([
      ['missing-channel:vanished', 'tester@example', 'applied'],
      ['untracked-channel:untracked', 'tester@example', 'applied'],
    ]);

    // Applying it again does nothing new.
    const again = await applyDriftPlan(scope, op, { planId: dry.planId!, by: 'someone-else' });
    expect(again.results.every((r) => r.detail.endsWith('(recorded earlier)'))).toBe(true);
    expect((await world.ledger.listGenerations('untracked')).length).toBe(1);
    expect(ids((await call('GET', '/drift')).body.items)).toEqual([
      'foreign-prefix:reports/',
      'orphan-prefix:scoped-old/',
      'orphan-prefix:vanished/',
      'untracked-channel:late-untracked',
    ]);
  });

  it('a planned item resolved before the fix is skipped, and recorded so', async () => {
    await world.bucket.putLiveChannel('comes-and-goes', {});
    const scope = op.bucket(BUCKET);
    const dry = await planDrift(scope, op, 'tester@example');
    expect(ids(dry.items)).toContain('untracked-channel:comes-and-goes');
    await world.bucket.deleteLiveChannel('comes-and-goes');
    await world.clock.advance(1_000);
    const applied = await applyDriftPlan(scope, op, { planId: dry.planId!, by: 'tester@example' });
    expect(applied.results.find((r) => r.itemId === 'untracked-channel:comes-and-goes')).toMatchObject({
      outcome: 'skipped',
      detail: expect.stringContaining('resolved meanwhile'),
    });
    expect(await world.ledger.getChannel('comes-and-goes')).toBeUndefined();
    // Plans expire.
    await world.clock.advance(25 * 3_600_000);
    await expect(applyDriftPlan(scope, op, { planId: dry.planId!, by: 'x' })).rejects.toThrow(/older than 24 h/);
  });
});
