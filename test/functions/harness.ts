/**
 * The world the function tests run in: a real emulator on a frozen clock, the functions' env
 * pointing at it, an in-process async invoker that records and (optionally) dispatches, and a
 * real local webhook receiver that verifies every delivery's signature.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ControlledClock, installClock } from '../../shared/clock';
import { Ledger } from '../../shared/ledger';
import { OssClient, staticCredentials, type OssBucket } from '../../shared/oss';
import { installInvoker, payloadBytes } from '../../shared/platform';
import { verifyWebhook, type WebhookPayload } from '../../shared/webhooks';
import { recordApiResponse, recordWebhookBody } from '../contract/recorder';
import { signApiRequest } from '../../shared/api/auth';
import { DEFAULT_ACCESS_KEY, DEFAULT_BUCKET, startEmulator, type Emulator } from '../../local/emulator';
import { timerEvent } from '../../local/runtime/events';

export const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);
export const BUCKET = DEFAULT_BUCKET;
export const API_SECRET = 'api-secret-for-function-tests';
export const WEBHOOK_SECRET = 'whsec_d2ViaG9vay1zZWNyZXQtZm9yLWZ1bmN0aW9uLXRlc3Q=';
export const SNAPSHOT_TOPIC = 'livecycle-snapshots';

export interface Delivery {
  payload: WebhookPayload;
  verified: boolean;
}

export interface Invocation {
  fn: string;
  payload: unknown;
}

export type Handler = (event: Buffer, context?: object) => Promise<unknown>;

export interface World {
  emu: Emulator;
  clock: ControlledClock;
  bucket: OssBucket;
  ledger: Ledger;
  deliveries: Delivery[];
  /** Statuses the webhook receiver answers next, one per request, before its usual 204. */
  receiverScript: number[];
  invocations: Invocation[];
  /** Handlers async invocations are dispatched to, by function name; others are only recorded. */
  dispatch: Map<string, Handler>;
  /** Resolves once every dispatched async invocation (and what it started) has finished. */
  settled(): Promise<void>;
  context(fn: string, timeoutSeconds?: number): object;
  tick(): Buffer;
  stop(): Promise<void>;
}

let requestCounter = 0;

/**
 * Sets process.env for the functions (read once per function instance, on its first call), so
 * call it in beforeAll before any handler runs. `env` overrides the defaults.
 */
/** `rtmpPort`: run the emulator's RTMP ingest too; the api then signs publish URLs for it. */
export async function startWorld(env: Record<string, string> = {}, opts: { rtmpPort?: number } = {}): Promise<World> {
  const clock = new ControlledClock({ startMs: T0, rate: 0 });
  installClock(clock);
  const emu = await startEmulator({ port: 0, buckets: [BUCKET], clock, rtmpPort: opts.rtmpPort });
  if (emu.rtmpOrigin) process.env.OSS_RTMP_ENDPOINT = emu.rtmpOrigin;
  else delete process.env.OSS_RTMP_ENDPOINT;
  const deliveries: Delivery[] = [];
  const receiverScript: number[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const verified = verifyWebhook(req.headers as Record<string, string>, body, [WEBHOOK_SECRET], clock.now()).ok;
      deliveries.push({ payload: JSON.parse(body) as WebhookPayload, verified });
      recordWebhookBody(body);
      res.writeHead(receiverScript.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  Object.assign(process.env, {
    OSS_ENDPOINT: emu.url,
    OSS_REGION: emu.region,
    OSS_PATH_STYLE: 'true',
    BUCKETS: BUCKET,
    API_SECRETS: API_SECRET,
    WEBHOOK_URL: receiverUrl,
    WEBHOOK_SECRETS: WEBHOOK_SECRET,
    SNAPSHOT_TOPIC,
    GENERATE_VOD_FUNCTION: 'generate-vod',
    LOG_LEVEL: 'silent',
    ...env,
  });

  const invocations: Invocation[] = [];
  const dispatch = new Map<string, Handler>();
  const running = new Set<Promise<unknown>>();
  const world: World = {
    emu,
    clock,
    bucket: undefined as unknown as OssBucket,
    ledger: undefined as unknown as Ledger,
    deliveries,
    receiverScript,
    invocations,
    dispatch,
    async settled() {
      while (running.size) await Promise.allSettled([...running]);
    },
    context: (fn, timeoutSeconds = 60) => ({
      requestId: `req-${++requestCounter}`,
      credentials: { accessKeyId: DEFAULT_ACCESS_KEY.id, accessKeySecret: DEFAULT_ACCESS_KEY.secret },
      function: { name: fn, timeout: timeoutSeconds },
    }),
    tick: () => timerEvent('tick', clock.now(), undefined),
    async stop() {
      installInvoker(undefined);
      await client.close();
      await new Promise((r) => receiver.close(r));
      await emu.stop();
    },
  };
  installInvoker({
    async invokeAsync(fn, payload) {
      invocations.push({ fn, payload });
      const handler = dispatch.get(fn);
      if (!handler) return;
      const run = handler(payloadBytes(payload), world.context(fn)).finally(() => running.delete(run));
      running.add(run);
    },
  });
  const client = new OssClient({
    endpoint: emu.url,
    region: emu.region,
    pathStyle: true,
    credentials: staticCredentials({ accessKeyId: DEFAULT_ACCESS_KEY.id, accessKeySecret: DEFAULT_ACCESS_KEY.secret }),
  });
  world.bucket = client.bucket(BUCKET);
  world.ledger = new Ledger(world.bucket, '_livecycle/');
  return world;
}

/** An FC HTTP event for the api, signed with the api secret at the emulator clock's now. */
export function apiEvent(
  clock: ControlledClock,
  method: string,
  path: string,
  opts: { body?: unknown; query?: Record<string, string> } = {},
): Buffer {
  const body = opts.body === undefined ? '' : JSON.stringify(opts.body);
  const headers: Record<string, string> = {
    ...signApiRequest({ method, path, query: opts.query, body, secret: API_SECRET, now: clock.now() }),
    ...(body ? { 'content-type': 'application/json' } : {}),
  };
  return httpEvent(method, path, { headers, query: opts.query, body });
}

/** An FC 3.0 HTTP trigger event as the gateway delivers it (docs: function-compute.md §2.3). */
export function httpEvent(
  method: string,
  path: string,
  opts: { headers: Record<string, string>; query?: Record<string, string>; body: string },
): Buffer {
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: path,
      headers: opts.headers,
      queryParameters: opts.query ?? {},
      body: opts.body,
      isBase64Encoded: false,
      requestContext: {
        requestId: `http-${++requestCounter}`,
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    }),
  );
}

/** The api response, parsed. */
export async function callApi(
  api: Handler,
  world: World,
  method: string,
  path: string,
  opts: { body?: unknown; query?: Record<string, string> } = {},
) {
  const event = apiEvent(world.clock, method, path, opts);
  const res = (await api(event, world.context('api', 30))) as { statusCode: number; body: string };
  recordApiResponse(event, res);
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
}

/** callApi a second later: each signed request needs its own second (the api refuses a replayed signature). */
export async function callApiNextSecond(
  api: Handler,
  world: World,
  method: string,
  path: string,
  opts: { body?: unknown; query?: Record<string, string> } = {},
) {
  await world.clock.advance(1_000);
  return callApi(api, world, method, path, opts);
}

/** One cleanup-orphans invocation through its handler on the hourly timer's event; each bucket's outcome. */
export async function cleanupTick(cleanup: Handler, world: World): Promise<{ status: string }[]> {
  const result = (await cleanup(
    timerEvent('hourly', world.clock.now(), undefined),
    world.context('cleanup-orphans', 900),
  )) as { buckets: { status: string }[] };
  return result.buckets;
}

/** Every key under a prefix, with its body. */
export async function objectsUnder(bucket: OssBucket, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of bucket.iterateObjects({ prefix }))
    out.set(o.key, (await bucket.getObject(o.key)).body.toString('utf8'));
  return out;
}

/** Keys under a prefix. */
export async function keysUnder(bucket: OssBucket, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const o of bucket.iterateObjects({ prefix })) out.push(o.key);
  return out;
}

/** The ledger's facts: its keys without the usage records (docs/cost.md), which every function instance writes. */
export async function ledgerFactKeys(bucket: OssBucket): Promise<string[]> {
  return (await keysUnder(bucket, '_livecycle/')).filter((k) => !k.startsWith('_livecycle/usage/'));
}

/** The deliveries' event types for one channel, in sequence order. */
export function eventsOf(world: World, channel: string): WebhookPayload[] {
  return world.deliveries
    .map((d) => d.payload)
    .filter((p) => p.channel === channel)
    .sort((a, b) => a.sequence - b.sequence);
}

/**
 * What a receiver that dedupes by id (docs/ledger.md: a delivery is retried when its response is
 * lost or its claimant died) keeps: one payload per id, and every copy of an id must carry the
 * same sequence.
 */
export function distinctEventsOf(world: World, channel: string): WebhookPayload[] {
  const byId = new Map<string, WebhookPayload>();
  for (const event of eventsOf(world, channel)) {
    const seen = byId.get(event.id);
    if (seen && seen.sequence !== event.sequence)
      throw new Error(`event ${event.id} delivered with sequences ${seen.sequence} and ${event.sequence}`);
    byId.set(event.id, event);
  }
  return [...byId.values()].sort((a, b) => a.sequence - b.sequence);
}

/** The notice body the emulator publishes for a LiveChannel snapshot of `channel` taken at `atMs`. */
export function snapshotNoticeBody(channel: string, atMs: number): string {
  return JSON.stringify({
    event: 'LiveChannelSnapshot',
    bucket: BUCKET,
    channel,
    destBucket: BUCKET,
    object: `${channel}/${atMs}.jpg`,
    time: new Date(atMs).toISOString(),
  });
}
