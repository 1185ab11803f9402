/**
 * The OSS client: LiveChannel operations plus the object operations cleanup needs, on undici
 * (one keep-alive pool per origin) with V4 (default) or V1 signing, bounded retries and a
 * per-call deadline. See docs/architecture.md "OSS client" for the contract.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
// undici's package entry evaluates everything it exports (fetch, WebSocket, cache stores, mock
// agents, and Node's own bundled undici via the web globals): ~520 KB and most of a function's
// cold start. The client needs one Pool class and the request API, so it takes those modules
// from undici's lib/ directly; undici.request() is the same function mixed into Dispatcher.
import Pool from 'undici/lib/dispatcher/pool.js';
import poolRequest from 'undici/lib/api/api-request.js';
import { currentClock } from '../clock';
import type { Logger } from '../log';
import type { CredentialsProvider } from './credentials';
import { bucketAddress, parseEndpoint, parseRtmpEndpoint, rtmpOrigin, type Endpoint } from './endpoint';
import { OssError, OssNetworkError, OssProtocolError, OssTimeoutError, OssValidationError } from './errors';
import { backoffDelayMs, DEFAULT_RETRY, isRetryableError, type RetryOptions } from './retry';
import {
  encodeKeyPath,
  encodeQuery,
  presignV1,
  presignV4,
  signRequestV1,
  signRequestV4,
  signRtmpUrl,
  type SignableRequest,
} from './signer';
import type {
  OssRequestInfo,
  DeleteObjectsResult,
  GetObjectInput,
  GetObjectResult,
  IterateObjectsInput,
  ListLiveChannelsInput,
  ListLiveChannelsResult,
  ListObjectsInput,
  ListObjectsResult,
  LiveChannelConfig,
  LiveChannelStat,
  LiveChannelStatus,
  LiveChannelSummary,
  LiveRecord,
  ObjectMeta,
  ObjectSummary,
  PresignMethod,
  PutLiveChannelInput,
  PutLiveChannelResult,
  PutObjectInput,
  SignRtmpUrlInput,
  VodWindow,
} from './types';
import {
  validateBucketName,
  validateChannelName,
  validateChannelStatus,
  validateExpiresIn,
  validateListString,
  validateMaxKeys,
  validateMeta,
  validateObjectKey,
  validatePlaylistName,
  validatePutLiveChannelInput,
  validateVodWindow,
} from './validate';
import {
  buildDeleteRequest,
  buildLiveChannelConfiguration,
  parseCreateLiveChannelResult,
  parseDeleteResult,
  parseErrorBody,
  parseLiveChannelConfiguration,
  parseLiveChannelHistory,
  parseLiveChannelStat,
  parseListBucketResult,
  parseListLiveChannelResult,
  stripQuotes,
  XmlShapeError,
} from './xml';

export interface OssClientOptions {
  /** `oss-cn-hangzhou.aliyuncs.com`, `https://…`, or `http://127.0.0.1:9000`; https when no scheme. */
  endpoint: string;
  /** V4 signing region; derived from a standard OSS endpoint when omitted. */
  region?: string;
  credentials: CredentialsProvider;
  /** `<host>/<bucket>/<key>` instead of `<bucket>.<host>/<key>` (needed for an IP endpoint). */
  pathStyle?: boolean;
  signatureVersion?: 'v4' | 'v1';
  /** Deadline for one call, retries and back-off included. Default 30 s. */
  timeoutMs?: number;
  /** TCP/TLS connect timeout per attempt. Default min(5 s, timeoutMs). */
  connectTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  logger?: Logger;
  /** Connections per origin. Default 16. */
  connections?: number;
  /** `rtmp://host[:port]` as the origin of publish URLs (the local emulator's RTMP port); see parseRtmpEndpoint. */
  rtmpEndpoint?: string;
  /** Called for every request OSS answered 2xx (each billed request), e.g. to count cost per channel. */
  onRequest?: (info: OssRequestInfo) => void;
}

/** Keys per DeleteMultipleObjects request (OSS maximum). */
export const DELETE_BATCH_SIZE = 1000;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

interface OssRequest {
  /** OSS operation name, for errors and logs. */
  operation: string;
  method: string;
  bucket: string;
  key?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Repeating the request cannot change the outcome (idempotent ops, PostVodPlaylist, DeleteMultiple). */
  retrySafe: boolean;
  /** An error that, on a repeated attempt, means the earlier attempt succeeded (e.g. 404 after DELETE). */
  successOnRetry?: (err: OssError) => boolean;
  /** What a key-less request is about, for `onRequest` (a delete batch: its first key). */
  subject?: string;
}

interface OssResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  requestId?: string;
}

/** undici error codes that mean the connection failed (as opposed to a bug in the request). */
const NETWORK_ERROR_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE',
]);

function base64Md5(body: Buffer): string {
  return createHash('md5').update(body).digest('base64');
}

function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  return out;
}

export class OssClient {
  readonly endpoint: Endpoint;
  readonly region: string;
  readonly signatureVersion: 'v4' | 'v1';
  readonly pathStyle: boolean;
  private readonly rtmpEndpoint: string | undefined;
  private readonly credentials: CredentialsProvider;
  private readonly timeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly logger?: Logger;
  private readonly connections: number;
  private readonly onRequest: ((info: OssRequestInfo) => void) | undefined;
  private readonly pools = new Map<string, Pool>();
  private closed = false;

  constructor(opts: OssClientOptions) {
    this.endpoint = parseEndpoint(opts.endpoint);
    this.signatureVersion = opts.signatureVersion ?? 'v4';
    if (this.signatureVersion !== 'v4' && this.signatureVersion !== 'v1')
      throw new OssValidationError(
        'signatureVersion',
        `must be "v4" or "v1", got ${JSON.stringify(opts.signatureVersion)}`,
      );
    const region = opts.region ?? this.endpoint.region;
    if (!region)
      throw new OssValidationError(
        'region',
        `cannot be derived from endpoint ${this.endpoint.host}; pass it explicitly`,
      );
    this.region = region;
    if (!opts.credentials || typeof opts.credentials.getCredentials !== 'function')
      throw new OssValidationError('credentials', 'must be a CredentialsProvider');
    this.credentials = opts.credentials;
    this.pathStyle = opts.pathStyle ?? false;
    this.rtmpEndpoint = opts.rtmpEndpoint === undefined ? undefined : parseRtmpEndpoint(opts.rtmpEndpoint);
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new OssValidationError('timeoutMs', 'must be > 0');
    this.connectTimeoutMs = opts.connectTimeoutMs ?? Math.min(DEFAULT_CONNECT_TIMEOUT_MS, this.timeoutMs);
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    if (!Number.isInteger(this.retry.maxAttempts) || this.retry.maxAttempts < 1)
      throw new OssValidationError('retry.maxAttempts', 'must be an integer >= 1');
    this.logger = opts.logger;
    this.connections = opts.connections ?? 16;
    this.onRequest = opts.onRequest;
  }

  /** Operations on one bucket. */
  bucket(name: string): OssBucket {
    validateBucketName(name);
    return new OssBucket(this, name);
  }

  /** Closes every pooled connection; the client cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  /** @internal Signing time comes from the product clock (the emulator checks skew against it). */
  nowMs(): number {
    return currentClock().now();
  }

  /** @internal */
  async presign(method: PresignMethod, bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    const credentials = await this.credentials.getCredentials();
    const req: SignableRequest = { method, bucket, key };
    const now = this.nowMs();
    const query =
      this.signatureVersion === 'v4'
        ? presignV4(req, credentials, { region: this.region, nowMs: now, expiresInSeconds })
        : presignV1(req, credentials, Math.floor(now / 1000) + expiresInSeconds);
    const { origin, pathPrefix } = bucketAddress(this.endpoint, bucket, this.pathStyle);
    return `${origin}${pathPrefix}/${encodeKeyPath(key)}?${encodeQuery(query)}`;
  }

  /** @internal */
  async rtmpUrl(
    bucket: string,
    channel: string,
    expiresInSeconds: number,
    params: Record<string, string> | undefined,
  ): Promise<string> {
    const credentials = await this.credentials.getCredentials();
    const expires = Math.floor(this.nowMs() / 1000) + expiresInSeconds;
    return signRtmpUrl(
      this.rtmpEndpoint ?? rtmpOrigin(this.endpoint, bucket),
      { bucket, channel, expires, params },
      credentials,
    );
  }

  /** @internal Sends with retries inside the call's deadline; resolves only on 2xx. */
  async send(req: OssRequest): Promise<OssResponse> {
    if (this.closed) throw new OssValidationError('client', 'is closed');
    // The call's deadline. AbortSignal.timeout() costs more than signing a request (~10 µs) and
    // leaves its timer pending for the full timeout after the call is done; a controller with a
    // timer cleared when the call settles aborts the same way (reason: a TimeoutError).
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
      this.timeoutMs,
    );
    timer.unref?.();
    try {
      return await this.sendWithin(req, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private async sendWithin(req: OssRequest, deadline: AbortSignal): Promise<OssResponse> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(req, deadline);
      } catch (caught) {
        const err = deadline.aborted
          ? new OssTimeoutError(req.operation, 'deadline', this.timeoutMs, { cause: caught })
          : caught;
        if (attempt > 1 && err instanceof OssError && req.successOnRetry?.(err)) {
          return { status: 204, headers: {}, body: Buffer.alloc(0), requestId: err.requestId };
        }
        if (!req.retrySafe || attempt >= this.retry.maxAttempts || !isRetryableError(err)) throw err;
        const delayMs = backoffDelayMs(attempt, this.retry);
        this.logger?.warn(
          { op: req.operation, attempt, maxAttempts: this.retry.maxAttempts, delayMs, error: errorSummary(err) },
          'retrying OSS request',
        );
        try {
          await sleep(delayMs, undefined, { signal: deadline });
        } catch {
          throw new OssTimeoutError(req.operation, 'deadline', this.timeoutMs, { cause: err });
        }
      }
    }
  }

  private pool(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.connections,
        connectTimeout: this.connectTimeoutMs,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        keepAliveTimeout: 30_000,
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  private async attempt(req: OssRequest, deadline: AbortSignal): Promise<OssResponse> {
    const credentials = await this.credentials.getCredentials();
    const headers: Record<string, string> = { ...req.headers };
    if (req.body && req.body.length) headers['content-md5'] ??= base64Md5(req.body);
    const signable: SignableRequest = {
      method: req.method,
      bucket: req.bucket,
      key: req.key ?? '',
      query: req.query,
      headers,
    };
    const now = this.nowMs();
    const signed =
      this.signatureVersion === 'v4'
        ? signRequestV4(signable, credentials, { region: this.region, nowMs: now })
        : signRequestV1(signable, credentials, now);
    const { origin, pathPrefix } = bucketAddress(this.endpoint, req.bucket, this.pathStyle);
    const query = encodeQuery(req.query);
    // The target is built here, encoded exactly as signed; undici sends it verbatim.
    const path = `${pathPrefix}/${encodeKeyPath(req.key ?? '')}${query ? `?${query}` : ''}`;
    let status: number;
    let responseHeaders: Record<string, string>;
    let body: Buffer;
    try {
      const res = await poolRequest.call(this.pool(origin), {
        method: req.method,
        path,
        headers: signed,
        body: req.body,
        signal: deadline,
      });
      status = res.statusCode;
      responseHeaders = headerRecord(res.headers);
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (err) {
      throw this.transportError(req.operation, err, deadline);
    }
    const requestId = responseHeaders['x-oss-request-id'];
    this.logger?.debug({ op: req.operation, status, requestId }, 'OSS response');
    if (status >= 200 && status < 300) {
      this.onRequest?.({
        bucket: req.bucket,
        operation: req.operation,
        subject: req.key || req.query?.prefix || req.subject,
      });
      return { status, headers: responseHeaders, body, requestId };
    }
    throw serviceError(req.operation, status, responseHeaders, body);
  }

  private transportError(operation: string, err: unknown, deadline: AbortSignal): Error {
    if (deadline.aborted) return new OssTimeoutError(operation, 'deadline', this.timeoutMs, { cause: err });
    const code = (err as { code?: unknown })?.code;
    if (code === 'UND_ERR_CONNECT_TIMEOUT')
      return new OssTimeoutError(operation, 'connect', this.connectTimeoutMs, { cause: err });
    if (code === 'UND_ERR_HEADERS_TIMEOUT')
      return new OssTimeoutError(operation, 'headers', this.timeoutMs, { cause: err });
    if (code === 'UND_ERR_BODY_TIMEOUT') return new OssTimeoutError(operation, 'body', this.timeoutMs, { cause: err });
    if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || /^E[A-Z]+$/.test(code))) {
      return new OssNetworkError(operation, code, (err as Error).message, { cause: err });
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** An OssError from an error response: XML body, or base64 XML in `x-oss-err` (HEAD has no body). */
function serviceError(operation: string, status: number, headers: Record<string, string>, body: Buffer): OssError {
  const requestId = headers['x-oss-request-id'];
  const xml = body.length
    ? body.toString('utf8')
    : headers['x-oss-err']
      ? Buffer.from(headers['x-oss-err'], 'base64').toString('utf8')
      : '';
  try {
    const parsed = parseErrorBody(xml);
    return new OssError(operation, {
      status,
      ...parsed,
      requestId: parsed.requestId ?? requestId,
      ec: parsed.ec ?? headers['x-oss-ec'],
    });
  } catch {
    return new OssError(operation, {
      status,
      code: 'UnknownError',
      message: `HTTP ${status} without a readable OSS error body`,
      requestId,
      ec: headers['x-oss-ec'],
    });
  }
}

function errorSummary(err: unknown): Record<string, unknown> {
  if (err instanceof OssError) return { type: err.name, status: err.status, code: err.code, requestId: err.requestId };
  if (err instanceof OssNetworkError) return { type: err.name, code: err.causeCode };
  if (err instanceof OssTimeoutError) return { type: err.name, phase: err.phase };
  return { type: (err as Error)?.name };
}

/** Runs a body parser; a body that is not what OSS documents becomes an OssProtocolError. */
function parseBody<T>(operation: string, res: OssResponse, parse: (xml: string) => T): T {
  try {
    return parse(res.body.toString('utf8'));
  } catch (err) {
    if (err instanceof XmlShapeError) throw new OssProtocolError(operation, res.status, err.message, res.requestId);
    throw err;
  }
}

function objectMeta(headers: Record<string, string>, requestId: string | undefined): ObjectMeta {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.startsWith('x-oss-meta-')) meta[name.slice('x-oss-meta-'.length)] = value;
  const lastModified = headers['last-modified'] ? Date.parse(headers['last-modified']) : NaN;
  const result: ObjectMeta = {
    contentLength: Number(headers['content-length'] ?? 0),
    etag: stripQuotes(headers['etag'] ?? ''),
    lastModified: Number.isFinite(lastModified) ? lastModified : 0,
    meta,
  };
  if (headers['content-type'] !== undefined) result.contentType = headers['content-type'];
  if (headers['x-oss-object-type'] !== undefined) result.objectType = headers['x-oss-object-type'];
  if (headers['x-oss-storage-class'] !== undefined) result.storageClass = headers['x-oss-storage-class'];
  if (requestId !== undefined) result.requestId = requestId;
  return result;
}

/** Drops undefined values so they are not sent as parameters. */
function definedParams(params: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = String(v);
  return out;
}

const XML_CONTENT_TYPE = 'application/xml';

/** Operations on one bucket; get one from `client.bucket(name)`. */
export class OssBucket {
  constructor(
    private readonly client: OssClient,
    readonly name: string,
  ) {}

  // ---- LiveChannel -----------------------------------------------------------------------

  /** Creates the channel, or replaces its configuration when no stream is being pushed. */
  async putLiveChannel(channel: string, config: PutLiveChannelInput = {}): Promise<PutLiveChannelResult> {
    validateChannelName(channel);
    validatePutLiveChannelInput(config);
    const res = await this.client.send({
      operation: 'PutLiveChannel',
      method: 'PUT',
      bucket: this.name,
      key: channel,
      query: { live: '' },
      headers: { 'content-type': XML_CONTENT_TYPE },
      body: Buffer.from(buildLiveChannelConfiguration(config), 'utf8'),
      retrySafe: true,
    });
    return parseBody('PutLiveChannel', res, parseCreateLiveChannelResult);
  }

  async listLiveChannels(input: ListLiveChannelsInput = {}): Promise<ListLiveChannelsResult> {
    validateListString(input.prefix, 'prefix');
    validateListString(input.marker, 'marker');
    validateMaxKeys(input.maxKeys);
    const res = await this.client.send({
      operation: 'ListLiveChannel',
      method: 'GET',
      bucket: this.name,
      query: { live: '', ...definedParams({ prefix: input.prefix, marker: input.marker, 'max-keys': input.maxKeys }) },
      retrySafe: true,
    });
    return parseBody('ListLiveChannel', res, parseListLiveChannelResult);
  }

  /** Every channel (optionally under a prefix), page by page. */
  async *iterateLiveChannels(input: { prefix?: string; pageSize?: number } = {}): AsyncIterable<LiveChannelSummary> {
    validateMaxKeys(input.pageSize, 'pageSize');
    let marker: string | undefined;
    for (;;) {
      const page = await this.listLiveChannels({ prefix: input.prefix, marker, maxKeys: input.pageSize });
      yield* page.channels;
      if (!page.isTruncated) return;
      marker = page.nextMarker;
    }
  }

  /** Objects the channel produced stay in the bucket. */
  async deleteLiveChannel(channel: string): Promise<void> {
    validateChannelName(channel);
    await this.client.send({
      operation: 'DeleteLiveChannel',
      method: 'DELETE',
      bucket: this.name,
      key: channel,
      query: { live: '' },
      retrySafe: true,
      // A repeated DELETE that finds nothing: the lost first attempt did the work.
      successOnRetry: (err) => err.status === 404 && err.code === 'NoSuchLiveChannel',
    });
  }

  async putLiveChannelStatus(channel: string, status: LiveChannelStatus): Promise<void> {
    validateChannelName(channel);
    validateChannelStatus(status);
    await this.client.send({
      operation: 'PutLiveChannelStatus',
      method: 'PUT',
      bucket: this.name,
      key: channel,
      query: { live: '', status },
      retrySafe: true,
    });
  }

  async getLiveChannelInfo(channel: string): Promise<LiveChannelConfig> {
    validateChannelName(channel);
    const res = await this.client.send({
      operation: 'GetLiveChannelInfo',
      method: 'GET',
      bucket: this.name,
      key: channel,
      query: { live: '' },
      retrySafe: true,
    });
    return parseBody('GetLiveChannelInfo', res, parseLiveChannelConfiguration);
  }

  async getLiveChannelStat(channel: string): Promise<LiveChannelStat> {
    validateChannelName(channel);
    const res = await this.client.send({
      operation: 'GetLiveChannelStat',
      method: 'GET',
      bucket: this.name,
      key: channel,
      query: { live: '', comp: 'stat' },
      retrySafe: true,
    });
    return parseBody('GetLiveChannelStat', res, parseLiveChannelStat);
  }

  /** Up to the 10 most recent push sessions (times in ms). */
  async getLiveChannelHistory(channel: string): Promise<LiveRecord[]> {
    validateChannelName(channel);
    const res = await this.client.send({
      operation: 'GetLiveChannelHistory',
      method: 'GET',
      bucket: this.name,
      key: channel,
      query: { live: '', comp: 'history' },
      retrySafe: true,
    });
    return parseBody('GetLiveChannelHistory', res, parseLiveChannelHistory);
  }

  /** Stores a VOD playlist of the window (Unix SECONDS) as `<channel>/<playlist>`. */
  async postVodPlaylist(channel: string, playlist: string, window: VodWindow): Promise<{ etag: string }> {
    validateChannelName(channel);
    validatePlaylistName(playlist, 'playlist');
    validateVodWindow(window);
    const res = await this.client.send({
      operation: 'PostVodPlaylist',
      method: 'POST',
      bucket: this.name,
      key: `${channel}/${playlist}`,
      query: { vod: '', startTime: String(window.startTime), endTime: String(window.endTime) },
      // Same window → same object: repeating it is harmless.
      retrySafe: true,
    });
    return { etag: stripQuotes(res.headers['etag'] ?? '') };
  }

  /** The VOD playlist of the window (Unix SECONDS), m3u8 text; nothing is stored. */
  async getVodPlaylist(channel: string, window: VodWindow): Promise<string> {
    validateChannelName(channel);
    validateVodWindow(window);
    const res = await this.client.send({
      operation: 'GetVodPlaylist',
      method: 'GET',
      bucket: this.name,
      key: channel,
      query: { vod: '', startTime: String(window.startTime), endTime: String(window.endTime) },
      retrySafe: true,
    });
    return res.body.toString('utf8');
  }

  /**
   * A signed `rtmp://…/live/<channel>` publish URL valid for `expiresInSeconds` (checked by OSS
   * only when the encoder connects). With STS credentials the token is added as `security-token`
   * and the URL stops working when the token expires.
   */
  async signRtmpUrl(channel: string, input: SignRtmpUrlInput): Promise<string> {
    validateChannelName(channel);
    validateExpiresIn(input.expiresInSeconds);
    for (const [name, value] of Object.entries(input.params ?? {})) {
      if (typeof value !== 'string') throw new OssValidationError(`params.${name}`, 'must be a string');
    }
    if (input.params?.playlistName !== undefined)
      validatePlaylistName(input.params.playlistName, 'params.playlistName');
    return this.client.rtmpUrl(this.name, channel, input.expiresInSeconds, input.params);
  }

  // ---- Objects -----------------------------------------------------------------------------

  /** One ListObjectsV2 page; names are requested url-encoded (safe for any key) and decoded. */
  async listObjects(input: ListObjectsInput = {}): Promise<ListObjectsResult> {
    validateListString(input.prefix, 'prefix');
    validateListString(input.delimiter, 'delimiter');
    validateListString(input.startAfter, 'startAfter');
    validateMaxKeys(input.maxKeys);
    const res = await this.client.send({
      operation: 'ListObjectsV2',
      method: 'GET',
      bucket: this.name,
      query: {
        'list-type': '2',
        'encoding-type': 'url',
        ...definedParams({
          prefix: input.prefix,
          delimiter: input.delimiter,
          'start-after': input.startAfter,
          'continuation-token': input.continuationToken,
          'max-keys': input.maxKeys,
        }),
      },
      retrySafe: true,
    });
    return parseBody('ListObjectsV2', res, parseListBucketResult);
  }

  /** Every object under a prefix, in key order, page by page. */
  async *iterateObjects(input: IterateObjectsInput = {}): AsyncIterable<ObjectSummary> {
    validateMaxKeys(input.pageSize, 'pageSize');
    let continuationToken: string | undefined;
    for (;;) {
      const page = await this.listObjects({
        prefix: input.prefix,
        startAfter: input.startAfter,
        continuationToken,
        maxKeys: input.pageSize,
      });
      yield* page.objects;
      if (!page.isTruncated) return;
      continuationToken = page.nextContinuationToken;
    }
  }

  async headObject(key: string): Promise<ObjectMeta> {
    validateObjectKey(key);
    const res = await this.client.send({
      operation: 'HeadObject',
      method: 'HEAD',
      bucket: this.name,
      key,
      retrySafe: true,
    });
    return objectMeta(res.headers, res.requestId);
  }

  async getObject(key: string, input: GetObjectInput = {}): Promise<GetObjectResult> {
    validateObjectKey(key);
    const headers: Record<string, string> = {};
    if (input.range) {
      const { start, end } = input.range;
      if (!Number.isInteger(start) || start < 0) throw new OssValidationError('range.start', 'must be an integer >= 0');
      if (end !== undefined && (!Number.isInteger(end) || end < start))
        throw new OssValidationError('range.end', 'must be an integer >= range.start');
      headers['range'] = `bytes=${start}-${end ?? ''}`;
    }
    const res = await this.client.send({
      operation: 'GetObject',
      method: 'GET',
      bucket: this.name,
      key,
      headers,
      retrySafe: true,
    });
    const result: GetObjectResult = { ...objectMeta(res.headers, res.requestId), body: res.body, status: res.status };
    if (res.headers['content-range'] !== undefined) result.contentRange = res.headers['content-range'];
    return result;
  }

  async putObject(key: string, body: Buffer | string, input: PutObjectInput = {}): Promise<{ etag: string }> {
    validateObjectKey(key);
    validateMeta(input.meta);
    const headers: Record<string, string> = {};
    if (input.contentType !== undefined) headers['content-type'] = input.contentType;
    if (input.forbidOverwrite) headers['x-oss-forbid-overwrite'] = 'true';
    for (const [name, value] of Object.entries(input.meta ?? {})) headers[`x-oss-meta-${name.toLowerCase()}`] = value;
    const res = await this.client.send({
      operation: 'PutObject',
      method: 'PUT',
      bucket: this.name,
      key,
      headers,
      body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      // A repeat after a lost success would fail with 409 FileAlreadyExists: not retried.
      retrySafe: !input.forbidOverwrite,
    });
    return { etag: stripQuotes(res.headers['etag'] ?? '') };
  }

  /** Succeeds for a missing key too (OSS answers 204 either way). */
  async deleteObject(key: string): Promise<void> {
    validateObjectKey(key);
    await this.client.send({ operation: 'DeleteObject', method: 'DELETE', bucket: this.name, key, retrySafe: true });
  }

  /**
   * Deletes keys in batches of ≤ 1000. Quiet mode asks OSS to list only failures; either way the
   * result names every deleted key and every per-key error.
   */
  async deleteObjects(keys: readonly string[], input: { quiet?: boolean } = {}): Promise<DeleteObjectsResult> {
    keys.forEach((key, i) => validateObjectKey(key, `keys[${i}]`));
    const quiet = input.quiet ?? true;
    const result: DeleteObjectsResult = { deleted: [], errors: [] };
    for (let i = 0; i < keys.length; i += DELETE_BATCH_SIZE) {
      const batch = keys.slice(i, i + DELETE_BATCH_SIZE);
      const res = await this.client.send({
        operation: 'DeleteMultipleObjects',
        method: 'POST',
        bucket: this.name,
        query: { delete: '', 'encoding-type': 'url' },
        headers: { 'content-type': XML_CONTENT_TYPE },
        body: Buffer.from(buildDeleteRequest(batch, quiet), 'utf8'),
        // Deleting the same keys again has the same outcome.
        retrySafe: true,
        subject: batch[0],
      });
      // Quiet and all succeeded: empty body.
      const page = res.body.length
        ? parseBody('DeleteMultipleObjects', res, parseDeleteResult)
        : { deleted: [], errors: [] };
      result.errors.push(...page.errors);
      if (quiet) {
        const failed = new Set(page.errors.map((e) => e.key));
        result.deleted.push(...batch.filter((k) => !failed.has(k)));
      } else {
        result.deleted.push(...page.deleted);
      }
    }
    return result;
  }

  /** A presigned URL for `method` on `key` (V4 by default: at most 7 days). */
  async presignUrl(method: PresignMethod, key: string, input: { expiresInSeconds: number }): Promise<string> {
    if (!['GET', 'PUT', 'HEAD', 'DELETE'].includes(method))
      throw new OssValidationError('method', `must be GET, PUT, HEAD or DELETE, got ${JSON.stringify(method)}`);
    validateObjectKey(key);
    validateExpiresIn(input.expiresInSeconds);
    return this.client.presign(method, this.name, key, input.expiresInSeconds);
  }
}
