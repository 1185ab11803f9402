import { randomFillSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIPv4, type Socket } from 'node:net';
import type { Logger } from '../../shared/log';
import { ADMIN_HEADER, ADMIN_PREFIX } from './admin-client';
import { checkBucket, checkObjectKey, resolveTarget } from './addressing';
import type { Authenticator } from './auth';
import { errors, renderError } from './errors';
import type { FaultInjector } from './faults';
import { operationSubResources } from './ops/common';
import {
  AdminError,
  OssErrorResponse,
  type AdminRoute,
  type EmuContext,
  type EmuRequest,
  type EmuResponse,
  type Operation,
} from './types';
import { listenOn } from './listen';

/**
 * How long an idle keep-alive connection stays open. Node's default (5 s) is shorter than SDK
 * pools keep sockets (ali-oss 15 s, undici 4 s, many 60 s): a client reusing one the server just
 * closed gets "socket hang up". OSS keeps them about a minute; above that, as load balancers do.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Must exceed the keep-alive timeout, or a slow next request on a reused socket is cut (Node's advice). */
export const HEADERS_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS + 1_000;
const MAX_ADMIN_BODY_BYTES = 1024 * 1024;

/** What an anonymous caller may do in a bucket configured public-read. */
const ANONYMOUS_READ_OPERATIONS = new Set(['GetObject', 'HeadObject', 'ListObjectsV2', 'ListObjects']);

export interface ServerDeps {
  ctx: EmuContext;
  auth: Authenticator;
  /** LiveChannel operations first, then the object operations; the first match wins. */
  operations: readonly Operation[];
  adminRoutes: readonly AdminRoute[];
  faults: FaultInjector;
  log: Logger;
  publicReadBuckets: ReadonlySet<string>;
  /** Largest request body accepted (PutObject); larger → 400 EntityTooLarge. */
  maxBodyBytes: number;
}

/**
 * Random bytes for request ids, filled 256 ids at a time: one randomBytes call per request was a
 * few percent of the emulator's time per request under load.
 */
const ID_BYTES = 12;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.length;

/** 24 upper-case hex characters, like OSS's request ids. */
function newRequestId(): string {
  if (idOffset === idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = idPool.toString('hex', idOffset, idOffset + ID_BYTES).toUpperCase();
  idOffset += ID_BYTES;
  return id;
}

function headerMap(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

class BodyTooLarge extends Error {}

/** 127.0.0.0/8, ::1 or localhost, with or without a port; anything else may be a rebound DNS name. */
function isLoopbackHost(host: string): boolean {
  const name = /^\[([^\]]*)\](?::\d+)?$/.exec(host)?.[1] ?? host.replace(/:\d+$/, '');
  if (name === '::1' || name.toLowerCase() === 'localhost') return true;
  return isIPv4(name) && name.startsWith('127.');
}

/**
 * Why an admin request is refused, or undefined to serve it. The admin API has no credentials,
 * so only local tools may reach it: the custom header (a browser sends it cross-origin only after
 * a preflight the emulator never answers), a loopback Host (no DNS rebinding) and no foreign Origin.
 */
function adminRefusal(req: IncomingMessage): string | undefined {
  if (req.headers[ADMIN_HEADER] !== '1') return `admin calls must send the header ${ADMIN_HEADER}: 1`;
  const host = req.headers.host ?? '';
  if (!isLoopbackHost(host)) return 'admin calls must be addressed to a loopback Host (127.0.0.1, ::1 or localhost)';
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) return 'admin calls from another origin are refused';
  return undefined;
}

const EMPTY_BODY = Buffer.alloc(0);

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(new BodyTooLarge());
  // No Content-Length (or 0) and no Transfer-Encoding: HTTP/1.1 says there is no body (RFC 9112
  // §6.3), so skip the stream round trip most requests (GETs, polls) would otherwise pay.
  if (!(declared > 0) && req.headers['transfer-encoding'] === undefined) {
    // Still consume the (empty) stream so 'end' is emitted and the socket is reused as usual.
    req.resume();
    return Promise.resolve(EMPTY_BODY);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/**
 * HTTP → EmuRequest → (auth, routing, faults) → Operation → EmuResponse. Every response carries
 * x-oss-request-id, Date (emulator clock) and Server: AliyunOSS; any unexpected exception becomes
 * 500 InternalError and the server keeps serving.
 */
export class EmulatorServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly deps: ServerDeps) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    this.server.headersTimeout = HEADERS_TIMEOUT_MS;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    // A malformed request line or header block: answer 400 and drop the connection.
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(port: number, host: string): Promise<number> {
    return listenOn(this.server, port, host);
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private realDelay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const method = req.method ?? 'GET';
    const host = req.headers.host ?? '';
    const { log } = this.deps;
    try {
      const rawUrl = req.url ?? '/';
      if (rawUrl === ADMIN_PREFIX || rawUrl.startsWith(`${ADMIN_PREFIX}/`) || rawUrl.startsWith(`${ADMIN_PREFIX}?`)) {
        await this.handleAdmin(req, res, requestId);
        return;
      }
      let body: Buffer;
      try {
        body = await readBody(req, this.deps.maxBodyBytes);
      } catch (err) {
        if (!(err instanceof BodyTooLarge)) throw err;
        // The rest of the body is never read, so this connection cannot carry another request.
        res.setHeader('connection', 'close');
        throw errors.entityTooLarge(this.deps.maxBodyBytes);
      }
      const emuReq = this.decode(req, requestId, body);
      const { operation, response } = await this.dispatch(emuReq, req, res);
      if (response) this.send(res, emuReq.method, requestId, response, operation);
    } catch (err) {
      let oss: OssErrorResponse;
      if (err instanceof OssErrorResponse) oss = err;
      else {
        log.error({ err, requestId, method }, 'emulator request failed unexpectedly');
        oss = errors.internalError();
      }
      if (!res.headersSent && !res.destroyed)
        this.send(res, method, requestId, renderError(oss, { method, requestId, host }));
    }
  }

  private decode(req: IncomingMessage, requestId: string, body: Buffer): EmuRequest {
    const headers = headerMap(req);
    const host = headers['host'] ?? '';
    const target = resolveTarget(req.url ?? '/', host, this.deps.ctx.buckets);
    return {
      method: (req.method ?? 'GET').toUpperCase(),
      bucket: target.bucket,
      key: target.key,
      query: target.query,
      headers,
      body,
      requestId,
      host,
      remoteAddr: `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`,
    };
  }

  /** Answers the response to send, or none when a fault already dealt with the connection. */
  private async dispatch(
    emuReq: EmuRequest,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ operation?: string; response?: EmuResponse }> {
    const { ctx, auth, operations, faults } = this.deps;
    checkBucket(emuReq.bucket, ctx.buckets);
    emuReq.principal = auth.authenticate(emuReq);
    checkObjectKey(emuReq.key);
    const operation = operations.find((op) => op.match(emuReq));
    if (
      !emuReq.principal &&
      !(operation && this.deps.publicReadBuckets.has(emuReq.bucket) && ANONYMOUS_READ_OPERATIONS.has(operation.name))
    ) {
      throw errors.accessDenied('You have no right to access this resource because of bucket acl.');
    }
    if (!operation) throw this.unsupported(emuReq);

    const decision = faults.decide(operation.name);
    if (decision.delayMs > 0) await this.realDelay(decision.delayMs);
    switch (decision.fault) {
      case 'internal-error':
        throw errors.internalError();
      case 'throttle':
        throw new OssErrorResponse(503, decision.throttleCode, 'Please reduce your request rate.');
      case 'reset':
        req.socket.destroy();
        return { operation: operation.name };
      case 'stall':
        await this.realDelay(decision.stallMs);
        req.socket.destroy();
        return { operation: operation.name };
    }
    const response = await operation.handle(emuReq, ctx);
    // An anonymous read of a public-read bucket may come from a browser HLS player (hls.js) on
    // another origin. Real OSS needs a bucket CORS rule for that; the emulator allows any origin
    // for these reads (simple GETs, so no preflight).
    if (!emuReq.principal) response.headers = { ...response.headers, 'access-control-allow-origin': '*' };
    if (decision.fault === 'truncate') {
      this.sendTruncated(res, emuReq.requestId, response);
      return { operation: operation.name };
    }
    return { operation: operation.name, response };
  }

  /**
   * No operation matched: an operation-selecting sub-resource we lack (`?acl`, `?uploads`, …)
   * or a service-level call (ListBuckets) → 501 NotImplemented; otherwise the method does not
   * apply to the resource → 405 MethodNotAllowed.
   */
  private unsupported(req: EmuRequest): OssErrorResponse {
    const subs = operationSubResources(req);
    if (subs.length) return errors.notImplemented(`The sub-resource ?${subs.join('&')} with ${req.method}`);
    if (req.bucket === '') return errors.notImplemented(`The service-level operation ${req.method} /`);
    return errors.methodNotAllowed(req.method);
  }

  /** The Date header of the clock's current second, formatted once per second rather than per request. */
  private dateSecond = NaN;
  private dateText = '';

  private commonHeaders(requestId: string): Record<string, string> {
    const second = Math.floor(this.deps.ctx.clock.now() / 1000);
    if (second !== this.dateSecond) {
      this.dateSecond = second;
      this.dateText = new Date(second * 1000).toUTCString();
    }
    return { 'x-oss-request-id': requestId, date: this.dateText, server: 'AliyunOSS' };
  }

  private send(
    res: ServerResponse,
    method: string,
    requestId: string,
    response: EmuResponse,
    operation?: string,
  ): void {
    const body =
      response.body === undefined
        ? undefined
        : Buffer.isBuffer(response.body)
          ? response.body
          : Buffer.from(response.body);
    const headers = this.commonHeaders(requestId);
    if (response.headers) Object.assign(headers, response.headers);
    if (headers['content-length'] === undefined && response.status !== 204 && response.status !== 304)
      headers['content-length'] = String(body?.length ?? 0);
    res.writeHead(response.status, headers);
    res.end(method === 'HEAD' ? undefined : body);
    // Checked first so a request at the default level builds no log object at all.
    if (this.deps.log.isLevelEnabled('debug'))
      this.deps.log.debug({ requestId, operation, method, status: response.status }, 'oss request');
  }

  /** Full Content-Length, half the body, then the connection drops (the operation did run). */
  private sendTruncated(res: ServerResponse, requestId: string, response: EmuResponse): void {
    const body = Buffer.from(response.body ?? '');
    if (body.length < 2) {
      res.socket?.destroy();
      return;
    }
    res.writeHead(response.status, {
      ...this.commonHeaders(requestId),
      ...response.headers,
      'content-length': String(body.length),
    });
    res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
  }

  private async handleAdmin(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? '/';
    const path = url.slice(ADMIN_PREFIX.length).split('?')[0] || '/';
    const route = this.deps.adminRoutes.find((r) => r.method === req.method && r.path === path);
    let status = 200;
    let payload: unknown;
    try {
      const refusal = adminRefusal(req);
      if (refusal) {
        // Its body is never read, so this connection cannot carry another request.
        res.setHeader('connection', 'close');
        throw new AdminError(403, refusal);
      }
      const raw = await readBody(req, MAX_ADMIN_BODY_BYTES).catch((err: unknown) => {
        if (err instanceof BodyTooLarge) throw new AdminError(413, 'admin request body too large');
        throw err;
      });
      if (!route) {
        const known = this.deps.adminRoutes.some((r) => r.path === path);
        throw new AdminError(
          known ? 405 : 404,
          known ? `${req.method} not allowed on ${ADMIN_PREFIX}${path}` : `no admin route ${ADMIN_PREFIX}${path}`,
        );
      }
      let body: unknown;
      if (raw.length) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          throw new AdminError(400, 'body is not valid JSON');
        }
      }
      payload = (await route.handle(body, this.deps.ctx)) ?? {};
    } catch (err) {
      if (err instanceof AdminError) status = err.status;
      else {
        this.deps.log.error({ err, requestId, path }, 'emulator admin call failed unexpectedly');
        status = 500;
      }
      payload = { error: err instanceof AdminError ? err.message : 'internal error' };
    }
    const json = Buffer.from(JSON.stringify(payload));
    if (status === 413) res.setHeader('connection', 'close');
    res.writeHead(status, {
      ...this.commonHeaders(requestId),
      'content-type': 'application/json',
      'content-length': String(json.length),
    });
    res.end(json);
  }
}
