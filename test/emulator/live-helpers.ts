/**
 * Test-only harness for the LiveChannel service: simple in-memory implementations of the
 * emulator's storage and topic seams, and a way to call an Operation the way the server would
 * (first match wins, OssErrorResponse → status/Code/EC).
 */
import { createHash, randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { ControlledClock } from '../../shared/clock';
import { createLiveChannelService } from '../../local/emulator/live';
import { crc64 } from '../../local/emulator/storage/crc64';
import {
  OssErrorResponse,
  type EmuContext,
  type EmuRequest,
  type ObjectRecord,
  type ObjectStorage,
  type PutObjectAttributes,
  type StateStore,
  type TopicHub,
  type TopicMessage,
} from '../../local/emulator/types';

export const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);
export const BUCKET = 'livecycle-demo';
export const ACCESS_KEY = { id: 'livecycle-local-id', secret: 'livecycle-local-secret' };
export const STS = { id: 'STS.test-id', secret: 'sts-secret', token: 'sts-token-value' };

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

class TestObjects implements ObjectStorage {
  readonly buckets = new Map<string, Map<string, { record: ObjectRecord; body: Buffer }>>();

  private bucket(name: string) {
    let b = this.buckets.get(name);
    if (!b) this.buckets.set(name, (b = new Map()));
    return b;
  }

  async put(
    bucket: string,
    key: string,
    body: Buffer,
    attrs: PutObjectAttributes,
    nowMs: number,
  ): Promise<ObjectRecord> {
    const record: ObjectRecord = {
      key,
      size: body.length,
      etag: createHash('md5').update(body).digest('hex').toUpperCase(),
      crc64: crc64(body),
      lastModified: nowMs,
      contentType: attrs.contentType ?? 'application/octet-stream',
      meta: attrs.meta ?? {},
    };
    this.bucket(bucket).set(key, { record, body });
    return record;
  }
  async get(bucket: string, key: string) {
    return this.bucket(bucket).get(key);
  }
  async head(bucket: string, key: string) {
    return this.bucket(bucket).get(key)?.record;
  }
  async delete(bucket: string, key: string) {
    return this.bucket(bucket).delete(key);
  }
  async list(bucket: string, opts: Parameters<ObjectStorage['list']>[1]) {
    return [...this.bucket(bucket).values()]
      .map((o) => o.record)
      .filter(
        (r) =>
          r.key.startsWith(opts.prefix ?? '') &&
          (opts.startAfter === undefined || byteOrder(r.key, opts.startAfter) > 0),
      )
      .sort((a, b) => byteOrder(a.key, b.key))
      .slice(0, opts.limit);
  }
  keys(bucket: string, prefix = ''): string[] {
    return [...this.bucket(bucket).keys()].filter((k) => k.startsWith(prefix)).sort(byteOrder);
  }
}

/** JSON round trip on every write, so nothing works only because an object stayed shared. */
class TestState implements StateStore {
  private data = new Map<string, Map<string, string>>();
  private ns(name: string) {
    let n = this.data.get(name);
    if (!n) this.data.set(name, (n = new Map()));
    return n;
  }
  async get<T>(namespace: string, id: string): Promise<T | undefined> {
    const raw = this.ns(namespace).get(id);
    return raw === undefined ? undefined : (JSON.parse(raw) as T);
  }
  async put<T>(namespace: string, id: string, value: T) {
    this.ns(namespace).set(id, JSON.stringify(value));
  }
  async delete(namespace: string, id: string) {
    this.ns(namespace).delete(id);
  }
  async list(namespace: string) {
    return [...this.ns(namespace).keys()].sort(byteOrder);
  }
}

class TestTopics implements TopicHub {
  readonly published: TopicMessage[] = [];
  private subscribers = new Map<string, ((m: TopicMessage) => Promise<void>)[]>();
  constructor(private clock: ControlledClock) {}
  async publish(topic: string, body: string, attributes?: Record<string, string>) {
    const message: TopicMessage = { messageId: randomUUID(), topic, body, publishTime: this.clock.now(), attributes };
    this.published.push(message);
    await Promise.all((this.subscribers.get(topic) ?? []).map((d) => d(message)));
    return message;
  }
  subscribe(topic: string, deliver: (m: TopicMessage) => Promise<void>) {
    this.subscribers.set(topic, [...(this.subscribers.get(topic) ?? []), deliver]);
    return () =>
      this.subscribers.set(
        topic,
        (this.subscribers.get(topic) ?? []).filter((d) => d !== deliver),
      );
  }
}

export interface CallResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Set for error answers. */
  code?: string;
  ec?: string;
  operation?: string;
}

export function parseQuery(query: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of query.split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) map.set(decodeURIComponent(part), '');
    else map.set(decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1)));
  }
  return map;
}

export function makeLiveHarness(opts: { buckets?: string[]; startMs?: number; refuseVodWhenDisabled?: boolean } = {}) {
  const clock = new ControlledClock({ startMs: opts.startMs ?? T0, rate: 0 });
  const objects = new TestObjects();
  const state = new TestState();
  const topics = new TestTopics(clock);
  const ctx: EmuContext = {
    clock,
    objects,
    state,
    topics,
    region: 'cn-hangzhou',
    buckets: new Set(opts.buckets ?? [BUCKET, 'snapshot-dest']),
    secretFor(accessKeyId, securityToken) {
      if (accessKeyId === ACCESS_KEY.id) return ACCESS_KEY.secret;
      if (accessKeyId === STS.id && securityToken === STS.token) return STS.secret;
      return undefined;
    },
  };
  const service = createLiveChannelService(ctx, { refuseVodWhenDisabled: opts.refuseVodWhenDisabled });

  /** Calls the first matching operation, as the server does; `query` like `live&comp=stat`. */
  async function call(
    method: string,
    key: string,
    query: string,
    body = '',
    extra: { bucket?: string; host?: string } = {},
  ): Promise<CallResult> {
    const bucket = extra.bucket ?? BUCKET;
    const req: EmuRequest = {
      method,
      bucket,
      key,
      query: parseQuery(query),
      headers: {},
      body: Buffer.from(body),
      requestId: randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase(),
      host: extra.host ?? `${bucket}.oss-cn-hangzhou.aliyuncs.com`,
      remoteAddr: '10.0.0.1:40000',
      principal: { accessKeyId: ACCESS_KEY.id },
    };
    const op = service.operations.find((o) => o.match(req));
    if (!op) return { status: 0, headers: {}, body: '', operation: undefined };
    try {
      const res = await op.handle(req, ctx);
      const text = res.body === undefined ? '' : res.body.toString();
      return { status: res.status, headers: res.headers ?? {}, body: text, operation: op.name };
    } catch (err) {
      if (!(err instanceof OssErrorResponse)) throw err;
      return {
        status: err.status,
        headers: {},
        body: err.message,
        code: err.code,
        ec: err.extra['EC'],
        operation: op.name,
      };
    }
  }

  return { clock, objects, state, topics, ctx, service, call };
}

const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  isArray: (name) => ['LiveChannel', 'LiveRecord', 'Url'].includes(name),
});

/** Parses an XML response, asserting the declaration OSS sends. */
export function parseXml(text: string): Record<string, any> {
  if (!text.startsWith('<?xml version="1.0" encoding="UTF-8"?>'))
    throw new Error(`not an OSS XML body: ${text.slice(0, 80)}`);
  return xmlParser.parse(text) as Record<string, any>;
}

export function channelXml(target: string, more = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<LiveChannelConfiguration>${more}<Target>${target}</Target></LiveChannelConfiguration>`;
}
