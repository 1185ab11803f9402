/**
 * Endpoint handling: `oss-cn-hangzhou.aliyuncs.com`, `https://oss-cn-hangzhou-internal.aliyuncs.com`
 * or the emulator's `http://127.0.0.1:9000`; virtual-hosted (`<bucket>.<host>`) or path style
 * (`<host>/<bucket>`) addressing.
 */
import { OssValidationError } from './errors';

export interface Endpoint {
  protocol: 'http:' | 'https:';
  /** hostname[:port] */
  host: string;
  hostname: string;
  /** Region derived from a standard OSS host, if it is one. */
  region?: string;
}

/** Where one bucket's requests go. */
export interface BucketAddress {
  /** `https://bucket.host` or `http://host:port`. */
  origin: string;
  /** '' (virtual-hosted) or `/<bucket>` (path style), put before `/<key>`. */
  pathPrefix: string;
}

/**
 * `oss-<region>[-internal].aliyuncs.com` → region; `oss[-internal].aliyuncs.com` is Hangzhou
 * (reference §15.4). Accelerate and other hosts carry no region.
 */
export function regionFromHost(hostname: string): string | undefined {
  if (hostname === 'oss.aliyuncs.com' || hostname === 'oss-internal.aliyuncs.com') return 'cn-hangzhou';
  const m = /^oss-([a-z0-9-]+?)(-internal)?\.aliyuncs\.com$/.exec(hostname);
  if (!m || m[1] === 'accelerate' || m[1] === 'accelerate-overseas') return undefined;
  return m[1];
}

export function parseEndpoint(endpoint: string): Endpoint {
  if (typeof endpoint !== 'string' || !endpoint.trim())
    throw new OssValidationError('endpoint', 'must be a non-empty string');
  const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new OssValidationError('endpoint', `${JSON.stringify(endpoint)} is not a host or URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OssValidationError('endpoint', `scheme must be http or https, got ${url.protocol}`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username)
    throw new OssValidationError('endpoint', 'must be a scheme and host[:port] only');
  const region = regionFromHost(url.hostname);
  return { protocol: url.protocol, host: url.host, hostname: url.hostname, ...(region ? { region } : {}) };
}

export function bucketAddress(endpoint: Endpoint, bucket: string, pathStyle: boolean): BucketAddress {
  return pathStyle
    ? { origin: `${endpoint.protocol}//${endpoint.host}`, pathPrefix: `/${bucket}` }
    : { origin: `${endpoint.protocol}//${bucket}.${endpoint.host}`, pathPrefix: '' };
}

/**
 * `rtmp://host[:port]` given as the client's `rtmpEndpoint`: the origin of every publish URL
 * instead of `rtmp://<bucket>.<host>`. The local emulator's RTMP port is reached so (its IP
 * host names its first bucket, docs/emulator.md); the host is not part of the signature.
 */
export function parseRtmpEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OssValidationError('rtmpEndpoint', `${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'rtmp:' || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw new OssValidationError('rtmpEndpoint', 'must be rtmp://host[:port] only');
  }
  return `rtmp://${url.host}`;
}

/**
 * Everything before `/live/<channel>` of an RTMP publish URL: `rtmp://<bucket>.<host>`, always
 * virtual-hosted (the bucket is read from the host). For OSS hosts the public host is used:
 * encoders usually run outside Alibaba Cloud and whether ingest is reachable on an `-internal`
 * host is UNCONFIRMED (reference §15.4); RTMP has its own port (1935), so an HTTP port is
 * dropped. Other hosts (the local emulator) keep host:port, matching the emulator's PublishUrl.
 */
export function rtmpOrigin(endpoint: Endpoint, bucket: string): string {
  if (endpoint.hostname.endsWith('.aliyuncs.com'))
    return `rtmp://${bucket}.${endpoint.hostname.replace(/-internal(\.aliyuncs\.com)$/, '$1')}`;
  return `rtmp://${bucket}.${endpoint.host}`;
}
