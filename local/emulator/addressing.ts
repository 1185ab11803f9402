import { isIP } from 'node:net';
import { errors } from './errors';
import { OssErrorResponse } from './types';

export interface RequestTarget {
  bucket: string;
  key: string;
  query: Map<string, string>;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
const MAX_KEY_BYTES = 1023;

export function isValidBucketName(name: string): boolean {
  return BUCKET_NAME.test(name);
}

function decode(component: string): string {
  try {
    return decodeURIComponent(component);
  } catch {
    throw errors.invalidUri();
  }
}

/**
 * Query parameters decoded (RFC 3986: `+` is a literal plus — SDKs send a space as %20);
 * a bare flag and an empty value both map to ''; the first of repeated names wins.
 */
export function parseQuery(search: string): Map<string, string> {
  const query = new Map<string, string>();
  for (const part of search.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (!query.has(name)) query.set(name, eq < 0 ? '' : decode(part.slice(eq + 1)));
  }
  return query;
}

/**
 * The bucket named by the Host header, if the request is virtual-hosted: the host is a name (not
 * an IP literal) whose first label is a configured bucket (`livecycle-demo.localhost:9000`), or
 * any `<bucket>.oss-<region>…` / `<bucket>.oss.…` host, which names a bucket even when unknown.
 */
export function virtualHostedBucket(host: string, buckets: ReadonlySet<string>): string | undefined {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  if (isIP(hostname.replace(/^\[|\]$/g, ''))) return undefined;
  const dot = hostname.indexOf('.');
  if (dot <= 0) return undefined;
  const first = hostname.slice(0, dot);
  return buckets.has(first) || /^oss[-.]/.test(hostname.slice(dot + 1)) ? first : undefined;
}

/** Splits a request target into bucket, key and query (path style or virtual-hosted). */
export function resolveTarget(rawUrl: string, host: string, buckets: ReadonlySet<string>): RequestTarget {
  // Absolute-form targets (via a proxy): keep only path and query.
  const target = /^[a-z][a-z0-9+.-]*:\/\//i.test(rawUrl)
    ? rawUrl.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?]*/i, '') || '/'
    : rawUrl;
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = parseQuery(q < 0 ? '' : target.slice(q + 1));
  if (!rawPath.startsWith('/')) throw errors.invalidUri();
  const hosted = virtualHostedBucket(host, buckets);
  if (hosted !== undefined) return { bucket: hosted, key: decode(rawPath.slice(1)), query };
  const slash = rawPath.indexOf('/', 1);
  const bucket = decode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
  const key = slash < 0 ? '' : decode(rawPath.slice(slash + 1));
  return { bucket, key, query };
}

/** Object key rules (reference §1.2): 1–1023 bytes of UTF-8, not starting with `/` or `\`. */
export function checkObjectKey(key: string): void {
  if (key === '') return;
  if (Buffer.byteLength(key) > MAX_KEY_BYTES || key.startsWith('/') || key.startsWith('\\'))
    throw errors.invalidObjectName(key);
}

/** Bucket named by a request: 400 InvalidBucketName if it cannot be a name, 404 if unknown. */
export function checkBucket(bucket: string, buckets: ReadonlySet<string>): void {
  if (bucket === '' || buckets.has(bucket)) return;
  if (!isValidBucketName(bucket))
    throw new OssErrorResponse(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
  throw errors.noSuchBucket(bucket);
}
