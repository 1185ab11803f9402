import type { ListObjectsQuery, ObjectRecord } from '../types';
import { compareKeys, SortedKeySet } from './key-index';

/**
 * The in-memory view of one bucket's objects, shared by the memory and data-directory stores:
 * entries by key plus the sorted key index that listing walks.
 */
export class ObjectTable<E extends { record: ObjectRecord }> {
  private readonly entries = new Map<string, E>();
  private readonly keys = new SortedKeySet();

  get size(): number {
    return this.entries.size;
  }

  get(key: string): E | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: E): void {
    this.entries.set(key, entry);
    this.keys.add(key);
  }

  delete(key: string): E | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.keys.delete(key);
    return entry;
  }

  values(): IterableIterator<E> {
    return this.entries.values();
  }

  list(query: ListObjectsQuery): ObjectRecord[] {
    const prefix = query.prefix ?? '';
    const { startAfter, startAfterPrefix } = query;
    // Each clause is true for a leading run of the sorted keys, so their union is too.
    const before = (k: string) =>
      compareKeys(k, prefix) < 0 ||
      (startAfter !== undefined && compareKeys(k, startAfter) <= 0) ||
      (startAfterPrefix !== undefined && (k.startsWith(startAfterPrefix) || compareKeys(k, startAfterPrefix) < 0));
    const out: ObjectRecord[] = [];
    if (query.limit <= 0) return out;
    for (const key of this.keys.from(before)) {
      if (!key.startsWith(prefix)) break;
      out.push(this.entries.get(key)!.record);
      if (out.length >= query.limit) break;
    }
    return out;
  }
}
