/** Key index order and listing against a naive model; data-directory persistence across restarts. */
import fc from 'fast-check';
import { chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareKeys, SortedKeySet } from '../../local/emulator/storage/key-index';
import { MemoryObjectStorage } from '../../local/emulator/storage/memory';
import { DiskObjectStorage, DiskStateStore } from '../../local/emulator/storage/disk';
import { adminCall, oss } from './helpers';
import { quietEmulator } from './setup';

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('key index', () => {
  it('compareKeys is UTF-8 byte order', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'grapheme' }),
        (a, b) => Math.sign(compareKeys(a, b)) === Math.sign(utf8Order(a, b)),
      ),
    );
  });

  it('stays sorted and consistent through random inserts and deletes (chunk splits included)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 4, unit: 'grapheme' })), { maxLength: 3000 }),
        (ops) => {
          const index = new SortedKeySet();
          const model = new Set<string>();
          for (const [add, key] of ops) {
            if (add) (expect(index.add(key)).toBe(!model.has(key)), model.add(key));
            else expect(index.delete(key)).toBe(model.delete(key));
          }
          expect([...index.from(() => false)]).toEqual([...model].sort(utf8Order));
          expect(index.size).toBe(model.size);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('lists by prefix / startAfter / startAfterPrefix like a filtered sorted array', async () => {
    const store = new MemoryObjectStorage();
    const keys = Array.from({ length: 5000 }, (_, i) => `p${i % 7}/${(i * 7919) % 5000}/x${i % 3}`);
    for (const key of keys) await store.put('b', key, Buffer.from(key), {}, 0);
    const sorted = [...new Set(keys)].sort(utf8Order);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('', 'p1/', 'p3/12', 'p9'),
        fc.option(fc.constantFrom(...sorted)),
        fc.option(fc.constantFrom('p2/', 'p4/4', 'p0/1')),
        fc.integer({ min: 1, max: 50 }),
        async (prefix, startAfter, startAfterPrefix, limit) => {
          const got = (
            await store.list('b', {
              prefix,
              startAfter: startAfter ?? undefined,
              startAfterPrefix: startAfterPrefix ?? undefined,
              limit,
            })
          ).map((r) => r.key);
          const want = sorted
            .filter(
              (k) =>
                k.startsWith(prefix) &&
                (startAfter == null || utf8Order(k, startAfter) > 0) &&
                (startAfterPrefix == null || (!k.startsWith(startAfterPrefix) && utf8Order(k, startAfterPrefix) > 0)),
            )
            .slice(0, limit);
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('data directory', () => {
  it('objects, metadata and STS keys survive a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'emu-data-'));
    try {
      let emu = await quietEmulator({ dataDir });
      const sts = emu.mintSts({ ttlSeconds: 3600 });
      await oss(emu, {
        method: 'PUT',
        key: 'keep/a.ts',
        body: 'A',
        headers: { 'x-oss-meta-n': '1', 'content-type': 'video/MP2T' },
      });
      await oss(emu, { method: 'PUT', key: 'keep/b.ts', body: 'B1' });
      await oss(emu, { method: 'PUT', key: 'keep/b.ts', body: 'B2' });
      await oss(emu, { method: 'PUT', key: 'gone.ts', body: 'G' });
      await oss(emu, { method: 'DELETE', key: 'gone.ts' });
      await emu.stop();

      emu = await quietEmulator({ dataDir, clock: emu.clock });
      const a = await oss(emu, { method: 'GET', key: 'keep/a.ts' });
      expect([a.text, a.headers['x-oss-meta-n'], a.headers['content-type']]).toEqual(['A', '1', 'video/MP2T']);
      expect((await oss(emu, { method: 'GET', key: 'keep/b.ts' })).text).toBe('B2');
      expect((await oss(emu, { method: 'GET', key: 'gone.ts' })).status).toBe(404);
      const list = await oss(emu, { method: 'GET', query: { 'list-type': '2' } });
      expect(list.text.match(/<Key>[^<]*<\/Key>/g)).toEqual(['<Key>keep/a.ts</Key>', '<Key>keep/b.ts</Key>']);
      expect((await oss(emu, { method: 'GET', key: 'keep/a.ts', credentials: sts })).status).toBe(200);
      await emu.stop();
      // Superseded bodies were removed; only live objects remain.
      expect((await readdir(join(dataDir, 'objects', 'livecycle-demo', 'blobs'))).length).toBe(2);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('a torn journal line from a crash is ignored; the previous object stays whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'emu-crash-'));
    try {
      const store = new DiskObjectStorage(dir);
      await store.put('b', 'k', Buffer.from('complete'), {}, 1);
      await store.close();
      const { appendFile } = await import('node:fs/promises');
      await appendFile(join(dir, 'objects', 'b', 'journal.log'), '{"put":{"key":"k","size":3');
      const reopened = new DiskObjectStorage(dir);
      expect((await reopened.get('b', 'k'))?.body.toString()).toBe('complete');
      await reopened.close();
      const state = await DiskStateStore.open(join(dir, 'state'));
      await state.put('ns', 'id/with/slash', { v: 1 });
      await state.close();
      const again = await DiskStateStore.open(join(dir, 'state'));
      expect(await again.get('ns', 'id/with/slash')).toEqual({ v: 1 });
      expect(await again.list('ns')).toEqual(['id/with/slash']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the STS signing key owner-only (0600), tightening a file an older version left 0644', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'emu-sts-mode-'));
    const stateDir = join(dataDir, 'state');
    const keyFile = async () => {
      for (const name of await readdir(stateDir)) {
        if (name.endsWith('.json') && (await readFile(join(stateDir, name), 'utf8')).includes('"sts-key"'))
          return join(stateDir, name);
      }
      throw new Error('no state file holds the STS key');
    };
    const mode = async (file: string) => (await stat(file)).mode & 0o777;
    try {
      let emu = await quietEmulator({ dataDir });
      await emu.stop();
      const file = await keyFile();
      expect(await mode(file)).toBe(0o600);
      await chmod(file, 0o644);
      emu = await quietEmulator({ dataDir });
      await emu.stop();
      expect(await mode(file)).toBe(0o600);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('the admin health call reports the configured buckets', async () => {
    const emu = await quietEmulator();
    expect((await adminCall(emu, 'GET', '/health')).json).toMatchObject({
      ok: true,
      buckets: ['livecycle-demo'],
      region: 'cn-hangzhou',
    });
    await emu.stop();
  });
});
