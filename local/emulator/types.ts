/**
 * The emulator's internal seams, Azurite-style: HTTP routing (server.ts) decodes a request into
 * an EmuRequest, authenticates it, then hands it to the first Operation that matches; operations
 * work only through EmuContext (clock, storage, topics) and answer an EmuResponse or throw an
 * OssErrorResponse, which the server renders as OSS's error XML.
 */
import type { ControlledClock } from '../../shared/clock';

export interface EmuRequest {
  method: string;
  /** Bucket addressed (path or virtual-hosted style); '' for service-level requests. */
  bucket: string;
  /** Decoded object key ('' for bucket-level requests). For LiveChannel ops: channel[/playlist]. */
  key: string;
  /** Decoded query parameters; bare flags (`?live`) and empty values (`?live=`) both map to ''. */
  query: Map<string, string>;
  /** Header names lower-cased; repeated headers joined with ','. */
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
  /** The Host header as received; LiveChannel Publish/Play URLs are built from it. */
  host: string;
  /** `ip:port` of the caller. */
  remoteAddr: string;
  /** Who signed the request (undefined when anonymous). */
  principal?: { accessKeyId: string; securityToken?: string };
}

export interface EmuResponse {
  status: number;
  headers?: Record<string, string>;
  body?: Buffer | string;
}

/** An OSS error, rendered as `<Error><Code>…` XML (or `x-oss-err` for HEAD) with this status. */
export class OssErrorResponse extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements after the common ones, e.g. `{ EC: '0044-00000014' }`, `{ Key: 'a.ts' }`. */
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OssErrorResponse';
  }
}

export interface ObjectRecord {
  key: string;
  size: number;
  /** Upper-case hex MD5, without quotes. */
  etag: string;
  /**
   * CRC-64/XZ of the body as a decimal string (`x-oss-hash-crc64ecma`), computed once when stored.
   * Absent only for an object of a data directory written before it was kept whose body is gone.
   */
  crc64?: string;
  lastModified: number;
  contentType: string;
  /** `x-oss-meta-*` headers, names lower-cased without the prefix. */
  meta: Record<string, string>;
}

export interface PutObjectAttributes {
  contentType?: string;
  meta?: Record<string, string>;
  /** `x-oss-forbid-overwrite: true`: fail with 409 FileAlreadyExists if the key exists. */
  forbidOverwrite?: boolean;
}

export interface ListObjectsQuery {
  prefix?: string;
  startAfter?: string;
  /**
   * Only keys after every key that begins with this string (ListObjectsV2 resuming after a
   * CommonPrefix). Added after the first version of this seam; optional, so callers that
   * don't know it are unaffected.
   */
  startAfterPrefix?: string;
  limit: number;
}

/**
 * Objects of one emulator instance (memory or data directory). Listing is in byte order of the
 * UTF-8 key, like OSS, and must stay fast with millions of keys.
 */
export interface ObjectStorage {
  put(bucket: string, key: string, body: Buffer, attrs: PutObjectAttributes, nowMs: number): Promise<ObjectRecord>;
  get(bucket: string, key: string): Promise<{ record: ObjectRecord; body: Buffer } | undefined>;
  head(bucket: string, key: string): Promise<ObjectRecord | undefined>;
  /** true if the key existed. */
  delete(bucket: string, key: string): Promise<boolean>;
  /** Up to `limit` records with key > startAfter (when given) and starting with prefix. */
  list(bucket: string, opts: ListObjectsQuery): Promise<ObjectRecord[]>;
}

/**
 * Small JSON documents the emulator keeps about itself (channels, fragment index, history, STS
 * tokens), persisted beside the objects when a data directory is used.
 */
export interface StateStore {
  get<T>(namespace: string, id: string): Promise<T | undefined>;
  put<T>(namespace: string, id: string, value: T): Promise<void>;
  delete(namespace: string, id: string): Promise<void>;
  /** Every id in a namespace, in byte order. */
  list(namespace: string): Promise<string[]>;
}

/** An MNS-like topic: published messages fan out to every subscriber. */
export interface TopicMessage {
  messageId: string;
  topic: string;
  body: string;
  publishTime: number;
  attributes?: Record<string, string>;
}

export interface TopicHub {
  publish(topic: string, body: string, attributes?: Record<string, string>): Promise<TopicMessage>;
  subscribe(topic: string, deliver: (message: TopicMessage) => Promise<void>): () => void;
}

export interface EmuContext {
  clock: ControlledClock;
  objects: ObjectStorage;
  state: StateStore;
  topics: TopicHub;
  region: string;
  buckets: ReadonlySet<string>;
  /** Secret for an access key id (static keys and live STS credentials), if known and valid. */
  secretFor(accessKeyId: string, securityToken?: string): string | undefined;
}

export interface Operation {
  /** OSS operation name, e.g. 'GetLiveChannelStat'; fault rules and logs key on it. */
  name: string;
  /** Decides from method, key and sub-resources alone; the first match wins. */
  match(req: EmuRequest): boolean;
  handle(req: EmuRequest, ctx: EmuContext): Promise<EmuResponse>;
}

/** One admin call under `/_emulator/` (JSON in, JSON out). Errors: throw AdminError. */
export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below `/_emulator`, e.g. '/ingest/start'. */
  path: string;
  handle(body: unknown, ctx: EmuContext): Promise<unknown>;
}

export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }
}

/** What a running push looks like from outside. */
export interface PushInfo {
  bucket: string;
  channel: string;
  playlistName: string;
  connectedTime: number;
  remoteAddr: string;
  fragmentsWritten: number;
}

export interface IngestControl {
  /** Starts a simulated RTMP push; `signedUrl`, when given, is verified as OSS would. */
  start(opts: {
    bucket: string;
    channel: string;
    signedUrl?: string;
    playlistName?: string;
    remoteAddr?: string;
  }): Promise<PushInfo>;
  /** Ends the push (publisher disconnects), appends the History record; the push it ended, if any. */
  stop(opts: { bucket: string; channel: string }): Promise<PushInfo | undefined>;
  active(): PushInfo[];
}

/**
 * Everything LiveChannel: channel store, the LiveChannel operations, ingest simulation, VOD
 * playlists, snapshots. server.ts mounts its operations and admin routes.
 */
export interface LiveChannelService {
  operations: Operation[];
  adminRoutes: AdminRoute[];
  ingest: IngestControl;
  close(): Promise<void>;
}
