/**
 * Decoding on-snapshot's MNS topic-trigger event into snapshot notifications. Never throws:
 * whatever cannot be read is reported as skipped with a reason.
 *
 * Envelopes (function-compute.md §2.2): JSON format — MNS's envelope with `Message`, `MessageId`,
 * `PublishTime`, attributes flattened at top level; STREAM format — the raw body, or
 * `{body, attrs}` when the message has attributes. A body may arrive base64-encoded (MNS's
 * "Base64" topic message option).
 *
 * Bodies: OSS's real LiveChannel snapshot notification is UNCONFIRMED (oss-livechannel.md §13),
 * so two are accepted: the emulator's documented one
 * `{event: "LiveChannelSnapshot", bucket, channel, destBucket, object, time}` and OSS's standard
 * object-event notification `{events: [{eventTime, oss: {bucket: {name}, object: {key}}}]}`,
 * whose key is taken to be `<channel>/<name>.jpg` (the channel's folder, as for its fragments).
 */
import { isBucketName, isChannelName, jsonObject, type JsonRecord } from './events';

export interface SnapshotNotice {
  /** The bucket that holds the channel (and, as livecycle configures it, the JPG). */
  bucket: string;
  channel: string;
  objectKey: string;
  at: number;
}

export interface DecodedMessage {
  messageId?: string;
  notices: SnapshotNotice[];
  /** Why nothing (or not everything) was taken from the message. */
  skipped: string[];
}

/** Larger events are not snapshot notifications (a notification is a few hundred bytes). */
export const MAX_EVENT_BYTES = 256 * 1024;
const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}\s*$/;

export function decodeSnapshotEvent(event: Buffer): DecodedMessage {
  if (!Buffer.isBuffer(event)) return { notices: [], skipped: ['event is not bytes'] };
  if (event.length > MAX_EVENT_BYTES)
    return { notices: [], skipped: [`event of ${event.length} bytes exceeds ${MAX_EVENT_BYTES}`] };
  const outer = jsonObject(event);
  let body: unknown;
  let messageId: string | undefined;
  let publishTime: number | undefined;
  if (outer && typeof outer.Message === 'string') {
    body = outer.Message;
    messageId = typeof outer.MessageId === 'string' ? outer.MessageId : undefined;
    publishTime = isDateMs(outer.PublishTime) ? outer.PublishTime : undefined;
  } else if (
    outer &&
    typeof outer.body === 'string' &&
    Object.keys(outer).every((k) => k === 'body' || k === 'attrs')
  ) {
    body = outer.body;
  } else {
    body = outer ?? event.toString('utf8');
  }
  const parsed = typeof body === 'string' ? parseBody(body) : (body as JsonRecord);
  if (!parsed) return { messageId, notices: [], skipped: ['message body is neither JSON nor base64-encoded JSON'] };
  return { messageId, ...noticesFrom(parsed, publishTime) };
}

function parseBody(text: string): JsonRecord | undefined {
  const direct = jsonObject(text);
  if (direct) return direct;
  if (!BASE64.test(text)) return undefined;
  return jsonObject(Buffer.from(text, 'base64'));
}

/** ECMAScript dates span ±8.64e15 ms; a "time" outside cannot even be printed. */
const MAX_DATE_MS = 8.64e15;

function isDateMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) <= MAX_DATE_MS;
}

function time(value: unknown, fallback: number | undefined): number | undefined {
  const ms = typeof value === 'string' ? Date.parse(value) : undefined;
  return ms !== undefined && Number.isFinite(ms) ? ms : fallback;
}

/** `<channel>/<file>.jpg` → channel; anything else is not a LiveChannel snapshot. */
function channelOfKey(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || !/\.jpe?g$/i.test(key) || key.indexOf('/', slash + 1) >= 0) return undefined;
  const channel = key.slice(0, slash);
  return isChannelName(channel) ? channel : undefined;
}

function record(value: unknown): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

function noticesFrom(
  body: JsonRecord,
  publishTime: number | undefined,
): { notices: SnapshotNotice[]; skipped: string[] } {
  if (body.event === 'LiveChannelSnapshot') {
    const { bucket, channel, object } = body;
    const at = time(body.time, publishTime);
    if (typeof bucket !== 'string' || !isBucketName(bucket))
      return { notices: [], skipped: ['snapshot body: bad bucket'] };
    if (typeof channel !== 'string' || !isChannelName(channel))
      return { notices: [], skipped: ['snapshot body: bad channel'] };
    if (typeof object !== 'string' || object.length === 0 || object.length > 1023)
      return { notices: [], skipped: ['snapshot body: bad object'] };
    if (at === undefined) return { notices: [], skipped: ['snapshot body: no usable time'] };
    return { notices: [{ bucket, channel, objectKey: object, at }], skipped: [] };
  }
  if (Array.isArray(body.events)) {
    const notices: SnapshotNotice[] = [];
    const skipped: string[] = [];
    for (const [i, item] of body.events.slice(0, 100).entries()) {
      const oss = record(record(item)?.oss);
      const bucket = record(oss?.bucket)?.name;
      const key = record(oss?.object)?.key;
      const at = time(record(item)?.eventTime, publishTime);
      const channel = typeof key === 'string' ? channelOfKey(key) : undefined;
      if (
        typeof bucket !== 'string' ||
        !isBucketName(bucket) ||
        typeof key !== 'string' ||
        !channel ||
        at === undefined
      ) {
        skipped.push(`events[${i}] is not a snapshot object event`);
        continue;
      }
      notices.push({ bucket, channel, objectKey: key, at });
    }
    return { notices, skipped };
  }
  return { notices: [], skipped: ['message body is not a snapshot notification'] };
}
