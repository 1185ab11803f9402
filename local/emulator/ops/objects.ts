import { errors } from '../errors';
import {
  OssErrorResponse,
  type EmuContext,
  type EmuRequest,
  type EmuResponse,
  type ObjectRecord,
  type Operation,
} from '../types';
import { hasOnlySubResources, httpDate, verifyContentMd5 } from './common';
import { HLS_SIGN, signPlaylist } from './hls-sign';

/**
 * Content-Type when the upload sends none. OSS derives it from the key's extension; this table
 * covers what livecycle stores (HLS, JSON ledger, snapshots). UNCONFIRMED (reference §16.11)
 * for m3u8/ts: application/x-mpegURL matches GetVodPlaylist, video/MP2T is the registered type.
 */
const TYPES_BY_EXTENSION: Record<string, string> = {
  m3u8: 'application/x-mpegURL',
  ts: 'video/MP2T',
  json: 'application/json',
  txt: 'text/plain',
  xml: 'application/xml',
  html: 'text/html',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  mp4: 'video/mp4',
};

function contentTypeFor(req: EmuRequest): string | undefined {
  const sent = req.headers['content-type'];
  if (sent) return sent;
  const dot = req.key.lastIndexOf('.');
  return dot >= 0 ? TYPES_BY_EXTENSION[req.key.slice(dot + 1).toLowerCase()] : undefined;
}

function userMeta(headers: Record<string, string>): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (name.startsWith('x-oss-meta-')) meta[name.slice('x-oss-meta-'.length)] = value;
  return meta;
}

function objectHeaders(record: ObjectRecord): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': record.contentType,
    etag: `"${record.etag}"`,
    'last-modified': httpDate(record.lastModified),
    'accept-ranges': 'bytes',
    'x-oss-object-type': 'Normal',
    'x-oss-storage-class': 'Standard',
  };
  if (record.crc64 !== undefined) headers['x-oss-hash-crc64ecma'] = record.crc64;
  for (const [name, value] of Object.entries(record.meta)) headers[`x-oss-meta-${name}`] = value;
  return headers;
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/**
 * One `bytes=first-last`, `bytes=first-` or `bytes=-suffix` range within the object, or
 * undefined: OSS answers anything else (syntax errors, several ranges, out of bounds) with the
 * whole object and 200 (reference §15.3).
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
  const m = header === undefined ? null : /^\s*bytes=(\d*)-(\d*)\s*$/.exec(header);
  if (!m || size === 0) return undefined;
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || start > end) return undefined;
  return { start, end };
}

/** If-Match / If-None-Match / If-(Un)Modified-Since: 412 PreconditionFailed or 304. */
function checkPreconditions(req: EmuRequest, record: ObjectRecord): EmuResponse | undefined {
  const etag = `"${record.etag}"`;
  const matches = (list: string) =>
    list.split(',').some((t) => t.trim() === '*' || t.trim() === etag || t.trim() === record.etag);
  const seconds = Math.floor(record.lastModified / 1000) * 1000;
  const ifMatch = req.headers['if-match'];
  const ifNoneMatch = req.headers['if-none-match'];
  const ifUnmodified = Date.parse(req.headers['if-unmodified-since'] ?? '');
  const ifModified = Date.parse(req.headers['if-modified-since'] ?? '');
  const failed = () =>
    new OssErrorResponse(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.');
  if (ifMatch !== undefined && !matches(ifMatch)) throw failed();
  if (ifMatch === undefined && Number.isFinite(ifUnmodified) && seconds > ifUnmodified) throw failed();
  if (ifNoneMatch !== undefined && matches(ifNoneMatch)) return { status: 304, headers: { etag } };
  if (ifNoneMatch === undefined && Number.isFinite(ifModified) && seconds <= ifModified)
    return { status: 304, headers: { etag } };
  return undefined;
}

const objectLevel = (method: string, req: EmuRequest) => req.method === method && req.key !== '';

export const putObject: Operation = {
  name: 'PutObject',
  match: (req) => objectLevel('PUT', req) && hasOnlySubResources(req),
  async handle(req, ctx) {
    verifyContentMd5(req, false);
    const record = await ctx.objects.put(
      req.bucket,
      req.key,
      req.body,
      {
        contentType: contentTypeFor(req),
        meta: userMeta(req.headers),
        forbidOverwrite: req.headers['x-oss-forbid-overwrite']?.trim().toLowerCase() === 'true',
      },
      ctx.clock.now(),
    );
    return {
      status: 200,
      headers: {
        etag: `"${record.etag}"`,
        'content-md5': Buffer.from(record.etag, 'hex').toString('base64'),
        'x-oss-hash-crc64ecma': record.crc64!,
      },
    };
  },
};

async function readObject(req: EmuRequest, ctx: EmuContext, withBody: boolean): Promise<EmuResponse> {
  const found: { record: ObjectRecord; body?: Buffer } | undefined = withBody
    ? await ctx.objects.get(req.bucket, req.key)
    : await ctx.objects.head(req.bucket, req.key).then((record) => record && { record });
  if (!found) throw errors.noSuchKey(req.key);
  const { record, body } = found;
  const notModified = checkPreconditions(req, record);
  if (notModified) return notModified;
  const headers = objectHeaders(record);
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = req.query.get(param);
    if (value !== undefined) headers[header] = value;
  }
  const range = parseRange(req.headers['range'], record.size);
  if (!range) {
    headers['content-length'] = String(record.size);
    return { status: 200, headers, body };
  }
  headers['content-range'] = `bytes ${range.start}-${range.end}/${record.size}`;
  headers['content-length'] = String(range.end - range.start + 1);
  return { status: 206, headers, body: body?.subarray(range.start, range.end + 1) };
}

export const getObject: Operation = {
  name: 'GetObject',
  match: (req) => objectLevel('GET', req) && hasOnlySubResources(req),
  async handle(req, ctx) {
    const response = await readObject(req, ctx, true);
    if (req.query.get('x-oss-process') !== HLS_SIGN || response.status !== 200) return response;
    const body = Buffer.from(signPlaylist(String(response.body), req, ctx));
    // The stored object's CRC does not describe the rewritten body (UNCONFIRMED what OSS sends).
    const { 'x-oss-hash-crc64ecma': _stored, ...headers } = response.headers ?? {};
    return { ...response, headers: { ...headers, 'content-length': String(body.length) }, body };
  },
};

export const headObject: Operation = {
  name: 'HeadObject',
  match: (req) => objectLevel('HEAD', req) && hasOnlySubResources(req),
  handle: (req, ctx) => readObject(req, ctx, false),
};

export const deleteObject: Operation = {
  name: 'DeleteObject',
  match: (req) => objectLevel('DELETE', req) && hasOnlySubResources(req),
  async handle(req, ctx) {
    await ctx.objects.delete(req.bucket, req.key);
    return { status: 204 };
  },
};
