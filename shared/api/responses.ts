/**
 * The api's success bodies, one valibot schema each: openapi.json describes them field by field
 * (strict objects: an undocumented field fails the contract recorder), and the operations'
 * return types are inferred from them, so a field added to a response without its schema does not
 * compile. The api never runs these schemas on a response; only their types and documents are used.
 */
import * as v from 'valibot';
import { VOD_STATUSES } from '../ledger/keys';
import { CLEANUP_RUN_REPORT } from '../cleanup/report-schema';
import { BUDGET_SET, CHANNEL_COST_REPORT, COST_REPORT, DRIFT_REPORT } from '../lifecycle/cost-schema';

/** An instant as ISO 8601 UTC with milliseconds (`2024-05-01T12:00:00.000Z`). */
const instant = v.pipe(v.string(), v.isoTimestamp());
/** An instant, or null when unknown. */
const maybeInstant = v.nullable(instant);
const channelStatus = v.picklist(['enabled', 'disabled']);
const channelName = v.string();

/** The schema with a description for openapi.json. */
function described<T extends v.GenericSchema>(schema: T, description: string) {
  return v.pipe(schema, v.description(description));
}

/** What an operation tells about a channel's configuration (create and get alike). */
const channelConfig = {
  description: v.string(),
  fragDuration: v.number(),
  fragCount: v.number(),
  playlistName: v.string(),
  snapshot: described(v.boolean(), "Whether snapshots were configured (the request's `snapshot`)."),
};

const signedPublishUrl = {
  publishUrl: described(v.string(), 'The signed `rtmp://` URL an encoder publishes to.'),
  expiresAt: maybeInstant,
};

export const CHANNEL_CREATED = v.strictObject({
  name: channelName,
  bucket: v.string(),
  generation: v.number(),
  status: v.literal('enabled'),
  ...signedPublishUrl,
  playUrl: v.nullable(v.string()),
  config: v.strictObject(channelConfig),
  adoptedExistingFolder: described(
    v.optional(v.strictObject({ count: v.number(), truncated: v.boolean(), sample: v.string() })),
    'Present when the channel was created over objects livecycle did not write (`adoptExistingFolder`): how many (at least, when `truncated`) and one of them.',
  ),
});

export const CHANNEL_LIST = v.strictObject({
  channels: v.array(
    v.strictObject({
      name: channelName,
      description: v.string(),
      status: channelStatus,
      lastModified: maybeInstant,
      playUrl: v.nullable(v.string()),
    }),
  ),
  nextCursor: described(v.nullable(v.string()), 'Pass as `cursor` for the next page; null on the last page.'),
});

export const CHANNEL = v.strictObject({
  name: channelName,
  bucket: v.string(),
  generation: described(v.nullable(v.number()), 'null for a channel created outside livecycle.'),
  config: v.strictObject({ ...channelConfig, status: channelStatus }),
  live: v.strictObject({
    status: v.picklist(['Idle', 'Live', 'Disabled']),
    connectedAt: maybeInstant,
    remoteAddr: v.nullable(v.string()),
  }),
  broadcasts: v.array(
    v.strictObject({
      id: v.string(),
      startedAt: maybeInstant,
      endedAt: maybeInstant,
      pushes: v.number(),
      state: v.picklist(['open', 'ended']),
    }),
  ),
  vods: v.array(
    v.strictObject({
      broadcastId: v.string(),
      status: v.picklist(VOD_STATUSES),
      playlist: v.nullable(v.string()),
      recordedAt: maybeInstant,
    }),
  ),
  latestSnapshot: v.nullable(v.strictObject({ at: maybeInstant, object: v.nullable(v.string()) })),
  holds: v.array(v.strictObject({ key: v.string(), reason: v.string(), until: maybeInstant })),
});

export const PUBLISH_URL = v.strictObject({ name: channelName, ...signedPublishUrl });

export const CHANNEL_ENABLED = v.strictObject({ name: channelName, status: v.literal('enabled') });

export const CHANNEL_DISABLED = v.strictObject({
  name: channelName,
  status: v.literal('disabled'),
  publisherDropped: described(
    v.optional(v.boolean()),
    'Present when the channel was disabled now: whether a live publisher was cut off.',
  ),
});

export const CHANNEL_DELETED = v.strictObject({
  name: channelName,
  deleted: v.literal(true),
  generation: v.number(),
  deletedAt: maybeInstant,
  alreadyDeleted: described(
    v.optional(v.literal(true)),
    "Present when an earlier request had deleted the channel already (the retry's answer).",
  ),
});

export const VOD_CREATED = v.strictObject({
  name: channelName,
  broadcastId: v.string(),
  status: v.picklist(VOD_STATUSES),
  playlist: described(v.nullable(v.string()), 'The playlist viewers open.'),
  parts: described(
    v.array(v.strictObject({ key: v.string(), startTime: v.number(), endTime: v.number() })),
    'One playlist per PostVodPlaylist call (a broadcast over a day is split); times are Unix seconds.',
  ),
});

export const VOD_HELD = v.strictObject({
  name: channelName,
  key: v.string(),
  held: v.literal(true),
  reason: v.string(),
  setAt: maybeInstant,
});

export const VOD_RELEASED = v.strictObject({ name: channelName, key: v.string(), held: v.literal(false) });

export const CLEANUP_REPORT = v.strictObject({
  report: described(
    v.nullable(CLEANUP_RUN_REPORT),
    'The latest cleanup run\'s report as stored (docs/cleanup.md, "Report"); null before the first run.',
  ),
});

// Cost and drift (docs/cost.md): schemas beside the operations that build the reports.
export { BUDGET_SET, CHANNEL_COST_REPORT, COST_REPORT, DRIFT_REPORT };

export type ChannelCreated = v.InferOutput<typeof CHANNEL_CREATED>;
export type ChannelList = v.InferOutput<typeof CHANNEL_LIST>;
export type Channel = v.InferOutput<typeof CHANNEL>;
export type PublishUrl = v.InferOutput<typeof PUBLISH_URL>;
export type ChannelEnabled = v.InferOutput<typeof CHANNEL_ENABLED>;
export type ChannelDisabled = v.InferOutput<typeof CHANNEL_DISABLED>;
export type ChannelDeleted = v.InferOutput<typeof CHANNEL_DELETED>;
export type VodCreated = v.InferOutput<typeof VOD_CREATED>;
export type VodHeld = v.InferOutput<typeof VOD_HELD>;
export type VodReleased = v.InferOutput<typeof VOD_RELEASED>;
export type CleanupReportResponse = v.InferOutput<typeof CLEANUP_REPORT>;
