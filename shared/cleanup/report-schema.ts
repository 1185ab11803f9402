/**
 * The cleanup run report's schema (docs/cleanup.md, "Report"): the type cleanup builds
 * (`CleanupRunReport`, shared/cleanup/report.ts) is inferred from it, and openapi.json describes
 * GET /cleanup/report's `report` with it. Cleanup itself only imports the type, so its bundle does
 * not carry the schema.
 */
import * as v from 'valibot';

const count = v.number();
/** Fragments kept, by reason (`classifyFragment`'s reasons). */
const kept = v.record(v.string(), count);
const cursor = v.strictObject({ folder: v.string(), startAfter: v.optional(v.string()) });
/** What a run (and each channel of it) chose; counts are exact. */
const tally = {
  /** Objects the sweep or retention chose for deletion (within the budget). */
  candidates: count,
  deleted: count,
  /** Bytes of the candidates (dry run) or of the deleted objects. */
  bytes: count,
  /** Expired VOD playlists among the candidates. */
  expiredPlaylists: count,
  kept,
};

export const CLEANUP_RUN_REPORT = v.strictObject({
  runId: v.string(),
  /** Epoch milliseconds. */
  startedAt: v.number(),
  finishedAt: v.number(),
  dryRun: v.boolean(),
  bucket: v.string(),
  status: v.picklist(['complete', 'partial']),
  settings: v.strictObject({
    graceSeconds: v.number(),
    retentionDays: v.number(),
    maxObjects: v.number(),
    maxBytes: v.number(),
    channelPrefixes: v.array(v.string()),
  }),
  totals: v.strictObject({ ...tally, deleteErrors: count, foldersOutOfScope: count, folderErrors: count }),
  keys: v.strictObject({ listed: v.array(v.string()), count, truncated: v.boolean() }),
  channels: v.array(
    v.strictObject({
      channel: v.string(),
      state: v.string(),
      ...tally,
      /** Playlists whose text could not be parsed: they pin the channel's fragments. */
      unreadablePlaylists: v.array(v.string()),
    }),
  ),
  channelsOmitted: count,
  errors: v.array(v.strictObject({ key: v.string(), code: v.string() })),
  /** Folders whose sweep a transient OSS failure ended (first 50); the run went on with the next folder. */
  folderErrors: v.array(v.strictObject({ folder: v.string(), code: v.string() })),
  /** Folders outside cleanup's scope (first 50), e.g. the ledger's or another tool's; never touched. */
  foldersOutOfScope: v.array(v.string()),
  resumedFrom: v.optional(cursor),
  stoppedBy: v.optional(v.picklist(['deadline', 'budget-objects', 'budget-bytes'])),
  cursor: v.optional(cursor),
});
