/**
 * The sweep overlaps its round trips (next folder's first reads and next page's listing while a
 * batch is deleted; the batch cursor written in the background) and saves requests (holds read
 * once per run; the batch cursor written at most every CURSOR_SAVE_INTERVAL_MS). These pin down
 * what that must not change: every batch is still preceded by its own re-check, a hold placed
 * after the run read its holds still withholds the batch, a cursor write that fails stops the
 * run before another batch is deleted, and a run killed between cursor writes is finished by the
 * next run from the older cursor, deleting every orphan once and nothing else.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BucketSweep, type SweepSettings } from '../../shared/cleanup';
import { CURSOR_SAVE_INTERVAL_MS } from '../../shared/cleanup/sweep';
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

  it('holds read once at the start pin their channel: no batch of it is even re-checked', async () => {
    await env.ledger.setHold({ channel: 'gone-b', holdId: 'keep-all', reason: 'legal' });
    const events: string[] = [];
    const report = await (await sweep(recording(env.bucket, events), env.ledger)).run();
    expect(report.channels.find((c) => c.channel === 'gone-b')).toMatchObject({
      deleted: 0,
      kept: { held: PER_FOLDER },
    });
    expect(events.filter((e) => e.includes('gone-b'))).toEqual([]);
    expect(await allKeys(env.bucket, 'gone-b/')).toHaveLength(PER_FOLDER);
    expect(report.totals.deleted).toBe(2 * PER_FOLDER);
  });

  it('a hold placed after the run read its holds withholds the next batch of that channel', async () => {
    const events: string[] = [];
    const bucket = recording(env.bucket, events);
    const placing = new Proxy(bucket, {
      get(target, prop, receiver) {
        // While gone-a's last batch is re-checked, an operator holds gone-b (a channel-wide hold:
        // its id names no playlist). gone-b's opening may already have been read ahead.
        if (prop === 'getLiveChannelStat') {
          return async (channel: string) => {
            if (channel === 'gone-a' && events.filter((e) => e === 'stat gone-a').length === 2)
              await env.ledger.setHold({ channel: 'gone-b', holdId: 'keep-all', reason: 'legal' });
            return target.getLiveChannelStat(channel);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const report = await (await sweep(placing, env.ledger)).run();
    expect(await allKeys(env.bucket, 'gone-a/')).toEqual([]);
    expect(await allKeys(env.bucket, 'gone-b/')).toHaveLength(PER_FOLDER);
    expect(await allKeys(env.bucket, 'gone-c/')).toEqual([]);
    const b = report.channels.find((c) => c.channel === 'gone-b');
    expect(b).toMatchObject({ deleted: 0 });
    expect(b!.kept['channel-changed-mid-run']).toBe(PAGE);
    expect(events.filter((e) => e.startsWith('delete gone-b'))).toEqual([]);
  });

  it('a run killed between cursor writes is finished by the next run from the older cursor', async () => {
    // Each delete batch takes 4 s of the run's clock: cursor writes after batches 1, 4 and 7.
    const stored: string[] = [];
    let batches = 0;
    let killed = false;
    const slow = new Proxy(env.bucket, {
      get(target, prop, receiver) {
        if (prop === 'deleteObjects') {
          return async (keys: string[], opts: { quiet?: boolean }) => {
            // The kill: the process dies as batch 6 is sent; nothing after it reaches OSS.
            if (++batches === 6) killed = true;
            if (killed) throw new Error('killed');
            await env.emu.clock.advance(4000);
            return target.deleteObjects(keys, opts);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const ledger = new Proxy(env.ledger, {
      get(target, prop, receiver) {
        if (prop === 'putCleanupCursor' || prop === 'clearCleanupCursor') {
          return async (name: string, text?: string) => {
            if (killed) throw new Error('killed');
            if (text !== undefined) stored.push(text);
            return prop === 'putCleanupCursor' ? target.putCleanupCursor(name, text!) : target.clearCleanupCursor(name);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(CURSOR_SAVE_INTERVAL_MS).toBe(10_000);
    await expect((await sweep(slow, ledger)).run()).rejects.toThrow('killed');
    const key = (folder: string, n: number) => `${folder}/${String(1_000_000 + n - 1).padStart(13, '0')}.ts`;
    // Batches 1 (gone-a ..100) and 4 (gone-b ..100) were saved; 5 (gone-b ..200) was deleted, not saved.
    expect(stored.map((t) => JSON.parse(t) as unknown)).toEqual([
      { folder: 'gone-a/', startAfter: key('gone-a', 100) },
      { folder: 'gone-b/', startAfter: key('gone-b', 100) },
    ]);
    expect(await allKeys(env.bucket, 'gone-a/')).toEqual([]);
    expect(await allKeys(env.bucket, 'gone-b/')).toHaveLength(50);

    const next = await (await sweep(env.bucket, env.ledger)).run();
    expect(next.resumedFrom).toEqual({ folder: 'gone-b/', startAfter: key('gone-b', 100) });
    expect(next).toMatchObject({ status: 'complete' });
    // What the killed run deleted after its cursor is simply no longer listed.
    expect(next.totals.deleted).toBe(50 + PER_FOLDER);
    expect(await allKeys(env.bucket, 'gone-')).toEqual([]);
    expect(await env.ledger.getCleanupCursor('orphans')).toBeUndefined();
  });
});
