/** Inputs and results of the OSS client. Times are epoch milliseconds unless a field says otherwise. */

export type LiveChannelStatus = 'enabled' | 'disabled';

export interface LiveChannelTarget {
  type: 'HLS';
  /** Seconds per fragment, 1–100. */
  fragDuration: number;
  /** Fragments listed in the live playlist, 1–100. */
  fragCount: number;
  playlistName: string;
}

export interface LiveChannelSnapshot {
  roleName: string;
  destBucket: string;
  notifyTopic: string;
  /** Seconds, 1–100. */
  interval: number;
}

/** A channel's configuration as GetLiveChannelInfo returns it (defaults filled in). */
export interface LiveChannelConfig {
  description: string;
  status: LiveChannelStatus;
  target: LiveChannelTarget;
  snapshot?: LiveChannelSnapshot;
}

/** PutLiveChannel input; omitted fields take OSS defaults (enabled, 5 s × 3, playlist.m3u8). */
export interface PutLiveChannelInput {
  description?: string;
  status?: LiveChannelStatus;
  /** fragDuration and fragCount: both or neither. */
  target?: { fragDuration?: number; fragCount?: number; playlistName?: string };
  snapshot?: LiveChannelSnapshot;
}

export interface PutLiveChannelResult {
  publishUrls: string[];
  playUrls: string[];
}

export interface LiveChannelSummary {
  name: string;
  description: string;
  /** The configured status (not the push state). */
  status: LiveChannelStatus;
  lastModified: number;
  publishUrls: string[];
  playUrls: string[];
}

export interface ListLiveChannelsInput {
  prefix?: string;
  /** Exclusive: names strictly greater than this. */
  marker?: string;
  /** 1–1000; OSS default 100. */
  maxKeys?: number;
}

export interface ListLiveChannelsResult {
  channels: LiveChannelSummary[];
  isTruncated: boolean;
  /** Present only when isTruncated (a missing and an empty NextMarker are treated alike). */
  nextMarker?: string;
}

export interface LiveChannelVideo {
  width: number;
  height: number;
  frameRate: number;
  /** Recent average; unit UNCONFIRMED (B/s per the CN doc and Go SDK, bit/s per the EN doc). */
  bandwidth: number;
  codec: string;
}

export interface LiveChannelAudio {
  bandwidth: number;
  sampleRate: number;
  codec: string;
}

export interface LiveChannelStat {
  status: 'Idle' | 'Live' | 'Disabled';
  connectedTime?: number;
  /** `ip:port` of the publisher. */
  remoteAddr?: string;
  video?: LiveChannelVideo;
  audio?: LiveChannelAudio;
}

export interface LiveRecord {
  startTime: number;
  endTime: number;
  remoteAddr: string;
}

/** A VOD time range in Unix SECONDS, as PostVodPlaylist/GetVodPlaylist define it. */
export interface VodWindow {
  startTime: number;
  endTime: number;
}

export interface SignRtmpUrlInput {
  expiresInSeconds: number;
  /** Ingest parameters, e.g. `{ playlistName: 'session-1.m3u8' }`; all are signed. */
  params?: Record<string, string>;
}

export interface ObjectSummary {
  key: string;
  lastModified: number;
  /** Without quotes. */
  etag: string;
  size: number;
  storageClass?: string;
  type?: string;
}

export interface ListObjectsInput {
  prefix?: string;
  delimiter?: string;
  startAfter?: string;
  continuationToken?: string;
  /** 1–1000; OSS default 100. */
  maxKeys?: number;
}

export interface ListObjectsResult {
  objects: ObjectSummary[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
  keyCount: number;
}

export interface IterateObjectsInput {
  prefix?: string;
  startAfter?: string;
  /** Keys per ListObjectsV2 request (1–1000). */
  pageSize?: number;
}

export interface ObjectMeta {
  contentType?: string;
  contentLength: number;
  /** Without quotes. */
  etag: string;
  lastModified: number;
  /** `x-oss-meta-*` headers, names lower-cased without the prefix. */
  meta: Record<string, string>;
  objectType?: string;
  storageClass?: string;
  requestId?: string;
}

export interface GetObjectInput {
  /** Inclusive byte range; `end` omitted = to the end. OSS answers 206 for a valid range. */
  range?: { start: number; end?: number };
}

export interface GetObjectResult extends ObjectMeta {
  body: Buffer;
  /** 206 when a range was honoured, else 200 (OSS ignores an unsatisfiable range). */
  status: number;
  contentRange?: string;
}

export interface PutObjectInput {
  contentType?: string;
  /** Fail with 409 FileAlreadyExists instead of replacing an existing object. */
  forbidOverwrite?: boolean;
  /** Sent as `x-oss-meta-<name>`. */
  meta?: Record<string, string>;
}

export interface DeleteObjectsResult {
  deleted: string[];
  errors: { key: string; code: string; message: string }[];
}

export type PresignMethod = 'GET' | 'PUT' | 'HEAD' | 'DELETE';

/** A request OSS answered 2xx, as `OssClientOptions.onRequest` reports it. */
export interface OssRequestInfo {
  bucket: string;
  /** The OSS operation, e.g. `GetLiveChannelStat`, `ListObjects`. */
  operation: string;
  /** The object key or LiveChannel addressed, a listing's prefix, or a delete batch's first key. */
  subject?: string;
}
