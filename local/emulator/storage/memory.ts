import type { ListObjectsQuery, ObjectRecord, ObjectStorage, PutObjectAttributes, StateStore } from '../types';
import { ObjectTable } from './object-table';
import { newObjectRecord, fileAlreadyExists } from './records';
import { compareKeys } from './key-index';

interface MemoryEntry {
  record: ObjectRecord;
  body: Buffer;
}

/** Objects held in process memory; gone when the emulator stops. */
export class MemoryObjectStorage implements ObjectStorage {
  private readonly buckets = new Map<string, ObjectTable<MemoryEntry>>();

  async put(
    bucket: string,
    key: string,
    body: Buffer,
    attrs: PutObjectAttributes,
    nowMs: number,
  ): Promise<ObjectRecord> {
    const table = this.table(bucket);
    if (attrs.forbidOverwrite && table.get(key)) throw fileAlreadyExists(key);
    const record = newObjectRecord(key, body, attrs, nowMs);
    // Copy: the caller may reuse its buffer.
    table.set(key, { record, body: Buffer.from(body) });
    return record;
  }

  async get(bucket: string, key: string): Promise<{ record: ObjectRecord; body: Buffer } | undefined> {
    const entry = this.table(bucket).get(key);
    return entry && { record: entry.record, body: entry.body };
  }

  async head(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    return this.table(bucket).get(key)?.record;
  }

  async delete(bucket: string, key: string): Promise<boolean> {
    return this.table(bucket).delete(key) !== undefined;
  }

  async list(bucket: string, query: ListObjectsQuery): Promise<ObjectRecord[]> {
    return this.table(bucket).list(query);
  }

  private table(bucket: string): ObjectTable<MemoryEntry> {
    let table = this.buckets.get(bucket);
    if (!table) this.buckets.set(bucket, (table = new ObjectTable()));
    return table;
  }
}

/** JSON documents held in memory, stored serialised so callers never share mutable state. */
export class MemoryStateStore implements StateStore {
  protected readonly namespaces = new Map<string, Map<string, string>>();

  async get<T>(namespace: string, id: string): Promise<T | undefined> {
    const text = this.namespaces.get(namespace)?.get(id);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async put<T>(namespace: string, id: string, value: T): Promise<void> {
    this.setText(namespace, id, JSON.stringify(value));
  }

  async delete(namespace: string, id: string): Promise<void> {
    this.namespaces.get(namespace)?.delete(id);
  }

  async list(namespace: string): Promise<string[]> {
    return [...(this.namespaces.get(namespace)?.keys() ?? [])].sort(compareKeys);
  }

  protected setText(namespace: string, id: string, text: string): void {
    let ns = this.namespaces.get(namespace);
    if (!ns) this.namespaces.set(namespace, (ns = new Map()));
    ns.set(id, text);
  }
}
