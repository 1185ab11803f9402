import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStorage, StateStore } from '../types';
import { DiskObjectStorage, DiskStateStore } from './disk';
import { DataDirLock } from './lock';
import { MemoryObjectStorage, MemoryStateStore } from './memory';

export interface EmulatorStorage {
  objects: ObjectStorage;
  state: StateStore;
  /** Tells a second process where this one serves (a data directory only). */
  announce(urls: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** Who holds a data directory, as a second process is told, and how a stale lock is reported. */
export interface DataDirOwner {
  program: string;
  onTakeover(message: string): void;
}

/**
 * Memory stores, or data-directory stores (loaded now) when `dataDir` is given; the directory
 * is locked first (storage/lock.ts), so a second process on it fails before reading anything.
 */
export async function openStorage(
  dataDir: string | undefined,
  buckets: Iterable<string>,
  owner: DataDirOwner,
): Promise<EmulatorStorage> {
  if (!dataDir)
    return {
      objects: new MemoryObjectStorage(),
      state: new MemoryStateStore(),
      announce: async () => {},
      close: async () => {},
    };
  await mkdir(dataDir, { recursive: true });
  const lock = await DataDirLock.acquire(dataDir, owner.program, owner.onTakeover);
  const objects = new DiskObjectStorage(dataDir);
  let state: DiskStateStore;
  try {
    await objects.preload(buckets);
    state = await DiskStateStore.open(join(dataDir, 'state'));
  } catch (err) {
    await objects.close();
    await lock.release();
    throw err;
  }
  return {
    objects,
    state,
    announce: (urls) => lock.announce(urls),
    close: async () => {
      await objects.close();
      await state.close();
      await lock.release();
    },
  };
}
