/**
 * x-oss-hash-crc64ecma (issue #12): CRC-64/XZ as a decimal, on PutObject, HeadObject and
 * GetObject (whole object, also for a Range request), on fragments written by ingest, and kept
 * in the data directory's journal (computed once for journals written before it was kept).
 * @alicloud/oss-client's own CRC check against the emulator is in oss2.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../local/emulator';
import { crc64, Crc64 } from '../../local/emulator/storage/crc64';
import { DiskObjectStorage } from '../../local/emulator/storage/disk';
import { oss } from './helpers';
import { quietEmulator } from './setup';

describe('CRC-64/XZ', () => {
  it('has the catalogue check value and is the same fed in pieces', () => {
    expect(BigInt(crc64(Buffer.from('123456789'))).toString(16)).toBe('995dc9bbdf1939fa');
    expect(crc64(Buffer.alloc(0))).toBe('0');
    const whole = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff));
    const pieces = new Crc64()
      .update(whole.subarray(0, 1))
      .update(whole.subarray(1, 500))
      .update(whole.subarray(500)).value;
    expect(pieces).toBe(crc64(whole));
  });
});

describe('x-oss-hash-crc64ecma over HTTP', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await quietEmulator();
  });
  afterAll(() => emu.stop());

  it('on PutObject, HeadObject and GetObject (the whole object’s, also with Range)', async () => {
    const body = 'the quick brown fox jumps over the lazy dog';
    const expected = crc64(Buffer.from(body));
    const put = await oss(emu, { method: 'PUT', key: 'crc/a.txt', body });
    expect(put.headers['x-oss-hash-crc64ecma']).toBe(expected);
    expect((await oss(emu, { method: 'HEAD', key: 'crc/a.txt' })).headers['x-oss-hash-crc64ecma']).toBe(expected);
    expect((await oss(emu, { method: 'GET', key: 'crc/a.txt' })).headers['x-oss-hash-crc64ecma']).toBe(expected);
    expect(
      (await oss(emu, { method: 'GET', key: 'crc/a.txt', headers: { range: 'bytes=0-3' } })).headers[
        'x-oss-hash-crc64ecma'
      ],
    ).toBe(expected);
  });
});

describe('in the data directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'crc64-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is stored with the record, and computed once for a journal written without it', async () => {
    const store = new DiskObjectStorage(dir);
    await store.put('b', 'k.ts', Buffer.from('fragment'), {}, 1000);
    await store.close();
    const journal = join(dir, 'objects', 'b', 'journal.log');
    const line = JSON.parse(readFileSync(journal, 'utf8').trim()) as { put: Record<string, unknown> };
    expect(line.put.crc64).toBe(crc64(Buffer.from('fragment')));
    delete line.put.crc64;
    writeFileSync(journal, `${JSON.stringify(line)}\n`);

    const reopened = new DiskObjectStorage(dir);
    expect((await reopened.head('b', 'k.ts'))?.crc64).toBe(crc64(Buffer.from('fragment')));
    await reopened.close();
    expect(JSON.parse(readFileSync(journal, 'utf8').trim()).put.crc64).toBe(crc64(Buffer.from('fragment')));
  });

  it('a journal entry whose body is missing (no CRC kept) does not stop the directory from opening', async () => {
    const journal = join(dir, 'objects', 'c', 'journal.log');
    mkdirSync(join(dir, 'objects', 'c'), { recursive: true });
    writeFileSync(
      journal,
      `${JSON.stringify({ put: { key: 'gone.ts', size: 1, etag: '7215EE9C7D9DC229D2921A40E899EC5F', lastModified: 1, contentType: 'video/MP2T', meta: {} }, blob: 'missing' })}\n`,
    );
    const reopened = new DiskObjectStorage(dir);
    const record = await reopened.head('c', 'gone.ts');
    expect(record?.key).toBe('gone.ts');
    expect(record?.crc64).toBeUndefined();
    await reopened.close();
  });
});
