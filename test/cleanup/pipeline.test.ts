/**
 * The sweep overlaps its round trips (next folder's first reads and next page's listing while a
 * batch is deleted; the batch cursor written in the background). These pin down what that must
 * not change: every batch is still preceded by its own re-check, and a cursor write that fails
 * stops the run before another batch is deleted.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BucketSweep, type SweepSettings } from '../../shared/cleanup';
import type { Ledger } from '../../shared/ledger';
import { createLogger } from '../../shared/log';
import type { OssBucket } from '../../shared/oss';
import { allKeys, HOUR, resetWithFragments, startCleanupEnv, T0, type CleanupEnv } from './helpers';

const FOLDERS = ['gone-a', 'gone-b', 'gone-c'];
const PER_FOLDER = 250;
const PAGE = 100;

let env: CleanupEnv;

beforeAll(async () => {
  env = await startCleanupEnv();
});
afterAll(() => env.stop());

beforeEach(async () => {
  await resetWithFragments(env, FOLDERS, PER_FOLDER);
  for (const channel of FOLDERS) await env.ledger.recordTombstone({ channel, generation: T0 - HOUR, deletedAt: T0 });
  await env.emu.clock.advance(25 * HOUR);
});

const settings = (): SweepSettings => ({
  dryRun: false,
  graceMs: 24 * HOUR,
  retentionDays: 0,
  maxObjects: 1e6,
  maxBytes: 1e12,
  channelPrefixes: ['gone-'],
  endpoint: env.emu.url,
});

/** Records the order of the sweep's Stat re-checks, holds listings and deletes. */
function recording(bucket: OssBucket, events: string[]): OssBucket {
  return new Proxy(bucket, {
    get(target, prop, receiver) {
      if (prop === 'getLiveChannelStat')
        return (channel: string) => (events.push(`stat ${channel}`), target.getLiveChannelStat(channel));
      if (prop === 'deleteObjects') {
        return async (keys: string[], opts: { quiet?: boolean }) => {
          events.push(`delete ${keys[0]!.split('/')[0]} ${keys.length}`);
          return target.deleteObjects(keys, opts);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function sweep(bucket: OssBucket, ledger: Ledger): Promise<BucketSweep> {
  return BucketSweep.prepare({
    bucket,
    ledger,
    settings: settings(),
    runId: 'pipeline',
    stopAt: Infinity,
    logger: createLogger({ name: 'test', level: 'silent' }),
    pageSize: PAGE,
  });
}

describe('cleanup pipelining', () => {
  it('each delete batch follows its own re-check of that channel, folder after folder', async () => {
    const events: string[] = [];
    const report = await (await sweep(recording(env.bucket, events), env.ledger)).run();
    expect(report.totals.deleted).toBe(FOLDERS.length * PER_FOLDER);
    // Three batches per folder (100, 100, 50), each directly preceded by a Stat of its channel.
    const expected = FOLDERS.flatMap((f) => [100, 100, 50].flatMap((n) => [`stat ${f}`, `delete ${f} ${n}`]));
    expect(events).toEqual(expected);
    expect(await allKeys(env.bucket, 'gone-')).toEqual([]);
    expect(await env.ledger.getCleanupCursor('orphans')).toBeUndefined();
  });

  it('a failed cursor write stops the run before its next delete batch', async () => {
    const events: string[] = [];
    let writes = 0;
    const failing = new Proxy(env.ledger, {
      get(target, prop, receiver) {
        if (prop === 'putCleanupCursor') {
          return async () => {
            writes++;
            throw new Error('cursor write refused');
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect((await sweep(recording(env.bucket, events), failing)).run()).rejects.toThrow('cursor write refused');
    expect(writes).toBe(1);
    // Only the first batch went: 150 of gone-a's keys and both other folders are untouched.
    expect(events.filter((e) => e.startsWith('delete'))).toEqual(['delete gone-a 100']);
    expect(await allKeys(env.bucket, 'gone-a/')).toHaveLength(PER_FOLDER - PAGE);
    expect(await allKeys(env.bucket, 'gone-b/')).toHaveLength(PER_FOLDER);
    expect(await allKeys(env.bucket, 'gone-c/')).toHaveLength(PER_FOLDER);
  });
});
