/**
 * The reliability suite's stack: the real emulator (HTTP, signatures, faults) on a frozen
 * ControlledClock, the real function handlers (`functions/<name>/index.ts`) invoked in-process
 * with FC-shaped contexts (STS credentials minted by the emulator, timeouts), an async invoker
 * that queues poll-stat → generate-vod invocations so tests can run, retry or duplicate them,
 * a webhook receiver, and a capture of EVERY byte written to fd 1/2 (pino's default destination
 * writes there with fs.write, not through process.stdout).
 *
 * Adding a function to the suite is one line in FUNCTIONS.
 */
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import { ControlledClock, installClock } from '../../shared/clock';
import { createLogger } from '../../shared/log';
import { installInvoker } from '../../shared/platform';
import { OssClient, type OssBucket } from '../../shared/oss';
import { startEmulator, type Emulator } from '../../local/emulator';
import { recordApiResponse, recordWebhookBody } from '../contract/recorder';

export const BUCKET = 'livecycle-demo';
export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
export const API_SECRET = 'reliability-api-secret-0123456789';
export const API_SECRET_OLD = 'reliability-api-secret-old-abcdef';
export const API_TOKEN = 'reliability-api-token-ZYXWVUTSRQ';
export const WEBHOOK_SECRET = 'whsec_cmVsaWFiaWxpdHktd2ViaG9vay1zZWNyZXQtOTg3NjU=';
export const ACCESS_KEY = { id: 'reliability-key-id', secret: 'reliability-access-key-secret-42' };

/** The function handlers under test. Adding one is a line here. */
export const FUNCTIONS = {
  api: () => import('../../functions/api/index'),
  'poll-stat': () => import('../../functions/poll-stat/index'),
  'disable-idle': () => import('../../functions/disable-idle/index'),
  'generate-vod': () => import('../../functions/generate-vod/index'),
  'cleanup-orphans': () => import('../../functions/cleanup-orphans/index'),
  'on-snapshot': () => import('../../functions/on-snapshot/index'),
} as const;
export type FunctionName = keyof typeof FUNCTIONS;
export const TIMER_FUNCTIONS = ['poll-stat', 'disable-idle', 'generate-vod', 'cleanup-orphans'] as const;

type AnyHandler = (event: Buffer, context?: object) => Promise<unknown>;

// ---------------------------------------------------------------------------------------------
// Output capture: fd 1 and 2 (pino/sonic-boom), process.stdout/stderr (console in some paths).

const captured: string[] = [];
let captureDepth = 0;
type Restore = () => void;
let restoreCapture: Restore | undefined;

function textOf(data: unknown, encoding?: unknown): string {
  if (typeof data === 'string') return data;
  if (Buffer.isBuffer(data)) return data.toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data).toString('utf8');
  return String(data);
}

/** Starts capturing everything written to stdout/stderr by this process. Nested calls share one capture. */
export function startCapture(): { lines: () => string[]; text: () => string; stop: () => void } {
  if (captureDepth++ === 0) {
    const origWrite = fs.write;
    const origWriteSync = fs.writeSync;
    const outWrite = process.stdout.write.bind(process.stdout);
    const errWrite = process.stderr.write.bind(process.stderr);
    const f = fs as unknown as Record<string, unknown>;
    f.write = function (fd: number, data: unknown, ...rest: unknown[]) {
      if (fd === 1 || fd === 2) {
        const text = textOf(data, typeof rest[0] === 'string' ? rest[0] : undefined);
        captured.push(text);
        const cb = rest.findLast((r) => typeof r === 'function') as ((e: null, n: number) => void) | undefined;
        const n = typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).byteLength;
        if (cb) process.nextTick(cb, null, n);
        return undefined;
      }
      return (origWrite as (...a: unknown[]) => unknown).call(fs, fd, data, ...rest);
    };
    f.writeSync = function (fd: number, data: unknown, ...rest: unknown[]) {
      if (fd === 1 || fd === 2) {
        captured.push(textOf(data, typeof rest[0] === 'string' ? rest[0] : undefined));
        return typeof data === 'string' ? Buffer.byteLength(data) : (data as Uint8Array).byteLength;
      }
      return (origWriteSync as (...a: unknown[]) => number).call(fs, fd, data, ...rest);
    };
    const hook = (chunk: unknown, encoding?: unknown, cb?: unknown) => {
      captured.push(textOf(chunk, encoding));
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      return true;
    };
    process.stdout.write = hook as typeof process.stdout.write;
    process.stderr.write = hook as typeof process.stderr.write;
    restoreCapture = () => {
      f.write = origWrite;
      f.writeSync = origWriteSync;
      process.stdout.write = outWrite;
      process.stderr.write = errWrite;
    };
  }
  const from = captured.length;
  return {
    lines: () => captured.slice(from).join('').split('\n').filter(Boolean),
    text: () => captured.slice(from).join(''),
    stop: () => {
      if (--captureDepth === 0) restoreCapture?.();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Unhandled rejections / exceptions: counted for the whole file.

export const processProblems = { unhandledRejections: [] as unknown[], uncaughtExceptions: [] as unknown[] };
let problemsInstalled = false;
export function watchProcessProblems(): typeof processProblems {
  if (!problemsInstalled) {
    problemsInstalled = true;
    process.on('unhandledRejection', (reason) => processProblems.unhandledRejections.push(reason));
    process.on('uncaughtException', (err) => processProblems.uncaughtExceptions.push(err));
  }
  return processProblems;
}

// ---------------------------------------------------------------------------------------------
// Webhook receiver.

export interface Delivery {
  id: string;
  type: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  url = '';
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let parsed: { id?: string; type?: string } = {};
        try {
          parsed = JSON.parse(body) as typeof parsed;
        } catch {
          /* recorded as-is */
        }
        this.deliveries.push({ id: parsed.id ?? '', type: parsed.type ?? '', headers: req.headers, body });
        recordWebhookBody(body);
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks?token=reliability-url-token-0001`;
    return this;
  }
  /** Distinct event ids received, sorted. */
  ids(): string[] {
    return [...new Set(this.deliveries.map((d) => d.id))].sort();
  }
  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

// ---------------------------------------------------------------------------------------------
// The stack.

export interface AsyncCall {
  functionName: string;
  payload: unknown;
}

export interface StackOptions {
  env?: Record<string, string>;
  /** Mint a fresh STS credential per invocation (default) or use the static key. */
  sts?: boolean;
  webhooks?: boolean;
  seed?: number;
  /** The strict emulator: PostVodPlaylist on a disabled channel answers 409 LiveChannelDisabled. */
  refuseVodWhenDisabled?: boolean;
}

export interface Stack {
  emu: Emulator;
  clock: ControlledClock;
  oss: OssBucket;
  receiver?: WebhookReceiver;
  env: Record<string, string>;
  /** Async invocations queued by the functions (poll-stat → generate-vod). */
  asyncQueue: AsyncCall[];
  /** Security tokens and STS secrets minted for invocations (to scan logs for). */
  minted: { accessKeySecret: string; securityToken: string }[];
  invoke(
    fn: FunctionName,
    event: Buffer | string | object,
    opts?: { timeoutSeconds?: number; requestId?: string },
  ): Promise<unknown>;
  /**
   * Runs (and removes) every queued async invocation; returns how many ran. Failures are returned, like FC's async
   * retry would see them.
   */
  drainAsync(opts?: { times?: number }): Promise<{ ran: number; failed: unknown[] }>;
  /** Changes the functions' environment; they build a fresh instance from it on their next call (an FC redeploy). */
  setEnv(env: Record<string, string>): void;
  stop(): Promise<void>;
}

let invocationCounter = 0;

export function timerEvent(name: string, atMs: number, payload?: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      triggerTime: new Date(atMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      triggerName: name,
      payload: payload ?? '',
    }),
  );
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const clock = new ControlledClock({ startMs: T0, rate: 0 });
  const emu = await startEmulator({
    port: 0,
    buckets: [BUCKET],
    accessKeys: [{ id: ACCESS_KEY.id, secret: ACCESS_KEY.secret }],
    clock,
    seed: opts.seed ?? 1,
    logger: createLogger({ name: 'emulator', level: 'warn' }),
    refuseVodWhenDisabled: opts.refuseVodWhenDisabled,
  });
  installClock(clock);
  const receiver = opts.webhooks === false ? undefined : await new WebhookReceiver().start();
  const env: Record<string, string> = {
    OSS_ENDPOINT: emu.url,
    OSS_REGION: emu.region,
    OSS_PATH_STYLE: 'true',
    BUCKETS: BUCKET,
    API_SECRETS: `${API_SECRET},${API_SECRET_OLD}`,
    API_TOKEN,
    ...(receiver ? { WEBHOOK_URL: receiver.url, WEBHOOK_SECRETS: WEBHOOK_SECRET } : {}),
    ALIBABA_CLOUD_ACCESS_KEY_ID: ACCESS_KEY.id,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: ACCESS_KEY.secret,
    DRY_RUN: 'false',
    IDLE_AFTER: '1800',
    RECONNECT_WINDOW: '60',
    ORPHAN_GRACE: '3600',
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const asyncQueue: AsyncCall[] = [];
  installInvoker({
    async invokeAsync(functionName, payload) {
      asyncQueue.push({ functionName, payload });
    },
  });
  // Fresh module instances: each function builds its Instance from process.env on first call.
  vi.resetModules();
  const handlers = new Map<FunctionName, AnyHandler>();
  const handlerOf = async (fn: FunctionName): Promise<AnyHandler> => {
    let h = handlers.get(fn);
    if (!h) {
      const mod = (await FUNCTIONS[fn]()) as { handler: AnyHandler };
      h = mod.handler;
      handlers.set(fn, h);
    }
    return h;
  };
  const minted: Stack['minted'] = [];
  const admin = new OssClient({
    endpoint: emu.url,
    region: emu.region,
    pathStyle: true,
    credentials: { getCredentials: async () => ({ accessKeyId: ACCESS_KEY.id, accessKeySecret: ACCESS_KEY.secret }) },
  });

  const stack: Stack = {
    emu,
    clock,
    oss: admin.bucket(BUCKET),
    receiver,
    env,
    asyncQueue,
    minted,
    async invoke(fn, event, o = {}) {
      const handler = await handlerOf(fn);
      const bytes = Buffer.isBuffer(event)
        ? event
        : Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));
      let credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string } | undefined;
      if (opts.sts !== false) {
        const sts = emu.mintSts({ ttlSeconds: 3600 });
        minted.push({ accessKeySecret: sts.accessKeySecret, securityToken: sts.securityToken });
        credentials = {
          accessKeyId: sts.accessKeyId,
          accessKeySecret: sts.accessKeySecret,
          securityToken: sts.securityToken,
        };
      }
      const context = {
        requestId: o.requestId ?? `req-${++invocationCounter}`,
        credentials,
        region: emu.region,
        accountId: '1234567890123456',
        function: { name: fn, timeout: o.timeoutSeconds ?? 600 },
      };
      const result = await handler(bytes, context);
      if (fn === 'api') recordApiResponse(bytes, result as { statusCode: number; body: string });
      return result;
    },
    async drainAsync(o = {}) {
      let ran = 0;
      const failed: unknown[] = [];
      while (asyncQueue.length) {
        const call = asyncQueue.shift()!;
        for (let i = 0; i < (o.times ?? 1); i++) {
          ran++;
          try {
            await stack.invoke(
              call.functionName as FunctionName,
              Buffer.from(typeof call.payload === 'string' ? call.payload : JSON.stringify(call.payload)),
            );
          } catch (err) {
            failed.push(err);
          }
        }
      }
      return { ran, failed };
    },
    setEnv(changes) {
      for (const [k, v] of Object.entries(changes)) {
        if (!(k in saved)) saved[k] = process.env[k];
        process.env[k] = v;
        env[k] = v;
      }
      vi.resetModules();
      handlers.clear();
    },
    async stop() {
      installInvoker(undefined);
      await receiver?.stop();
      await emu.stop();
      installClock(undefined);
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
  return stack;
}

// ---------------------------------------------------------------------------------------------
// Signed api events.

import { signApiRequest } from '../../shared/api/auth';

export interface ApiCall {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** An FC 3.0 HTTP trigger event; `auth` decides how it is authenticated. */
export function apiEvent(
  call: ApiCall,
  auth: { secret?: string; token?: string; nowMs?: number; none?: boolean } = {},
): Buffer {
  const body = call.body === undefined ? '' : typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
  let headers: Record<string, string> = { 'Content-Type': 'application/json', ...call.headers };
  if (!auth.none) {
    if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
    else
      headers = {
        ...headers,
        ...signApiRequest({
          method: call.method,
          path: call.path,
          query: call.query,
          body,
          secret: auth.secret ?? API_SECRET,
          now: auth.nowMs ?? Date.now(),
        }),
      };
  }
  return Buffer.from(
    JSON.stringify({
      version: 'v1',
      rawPath: call.path,
      headers,
      queryParameters: call.query ?? {},
      body,
      isBase64Encoded: false,
      requestContext: {
        requestId: 'trigger-req',
        http: { method: call.method, path: call.path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9' },
      },
    }),
  );
}

export interface ApiResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Calls the api with a bearer token (no replay bookkeeping) and parses the answer. */
export async function api(
  stack: Stack,
  call: ApiCall,
): Promise<{ status: number; json: Record<string, unknown>; raw: ApiResponse }> {
  const raw = (await stack.invoke('api', apiEvent(call, { token: API_TOKEN }))) as ApiResponse;
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(raw.body) as Record<string, unknown>;
  } catch {
    /* left empty */
  }
  return { status: raw.statusCode, json, raw };
}

/** Every object under `prefix` with its body (ledger comparison). */
export async function snapshotObjects(oss: OssBucket, prefix = ''): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const o of oss.iterateObjects({ prefix, pageSize: 1000 })) {
    out.set(o.key, (await oss.getObject(o.key)).body.toString('utf8'));
  }
  return out;
}

/**
 * The OSS client, ledger store and webhooks wait out retry back-off in real time
 * (node:timers/promises setTimeout, 200 ms doubling). Tests that fail many requests on purpose
 * compress those waits by `factor`; every retry decision and attempt count is unchanged.
 * Swapped through syncBuiltinESMExports (ESM named imports see it); returns the restore function.
 */
export function compressBackoff(factor: number): () => void {
  const timers = createRequire(import.meta.url)('node:timers/promises') as typeof import('node:timers/promises');
  const original = timers.setTimeout;
  timers.setTimeout = ((ms?: number, value?: unknown, options?: object) =>
    original(Math.ceil((ms ?? 0) / factor), value, options)) as typeof original;
  syncBuiltinESMExports();
  return () => {
    timers.setTimeout = original;
    syncBuiltinESMExports();
  };
}
