import { ApiError } from './errors';

/** Request bodies above this are refused with 413; no livecycle request needs more than a few hundred bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** An FC 3.0 HTTP trigger event, decoded and checked. */
export interface HttpRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The path with each segment percent-decoded once; `'/' + segments.join('/')`. Signed and logged. */
  path: string;
  /**
   * The path segments, each percent-decoded once. A segment can contain `/` when the caller sent
   * `%2F`; the router refuses that in parameters rather than letting it split a name.
   */
  segments: string[];
  /** Query parameters as FC delivers them (a repeated parameter arrives comma-joined). */
  query: Record<string, string>;
  /** Header names lower-cased; names that differed only in case are comma-joined. */
  headers: Record<string, string>;
  body: Buffer;
  sourceIp: string;
  /** The HTTP trigger's request id (may be empty; prefer the invocation context's). */
  requestId: string;
}

/** What an FC HTTP trigger handler returns. */
export interface FcHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** True for a binary body (the console's media files), base64 encoded. */
  isBase64Encoded: boolean;
  body: string;
}

export interface DecodeOptions {
  maxBodyBytes?: number;
}

const METHOD = /^[A-Z]{1,16}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function badEvent(message: string, field?: string): ApiError {
  return new ApiError(400, 'bad_event', message, field);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, field: string, lowerCaseKeys: boolean): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw badEvent(`${field} must be an object of strings`, field);
  // A null-prototype map: a header or parameter named `__proto__` is just a name.
  const out: Record<string, string> = Object.create(null);
  for (const [rawKey, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badEvent(`${field} must be an object of strings`, field);
    const key = lowerCaseKeys ? rawKey.toLowerCase() : rawKey;
    const prior = out[key];
    out[key] = prior === undefined ? v : `${prior},${v}`;
  }
  return out;
}

/**
 * Splits the wire path into segments and percent-decodes each once. `rawPath` is what FC
 * documents as still URL-encoded, so decoding per segment keeps `%2F` distinguishable from `/`;
 * `requestContext.http.path` (already decoded) is only the fallback when `rawPath` is absent.
 */
function pathSegments(rawPath: string, alreadyDecoded: boolean): string[] {
  const withoutQuery = rawPath.split('?', 1)[0] ?? '';
  if (!withoutQuery.startsWith('/')) throw badEvent('path must start with /', 'rawPath');
  const parts = withoutQuery.slice(1).split('/');
  if (alreadyDecoded) return parts;
  return parts.map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new ApiError(400, 'invalid_path', 'path contains malformed percent-encoding', 'path');
    }
  });
}

function bodyBuffer(body: unknown, isBase64Encoded: unknown, maxBodyBytes: number): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body !== 'string') throw badEvent('body must be a string', 'body');
  const tooLarge = () => new ApiError(413, 'payload_too_large', `request body exceeds ${maxBodyBytes} bytes`, 'body');
  if (isBase64Encoded === true) {
    // Checked before decoding so an oversized body is never materialised.
    if (Math.floor((body.length * 3) / 4) > maxBodyBytes + 2) throw tooLarge();
    if (!BASE64.test(body) || body.length % 4 !== 0) throw badEvent('body is not valid base64', 'body');
    const decoded = Buffer.from(body, 'base64');
    if (decoded.length > maxBodyBytes) throw tooLarge();
    return decoded;
  }
  if (isBase64Encoded !== undefined && isBase64Encoded !== false)
    throw badEvent('isBase64Encoded must be a boolean', 'isBase64Encoded');
  if (body.length > maxBodyBytes) throw tooLarge();
  const decoded = Buffer.from(body, 'utf8');
  if (decoded.length > maxBodyBytes) throw tooLarge();
  return decoded;
}

/**
 * Decodes the Buffer FC hands an HTTP-triggered function (see function-compute.md §2.3).
 * Throws ApiError: 400 `bad_event` / `invalid_path` for a malformed event, 413 for a big body.
 */
export function decodeHttpEvent(event: Buffer, options: DecodeOptions = {}): HttpRequest {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  let parsed: unknown;
  try {
    parsed = JSON.parse(event.toString('utf8'));
  } catch {
    throw badEvent('event is not JSON');
  }
  if (!isRecord(parsed)) throw badEvent('event must be a JSON object');
  const requestContext = isRecord(parsed.requestContext) ? parsed.requestContext : {};
  const http = isRecord(requestContext.http) ? requestContext.http : {};

  const method = http.method;
  if (typeof method !== 'string' || !METHOD.test(method.toUpperCase()))
    throw badEvent('requestContext.http.method is missing or invalid', 'method');

  let segments: string[];
  if (typeof parsed.rawPath === 'string') segments = pathSegments(parsed.rawPath, false);
  else if (typeof http.path === 'string') segments = pathSegments(http.path, true);
  else throw badEvent('rawPath is missing', 'rawPath');

  return {
    method: method.toUpperCase(),
    path: '/' + segments.join('/'),
    segments,
    query: stringMap(parsed.queryParameters, 'queryParameters', false),
    headers: stringMap(parsed.headers, 'headers', true),
    body: bodyBuffer(parsed.body, parsed.isBase64Encoded, maxBodyBytes),
    sourceIp: typeof http.sourceIp === 'string' ? http.sourceIp : '',
    requestId: typeof requestContext.requestId === 'string' ? requestContext.requestId : '',
  };
}
