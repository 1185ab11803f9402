import { join } from 'node:path';
import type { ObjectStorage, StateStore } from '../types';
import { DiskObjectStorage, DiskStateStore } from './disk';
import { MemoryObjectStorage, MemoryStateStore } from './memory';

export interface EmulatorStorage {
  objects: ObjectStorage;
  state: StateStore;
  close(): Promise<void>;
}

/** Memory stores, or data-directory stores (loaded now) when `dataDir` is given. */
export async function openStorage(dataDir: string | undefined, buckets: Iterable<string>): Promise<EmulatorStorage> {
  if (!dataDir) return { objects: new MemoryObjectStorage(), state: new MemoryStateStore(), close: async () => {} };
  const objects = new DiskObjectStorage(dataDir);
  await objects.preload(buckets);
  const state = await DiskStateStore.open(join(dataDir, 'state'));
  return {
    objects,
    state,
    close: async () => {
      await objects.close();
      await state.close();
    },
  };
}
