import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ListObjectsQuery, ObjectRecord, ObjectStorage, PutObjectAttributes } from '../types';
import { MemoryStateStore } from './memory';
import { ObjectTable } from './object-table';
import { crc64 } from './crc64';
import { fileAlreadyExists, newObjectRecord } from './records';

/**
 * Objects in a data directory, one folder per bucket:
 *
 *   objects/<bucket>/journal.log   one JSON line per put ({"put":record,"blob":id}) or delete ({"del":key})
 *   objects/<bucket>/blobs/<id>    object bodies, written to tmp/ first and renamed into place
 *
 * A write is committed when its journal line is appended; the body is in place before that, so
 * a crash at any point leaves either the old object or the new one, never half of one. Startup
 * replays the journal into the in-memory table (metadata and sorted key index), ignores a torn
 * last line, rewrites the journal compacted and deletes bodies nothing refers to.
 */
interface DiskEntry {
  record: ObjectRecord;
  blob: string;
}

type JournalLine = { put: ObjectRecord; blob: string } | { del: string };

class BucketFiles {
  /** Mutations run one at a time so journal order equals the order applied in memory. */
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly table: ObjectTable<DiskEntry>,
    private readonly journal: FileHandle,
  ) {}

  static async open(dir: string): Promise<BucketFiles> {
    await mkdir(join(dir, 'blobs'), { recursive: true });
    await mkdir(join(dir, 'tmp'), { recursive: true });
    const journalPath = join(dir, 'journal.log');
    const table = new ObjectTable<DiskEntry>();
    const text = await readFile(journalPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    for (const line of text.split('\n')) {
      if (!line) continue;
      let entry: JournalLine;
      try {
        entry = JSON.parse(line) as JournalLine;
      } catch {
        continue; // a line torn by a crash mid-append: that write never committed
      }
      if ('del' in entry) table.delete(entry.del);
      else table.set(entry.put.key, { record: entry.put, blob: entry.blob });
    }
    // Compact: one line per live object, swapped in atomically.
    const compacted: string[] = [];
    const live = new Set<string>();
    for (const entry of table.values()) {
      // Journals written before the CRC was kept: computed once here, then stored by the compaction.
      // A body that is missing (a damaged directory) stays without one rather than failing startup.
      entry.record.crc64 ??= await readFile(join(dir, 'blobs', entry.blob)).then(crc64, () => undefined);
      compacted.push(JSON.stringify({ put: entry.record, blob: entry.blob } satisfies JournalLine));
      live.add(entry.blob);
    }
    const tmpJournal = join(dir, 'tmp', `journal.${randomBytes(6).toString('hex')}`);
    await writeFile(tmpJournal, compacted.length ? compacted.join('\n') + '\n' : '');
    await rename(tmpJournal, journalPath);
    for (const name of await readdir(join(dir, 'blobs'))) if (!live.has(name)) await unlink(join(dir, 'blobs', name));
    for (const name of await readdir(join(dir, 'tmp'))) await unlink(join(dir, 'tmp', name));
    return new BucketFiles(dir, table, await open(journalPath, 'a'));
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  async append(line: JournalLine): Promise<void> {
    await this.journal.write(JSON.stringify(line) + '\n');
  }

  blobPath(blob: string): string {
    return join(this.dir, 'blobs', blob);
  }

  async writeBlob(body: Buffer): Promise<string> {
    const blob = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
    const tmp = join(this.dir, 'tmp', blob);
    await writeFile(tmp, body);
    await rename(tmp, this.blobPath(blob));
    return blob;
  }

  async removeBlob(blob: string): Promise<void> {
    await unlink(this.blobPath(blob)).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.tail;
    await this.journal.close();
  }
}

export class DiskObjectStorage implements ObjectStorage {
  private readonly buckets = new Map<string, Promise<BucketFiles>>();

  constructor(private readonly dir: string) {}

  async put(
    bucket: string,
    key: string,
    body: Buffer,
    attrs: PutObjectAttributes,
    nowMs: number,
  ): Promise<ObjectRecord> {
    const files = await this.files(bucket);
    return files.exclusive(async () => {
      const previous = files.table.get(key);
      if (attrs.forbidOverwrite && previous) throw fileAlreadyExists(key);
      const record = newObjectRecord(key, body, attrs, nowMs);
      const blob = await files.writeBlob(body);
      await files.append({ put: record, blob });
      files.table.set(key, { record, blob });
      if (previous) await files.removeBlob(previous.blob);
      return record;
    });
  }

  async get(bucket: string, key: string): Promise<{ record: ObjectRecord; body: Buffer } | undefined> {
    const files = await this.files(bucket);
    // A concurrent overwrite may remove the body we looked up; the second lookup sees its successor.
    for (let attempt = 0; ; attempt++) {
      const entry = files.table.get(key);
      if (!entry) return undefined;
      try {
        return { record: entry.record, body: await readFile(files.blobPath(entry.blob)) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
      }
    }
  }

  async head(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    return (await this.files(bucket)).table.get(key)?.record;
  }

  async delete(bucket: string, key: string): Promise<boolean> {
    const files = await this.files(bucket);
    return files.exclusive(async () => {
      const previous = files.table.get(key);
      if (!previous) return false;
      await files.append({ del: key });
      files.table.delete(key);
      await files.removeBlob(previous.blob);
      return true;
    });
  }

  async list(bucket: string, query: ListObjectsQuery): Promise<ObjectRecord[]> {
    return (await this.files(bucket)).table.list(query);
  }

  /** Opens (replays) every bucket up front so the first request does not pay for it. */
  async preload(buckets: Iterable<string>): Promise<void> {
    await Promise.all([...buckets].map((b) => this.files(b)));
  }

  async close(): Promise<void> {
    for (const files of this.buckets.values()) await (await files).close();
    this.buckets.clear();
  }

  private files(bucket: string): Promise<BucketFiles> {
    let files = this.buckets.get(bucket);
    if (!files) this.buckets.set(bucket, (files = BucketFiles.open(join(this.dir, 'objects', bucket))));
    return files;
  }
}

/**
 * State documents in `state/`, one file per document (named by a hash of namespace and id, the
 * ids inside), written temp+rename; all documents are loaded into memory at startup. Documents
 * are owner-only (0600): one is the STS signing key, which would let any local user mint
 * credentials; files an older version wrote 0644 are tightened at open.
 */
const STATE_FILE_MODE = 0o600;

export class DiskStateStore extends MemoryStateStore {
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly dir: string) {
    super();
  }

  static async open(dir: string): Promise<DiskStateStore> {
    const store = new DiskStateStore(dir);
    await mkdir(join(dir, 'tmp'), { recursive: true });
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      await chmod(join(dir, name), STATE_FILE_MODE);
      const doc = JSON.parse(await readFile(join(dir, name), 'utf8')) as {
        namespace: string;
        id: string;
        value: unknown;
      };
      store.setText(doc.namespace, doc.id, JSON.stringify(doc.value));
    }
    for (const name of await readdir(join(dir, 'tmp'))) await unlink(join(dir, 'tmp', name));
    return store;
  }

  override async put<T>(namespace: string, id: string, value: T): Promise<void> {
    await super.put(namespace, id, value);
    await this.serial(async () => {
      const tmp = join(this.dir, 'tmp', randomBytes(8).toString('hex'));
      await writeFile(tmp, JSON.stringify({ namespace, id, value }), { mode: STATE_FILE_MODE });
      await rename(tmp, this.path(namespace, id));
    });
  }

  override async delete(namespace: string, id: string): Promise<void> {
    await super.delete(namespace, id);
    await this.serial(() => unlink(this.path(namespace, id)).catch(() => undefined));
  }

  async close(): Promise<void> {
    await this.tail;
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private path(namespace: string, id: string): string {
    return join(this.dir, createHash('sha256').update(namespace).update('\0').update(id).digest('hex') + '.json');
  }
}
