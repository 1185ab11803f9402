/**
 * The event bytes FC hands a handler for each trigger type, and the mapping of an HTTP handler's
 * result back onto the wire (reference §2). Shapes follow the fc3 event templates in
 * shared/reference/fc3/event-*.json; the runtime tests compare against them.
 */
import { createHash } from 'node:crypto';
import type { NotifyContentFormat } from './syaml';

/** `{triggerTime, triggerName, payload}`; triggerTime is UTC ISO-8601 with second precision. */
export function timerEvent(triggerName: string, atMs: number, payload: string | undefined): Buffer {
  const event: Record<string, string> = { triggerTime: isoSeconds(atMs), triggerName };
  if (payload !== undefined) event.payload = payload;
  return Buffer.from(JSON.stringify(event));
}

export interface MnsMessage {
  messageId: string;
  topic: string;
  body: string;
  publishTime: number;
  attributes?: Record<string, string>;
}

export interface MnsSubscription {
  accountId: string;
  subscriptionName: string;
}

/**
 * The MNS topic-trigger event. STREAM: the raw body, or `{body, attrs}` when the message has
 * attributes. JSON: MNS's envelope, with the attributes merged in at top level — the `Extend`
 * attribute holds a JSON object whose keys are flattened (`Extend: '{"key":"value"}'` → `key`).
 */
export function mnsEvent(format: NotifyContentFormat, message: MnsMessage, sub: MnsSubscription): Buffer {
  const attrs = message.attributes && Object.keys(message.attributes).length ? message.attributes : undefined;
  if (format === 'STREAM') return Buffer.from(attrs ? JSON.stringify({ body: message.body, attrs }) : message.body);
  const envelope = {
    TopicOwner: sub.accountId,
    Message: message.body,
    Subscriber: sub.accountId,
    PublishTime: message.publishTime,
    SubscriptionName: sub.subscriptionName,
    MessageMD5: createHash('md5').update(message.body).digest('hex').toUpperCase(),
    TopicName: message.topic,
    MessageId: message.messageId,
  };
  return Buffer.from(JSON.stringify({ ...flattenAttributes(attrs), ...envelope }));
}

function flattenAttributes(attrs: Record<string, string> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attrs ?? {})) {
    const extended = name === 'Extend' ? parseObject(value) : undefined;
    if (extended) Object.assign(out, extended);
    else out[name] = value;
  }
  return out;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What the HTTP event is built from: a node:http request, or a synthetic one (`livecycle invoke`). */
export interface HttpRequestLike {
  method: string;
  /** Path and query as sent, e.g. `/channels?limit=5`. */
  url: string;
  /** Alternating names (client's case) and values, as node:http's `rawHeaders`. */
  rawHeaders: string[];
  httpVersion: string;
  sourceIp: string;
  body: Buffer;
}

export interface HttpRequestInfo {
  requestId: string;
  accountId: string;
  triggerName: string;
  nowMs: number;
}

/** Content types FC passes as text; everything else arrives base64-encoded. */
const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|javascript)|[^;]*\+(json|xml))/i;

/** The FC 3.0 HTTP-trigger event. */
export function httpEvent(req: HttpRequestLike, info: HttpRequestInfo): Buffer {
  const url = new URL(req.url, 'http://local');
  const headers: Record<string, string> = {};
  const lower: Record<string, string> = {};
  // Header names keep the client's case, as FC does; repeats are joined with ','.
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
    lower[name.toLowerCase()] = headers[name]!;
  }
  const queryParameters: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) queryParameters[key] = url.searchParams.getAll(key).join(',');
  const isText = req.body.length === 0 || TEXT_TYPES.test(lower['content-type'] ?? '');
  const host = lower.host ?? 'localhost';
  const event = {
    version: 'v1',
    rawPath: url.pathname,
    headers,
    queryParameters,
    body: isText ? req.body.toString('utf8') : req.body.toString('base64'),
    isBase64Encoded: !isText,
    requestContext: {
      accountId: info.accountId,
      domainName: host,
      domainPrefix: host.split('.')[0]!.split(':')[0]!,
      requestId: info.requestId,
      time: isoSeconds(info.nowMs),
      timeEpoch: String(info.nowMs),
      triggerId: info.triggerName,
      http: {
        method: req.method,
        path: safeDecode(url.pathname),
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.sourceIp,
        userAgent: lower['user-agent'] ?? '',
      },
    },
  };
  return Buffer.from(JSON.stringify(event));
}

export interface HttpReply {
  statusCode: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Maps a handler's return value to the HTTP response: `{statusCode, headers, body,
 * isBase64Encoded}` is honoured; any other value is sent as a 200 body, converted as FC converts
 * results (Buffer raw, string as-is, object as JSON) — that fallback is unconfirmed on FC
 * (reference §2.3) and logged as a warning by the HTTP server.
 */
export function httpReply(result: unknown): { reply: HttpReply; shaped: boolean } {
  if (isHttpResult(result)) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = Array.isArray(v) ? v.join(',') : String(v);
    const body =
      result.body === undefined || result.body === null
        ? Buffer.alloc(0)
        : Buffer.isBuffer(result.body)
          ? result.body
          : Buffer.from(String(result.body), result.isBase64Encoded ? 'base64' : 'utf8');
    return { reply: { statusCode: result.statusCode, headers, body }, shaped: true };
  }
  const body = resultBytes(result);
  const headers: Record<string, string> = {};
  if (result !== undefined && !Buffer.isBuffer(result) && typeof result === 'object')
    headers['content-type'] = 'application/json';
  return { reply: { statusCode: 200, headers, body }, shaped: false };
}

interface HttpResult {
  statusCode: number;
  headers?: Record<string, unknown>;
  body?: unknown;
  isBase64Encoded?: boolean;
}

function isHttpResult(v: unknown): v is HttpResult {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && Number.isInteger((v as HttpResult).statusCode);
}

/** FC's result conversion (reference §1.2): Buffer as-is, object → JSON, anything else → string. */
export function resultBytes(result: unknown): Buffer {
  if (result === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(result)) return result;
  if (typeof result === 'object' && result !== null) return Buffer.from(JSON.stringify(result));
  return Buffer.from(String(result));
}

function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
