/**
 * The durable LiveChannel state (reference §12.5) kept in the emulator's StateStore, so it
 * survives a restart with a data directory: the channel record (configuration, history,
 * fragment numbering) and a fragment index for VOD playlists. The push state is not here: a
 * simulated publisher lives in memory and is gone after a restart (see ingest.ts).
 */
import { compareKeys } from '../storage/key-index';
import type { StateStore } from '../types';
import type { ChannelConfig } from './config';
import type { TsTimeline } from '../mpegts';

export interface LiveRecord {
  startMs: number;
  endMs: number;
  remoteAddr: string;
}

export interface ChannelRecord {
  bucket: string;
  name: string;
  config: ChannelConfig;
  /** When the configuration last changed (ListLiveChannel LastModified). */
  lastModified: number;
  /** Finished push sessions, oldest first, at most HISTORY_LIMIT. */
  history: LiveRecord[];
  /** Number the next .ts fragment is named after (see nextFragmentKey in ingest.ts). */
  nextFragmentNumber: number;
  /**
   * Where the channel's media timeline stands after its last fragment (absent before the
   * first): the next fragment, of this push or a later one, continues it (see ingest.ts).
   */
  timeline?: TsTimeline;
}

export interface FragmentEntry {
  /** Object key, `<channel>/<13 digits>.ts`. */
  key: string;
  startMs: number;
  durationS: number;
}

export const HISTORY_LIMIT = 10;

const CHANNELS = 'live-channels';
const FRAGMENTS = 'live-fragments';
const SHARD_MS = 600_000;

/**
 * Ids are `<bucket>.<channel>` (fragment shards add `.<slot>`). Bucket names have no '.', and
 * the channel is percent-encoded with '.' escaped too, so '.' separates unambiguously and ids
 * stay file-name-safe for a data-directory store.
 */
function encodeName(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

function channelId(bucket: string, name: string): string {
  return `${bucket}.${encodeName(name)}`;
}

/** Runs async critical sections one after another per key (read-modify-write of one channel). */
class KeyedQueue {
  private tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** First index in sorted `names` whose name is greater than `bound` (or equal too, when `inclusive`). */
function searchFrom(names: readonly string[], bound: string, inclusive: boolean): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(names[mid]!, bound);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ChannelStore {
  private queue = new KeyedQueue();
  /**
   * Each bucket's channel names in ListLiveChannel order, built on first use and dropped when a
   * channel is created or deleted: listing 100,000 channels page by page would otherwise decode
   * and sort every name once per page.
   */
  private sortedNames = new Map<string, Promise<string[]>>();

  constructor(private state: StateStore) {}

  get(bucket: string, name: string): Promise<ChannelRecord | undefined> {
    return this.state.get<ChannelRecord>(CHANNELS, channelId(bucket, name));
  }

  /**
   * Runs `fn` with the current record while no other `modify` of the same channel runs; `fn`
   * returns the new record, `null` to delete it, or `undefined` to leave it.
   */
  modify<T>(
    bucket: string,
    name: string,
    fn: (
      current: ChannelRecord | undefined,
    ) => Promise<{ record?: ChannelRecord | null; result: T }> | { record?: ChannelRecord | null; result: T },
  ): Promise<T> {
    const id = channelId(bucket, name);
    return this.queue.run(id, async () => {
      const current = await this.state.get<ChannelRecord>(CHANNELS, id);
      const outcome = await fn(current);
      if (outcome.record === null) {
        await this.state.delete(CHANNELS, id);
        this.sortedNames.delete(bucket);
        await this.deleteFragments(bucket, name);
      } else if (outcome.record) {
        await this.state.put(CHANNELS, id, outcome.record);
        // After the write: a listing built meanwhile read the old set of names.
        if (current === undefined) this.sortedNames.delete(bucket);
      }
      return outcome.result;
    });
  }

  /** Channel names of a bucket in UTF-8 byte order (ListLiveChannel order); shared, do not modify. */
  names(bucket: string): Promise<readonly string[]> {
    let names = this.sortedNames.get(bucket);
    if (!names) {
      const prefix = `${bucket}.`;
      names = this.state.list(CHANNELS).then((ids) =>
        ids
          .filter((id) => id.startsWith(prefix))
          .map((id) => decodeURIComponent(id.slice(prefix.length)))
          // compareKeys is UTF-8 byte order without encoding both names on every comparison.
          .sort(compareKeys),
      );
      this.sortedNames.set(bucket, names);
      // A failed read is not kept.
      names.catch(() => this.sortedNames.delete(bucket));
    }
    return names;
  }

  /**
   * One ListLiveChannel page: up to `maxKeys` names starting with `prefix` and greater than
   * `marker`, in order, and whether more follow. Binary search, not a scan of every name.
   */
  async page(
    bucket: string,
    prefix: string,
    marker: string,
    maxKeys: number,
  ): Promise<{ names: string[]; truncated: boolean }> {
    const all = await this.names(bucket);
    const out: string[] = [];
    // Names with the prefix are one contiguous run in this order, starting at the prefix itself;
    // those after the marker are the end of that run (or none of it).
    const from = compareKeys(prefix, marker) > 0 ? searchFrom(all, prefix, true) : searchFrom(all, marker, false);
    for (let i = from; i < all.length; i++) {
      const name = all[i]!;
      if (!name.startsWith(prefix)) break;
      if (out.length === maxKeys) return { names: out, truncated: true };
      out.push(name);
    }
    return { names: out, truncated: false };
  }

  /**
   * Fragment index, sharded by 10-minute slot of the fragment's start: appending rewrites one
   * small shard (at most 600 entries, at FragDuration 1), never a day of history, and a VOD
   * range (at most a day) reads at most 145 shards.
   */
  appendFragment(bucket: string, name: string, entry: FragmentEntry): Promise<void> {
    const id = `${channelId(bucket, name)}.${Math.floor(entry.startMs / SHARD_MS)}`;
    return this.queue.run(id, async () => {
      const shard = (await this.state.get<FragmentEntry[]>(FRAGMENTS, id)) ?? [];
      shard.push(entry);
      await this.state.put(FRAGMENTS, id, shard);
    });
  }

  /** Fragments whose start lies in [fromMs, toMs], in start order. */
  async fragmentsStartingBetween(bucket: string, name: string, fromMs: number, toMs: number): Promise<FragmentEntry[]> {
    const found: FragmentEntry[] = [];
    for (let slot = Math.floor(fromMs / SHARD_MS); slot <= Math.floor(toMs / SHARD_MS); slot++) {
      const shard = (await this.state.get<FragmentEntry[]>(FRAGMENTS, `${channelId(bucket, name)}.${slot}`)) ?? [];
      found.push(...shard.filter((f) => f.startMs >= fromMs && f.startMs <= toMs));
    }
    return found.sort((a, b) => a.startMs - b.startMs || (a.key < b.key ? -1 : 1));
  }

  private async deleteFragments(bucket: string, name: string): Promise<void> {
    const prefix = `${channelId(bucket, name)}.`;
    for (const id of await this.state.list(FRAGMENTS)) {
      if (id.startsWith(prefix)) await this.state.delete(FRAGMENTS, id);
    }
  }
}
