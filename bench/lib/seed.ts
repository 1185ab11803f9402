/**
 * Seeds a bucket with many small objects without a million PUTs: it writes the emulator's
 * data-directory journal (local/emulator/storage/disk.ts: objects/<bucket>/journal.log, one
 * `{"put":record,"blob":id}` line per object) and the emulator replays it at startup.
 * The blobs themselves are not written: listing and deleting never read a body (a delete's
 * unlink of the missing blob is ignored), and a GET of a seeded key is not part of any bench.
 * The emulator then runs on its data-directory store, whose deletes append to the journal.
 */
import { createWriteStream } from 'node:fs';
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';

export async function writeSeedDir(
  dir: string,
  bucket: string,
  keys: Iterable<string>,
  lastModified: number,
): Promise<number> {
  const objects = join(dir, 'objects', bucket);
  await mkdir(join(objects, 'blobs'), { recursive: true });
  const out = createWriteStream(join(objects, 'journal.log'));
  let n = 0;
  let chunk = '';
  for (const key of keys) {
    chunk +=
      JSON.stringify({
        put: {
          key,
          size: 1,
          etag: '7215EE9C7D9DC229D2921A40E899EC5F',
          crc64: '16472728192407434187',
          lastModified,
          contentType: 'video/mp2t',
          meta: {},
        },
        blob: 'seeded',
      }) + '\n';
    if (++n % 10_000 === 0) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return n;
}

/** A fresh copy of a seeded directory (the emulator compacts and mutates the one it opens). */
export async function copySeedDir(from: string, to: string): Promise<void> {
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true });
}

/** `<channel>/<13 digits>.ts`, the shape of LiveChannel ingest fragments. */
export function* fragmentKeys(count: number, channels: number, prefix = 'gone-'): Generator<string> {
  const perChannel = Math.ceil(count / channels);
  let n = 0;
  for (let c = 0; c < channels && n < count; c++) {
    const channel = `${prefix}${String(c).padStart(5, '0')}`;
    for (let i = 0; i < perChannel && n < count; i++, n++)
      yield `${channel}/${String(1_714_560_000_000 + i * 5000).padStart(13, '0')}.ts`;
  }
}
