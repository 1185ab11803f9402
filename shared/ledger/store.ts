/**
 * JSON documents in a bucket, with the one primitive the ledger is built on: create-once
 * (`x-oss-forbid-overwrite: true`). A 409 FileAlreadyExists means the fact is already recorded —
 * by a duplicate invocation, an overlapping timer, or our own retried PUT whose first response
 * was lost — so it counts as success.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OssError, isTransientFailure } from '../oss/errors';
import type { GetObjectResult, ListObjectsInput, ListObjectsResult, PutObjectInput } from '../oss/types';

/** The part of the OSS bucket client the ledger uses (`OssClient.bucket(name)` satisfies it). */
export interface LedgerObjects {
  putObject(key: string, body: Buffer, opts?: PutObjectInput): Promise<{ etag: string }>;
  getObject(key: string): Promise<GetObjectResult>;
  deleteObject(key: string): Promise<void>;
  listObjects(input: ListObjectsInput): Promise<ListObjectsResult>;
}

/** A stored document could not be read as the ledger wrote it. */
export class LedgerCorruptError extends Error {
  override name = 'LedgerCorruptError';
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`ledger object ${key} is unreadable: ${detail}`);
  }
}

export type CreateOutcome = 'created' | 'exists';

const JSON_TYPE = 'application/json';
/** Create-once attempts on transient failures (the client does not retry forbid-overwrite PUTs). */
const CREATE_ATTEMPTS = 3;
const CREATE_RETRY_BASE_MS = 200;

function isNotFound(err: unknown): boolean {
  return err instanceof OssError && err.status === 404 && err.code === 'NoSuchKey';
}

function isAlreadyExists(err: unknown): boolean {
  return err instanceof OssError && err.status === 409 && err.code === 'FileAlreadyExists';
}

export class JsonStore {
  constructor(private readonly objects: LedgerObjects) {}

  /**
   * Writes `value` at `key` unless something is there already. Never overwrites. Transient
   * failures are retried here: if a lost response hid our own success, the retry's 409 reports
   * 'exists', which is the same fact recorded.
   */
  async createOnce(key: string, value: unknown): Promise<CreateOutcome> {
    const body = Buffer.from(JSON.stringify(value));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.objects.putObject(key, body, { contentType: JSON_TYPE, forbidOverwrite: true });
        return 'created';
      } catch (err) {
        if (isAlreadyExists(err)) return 'exists';
        if (attempt >= CREATE_ATTEMPTS || !isTransientFailure(err)) throw err;
        // Real time: this waits out a transient OSS failure, not a lifecycle interval.
        await sleep(CREATE_RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * Create-once, then the stored document: the caller's on 'created', the first writer's on
   * 'exists' (which may differ from `value` if two writers described the same fact differently).
   */
  async createOnceAndRead<T>(key: string, value: T): Promise<{ outcome: CreateOutcome; record: T }> {
    const outcome = await this.createOnce(key, value);
    if (outcome === 'created') return { outcome, record: value };
    const stored = await this.read<T>(key);
    // Only a deletion between the 409 and the GET gets here; the ledger never deletes facts.
    if (stored === undefined) throw new LedgerCorruptError(key, 'reported as existing, then not found');
    return { outcome, record: stored };
  }

  /** Overwrites: only for documents whose last-writer-wins is safe (see docs/ledger.md). */
  async put(key: string, value: unknown): Promise<void> {
    await this.objects.putObject(key, Buffer.from(JSON.stringify(value)), { contentType: JSON_TYPE });
  }

  async read<T>(key: string): Promise<T | undefined> {
    let body: Buffer;
    try {
      body = (await this.objects.getObject(key)).body;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    return this.parse<T>(key, body);
  }

  /** Deleting what is already gone is fine (idempotent). */
  async delete(key: string): Promise<void> {
    try {
      await this.objects.deleteObject(key);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Keys under `prefix`, in key order, every page. */
  async *keys(prefix: string, opts: { startAfter?: string } = {}): AsyncGenerator<string> {
    for await (const entry of this.entries(prefix, opts)) yield entry.key;
  }

  /** Keys under `prefix` with their LastModified (OSS time), in key order, every page. */
  async *entries(
    prefix: string,
    opts: { startAfter?: string } = {},
  ): AsyncGenerator<{ key: string; lastModified: number }> {
    let continuationToken: string | undefined;
    do {
      const page = await this.objects.listObjects({
        prefix,
        startAfter: continuationToken ? undefined : opts.startAfter,
        continuationToken,
        maxKeys: 1000,
      });
      for (const o of page.objects) yield { key: o.key, lastModified: o.lastModified };
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
  }

  /** The first key under `prefix` (with descending-time keys: the newest), one request. */
  async firstKey(prefix: string): Promise<string | undefined> {
    const page = await this.objects.listObjects({ prefix, maxKeys: 1 });
    return page.objects[0]?.key;
  }

  private parse<T>(key: string, body: Buffer): T {
    try {
      return JSON.parse(body.toString('utf8')) as T;
    } catch (err) {
      throw new LedgerCorruptError(key, (err as Error).message);
    }
  }
}
