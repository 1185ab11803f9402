/**
 * Every webhook event's body, one valibot schema per event type: openapi.json's `webhooks` are
 * generated from them (strict objects: an undocumented field fails the contract recorder), and the
 * types the emitters and receivers use (`EmitInput`, `WebhookPayload`) are inferred from them.
 * Runtime code imports only the types, so no function bundle carries these schemas.
 */
import * as v from 'valibot';
import { EVENT_TYPES, type EventType } from '../ledger/records';

function described<T extends v.GenericSchema>(schema: T, description: string) {
  return v.pipe(schema, v.description(description));
}

const instant = v.pipe(v.string(), v.isoTimestamp());
const broadcastId = described(v.string(), 'The broadcast: the compact UTC time of its first push (20240501T120000Z).');
const generation = described(v.number(), "The channel's generation: its creation time, epoch milliseconds.");

/** A channel's spending this month reached 80 % (warning) or 100 % (exceeded) of its budget (docs/cost.md). */
const budgetReached = v.strictObject({
  month: described(v.string(), 'The month (YYYY-MM, UTC); each event is sent once per channel and month.'),
  budgetCny: v.number(),
  spentCny: described(v.number(), 'Spent this month so far, without the share of bucket-wide overhead.'),
  used: described(v.number(), 'spentCny / budgetCny.'),
  source: described(
    v.picklist(['channel', 'config']),
    "channel: the api's per-channel budget; config: COST_BUDGET_CNY.",
  ),
});

/** What `data` holds, per event type. */
export const EVENT_DATA = {
  'channel.created': v.strictObject({
    generation,
    snapshots: v.boolean(),
    replaced: described(v.boolean(), 'The create replaced an existing channel of the name (`replace: true`).'),
  }),
  'stream.started': v.strictObject({ broadcastId, startedAt: instant }),
  'stream.ended': v.strictObject({
    broadcastId,
    startedAt: instant,
    endedAt: instant,
    pushes: described(
      v.optional(v.number()),
      'RTMP pushes (encoder reconnects) the broadcast was made of, when known.',
    ),
  }),
  'channel.disabled': v.strictObject({
    reason: described(v.picklist(['idle', 'api']), 'idle: no push for IDLE_AFTER; api: POST …/disable.'),
    idleSince: described(v.optional(instant), 'With reason idle: the start of the idle period.'),
    generation,
  }),
  'vod.ready': v.strictObject({
    broadcastId,
    playlist: described(v.string(), 'The key of the playlist viewers open.'),
    parts: described(v.array(v.string()), 'The keys of the playlists written (one per day of broadcast).'),
  }),
  'vod.failed': v.strictObject({
    broadcastId,
    reason: described(v.string(), "OSS's error code and message."),
  }),
  'channel.deleted': v.strictObject({ generation }),
  'channel.budget_warning': budgetReached,
  'channel.budget_exceeded': budgetReached,
  'cleanup.completed': v.strictObject({
    runId: v.string(),
    status: v.picklist(['complete', 'partial']),
    dryRun: v.boolean(),
    candidates: v.number(),
    deleted: v.number(),
    bytes: v.number(),
  }),
} satisfies Record<EventType, v.GenericSchema>;

export type EventData<T extends EventType> = v.InferOutput<(typeof EVENT_DATA)[T]>;

/** The JSON body POSTed for an event of `type`. */
export function eventSchema<T extends EventType>(type: T) {
  return v.strictObject({
    id: described(
      v.pipe(v.string(), v.regex(/^evt_[0-9a-f]{32}$/)),
      'The same for every delivery of one fact (at-least-once delivery: dedupe by it); also the webhook-id header.',
    ),
    type: v.literal(type),
    channel: described(v.nullable(v.string()), 'null for bucket-wide events (cleanup.completed).'),
    bucket: v.string(),
    sequence: described(
      v.pipe(v.number(), v.integer(), v.minValue(1)),
      'Per channel (per bucket when channel is null): 1, 2, 3… without gaps.',
    ),
    occurredAt: described(instant, 'When the fact happened (not when it was sent).'),
    data: EVENT_DATA[type],
  });
}

/** A webhook body of any event type. */
export type WebhookPayload = { [T in EventType]: v.InferOutput<ReturnType<typeof eventSchema<T>>> }[EventType];

/** Every event type's body schema. */
export function eventSchemas(): { [T in EventType]: ReturnType<typeof eventSchema<T>> } {
  return Object.fromEntries(EVENT_TYPES.map((type) => [type, eventSchema(type)])) as {
    [T in EventType]: ReturnType<typeof eventSchema<T>>;
  };
}

/** A `data` example per event type, as the emitters write it (openapi.json's examples; tests' events). */
export const EVENT_DATA_EXAMPLES: { [T in EventType]: EventData<T> } = {
  'channel.created': { generation: 1714564800000, snapshots: true, replaced: false },
  'stream.started': { broadcastId: '20240501T120000Z', startedAt: '2024-05-01T12:00:00.000Z' },
  'stream.ended': {
    broadcastId: '20240501T120000Z',
    startedAt: '2024-05-01T12:00:00.000Z',
    endedAt: '2024-05-01T13:00:00.000Z',
    pushes: 1,
  },
  'channel.disabled': { reason: 'idle', idleSince: '2024-05-01T13:00:00.000Z', generation: 1714564800000 },
  'vod.ready': {
    broadcastId: '20240501T120000Z',
    playlist: 'cam-1/vod-20240501T120000Z.m3u8',
    parts: ['cam-1/vod-20240501T120000Z.m3u8'],
  },
  'vod.failed': { broadcastId: '20240501T120000Z', reason: 'InvalidArgument: no segments in the time range' },
  'channel.deleted': { generation: 1714564800000 },
  'channel.budget_warning': { month: '2024-05', budgetCny: 10, spentCny: 8.25, used: 0.825, source: 'channel' },
  'channel.budget_exceeded': { month: '2024-05', budgetCny: 10, spentCny: 10.02, used: 1.002, source: 'config' },
  'cleanup.completed': {
    runId: 'run-20240502T030000Z',
    status: 'complete',
    dryRun: false,
    candidates: 12,
    deleted: 12,
    bytes: 7340032,
  },
};
