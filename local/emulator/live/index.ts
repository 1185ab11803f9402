/**
 * Everything LiveChannel in the emulator: channel store, operations, simulated ingest, VOD
 * playlists and snapshots. The server mounts `operations` (before the object operations, since
 * `?live`/`?vod` requests have keys too) and `adminRoutes`. Behaviour and every UNCONFIRMED
 * choice: docs/emulator-livechannel.md.
 */
import type { EmuContext, LiveChannelService } from '../types';
import { ingestAdminRoutes } from './admin';
import { Ingest } from './ingest';
import { liveChannelOperations, type LiveOperationDeps } from './operations';
import { ChannelStore } from './store';

/** A LiveChannelService whose `ingest` is the full Ingest (admin extras: durations, ended pushes). */
export function createLiveChannelService(
  ctx: EmuContext,
  opts: Pick<LiveOperationDeps, 'refuseVodWhenDisabled'> = {},
): Omit<LiveChannelService, 'ingest'> & { ingest: Ingest } {
  const store = new ChannelStore(ctx.state);
  const ingest = new Ingest(ctx, store);
  return {
    operations: liveChannelOperations({ store, ingest, ...opts }),
    adminRoutes: ingestAdminRoutes(ingest),
    ingest,
    close: () => ingest.close(),
  };
}

export type { SnapshotMessage, LivePushInfo } from './ingest';
export { SNAPSHOT_EVENT, DISABLE_DROP_DELAY_MS } from './ingest';
