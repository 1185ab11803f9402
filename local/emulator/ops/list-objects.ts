import { uriEncode } from '../signature';
import { errors } from '../errors';
import type { EmuContext, EmuRequest, ObjectRecord, Operation } from '../types';
import { leaf, node, xmlDocument } from '../xml';
import { hasOnlySubResources, isoDate, xmlResponse } from './common';

/** Owner reported in listings; the emulator has one (fictitious) account. */
const OWNER = { id: '1000000000000000', displayName: '1000000000000000' };
const MAX_PARAM_BYTES = 1023;

/** Where a page resumes: after a key, or after every key under a CommonPrefix. */
type Resume = { key: string } | { commonPrefix: string };

interface Page {
  contents: ObjectRecord[];
  commonPrefixes: string[];
  truncated: boolean;
  resume?: Resume;
}

/**
 * Walks the sorted index in batches; each CommonPrefix is rolled up by jumping past its keys
 * (one index search), so a delimiter listing over a million keys touches only what it returns.
 */
async function listPage(
  ctx: EmuContext,
  bucket: string,
  opts: { prefix: string; delimiter: string; startAfter?: string; startAfterPrefix?: string; maxKeys: number },
): Promise<Page> {
  const { prefix, delimiter, maxKeys } = opts;
  const contents: ObjectRecord[] = [];
  const commonPrefixes: string[] = [];
  let cursor: { startAfter?: string; startAfterPrefix?: string } = {
    startAfter: opts.startAfter,
    startAfterPrefix: opts.startAfterPrefix,
  };
  let resume: Resume | undefined;
  const count = () => contents.length + commonPrefixes.length;
  scan: while (count() < maxKeys) {
    const limit = Math.min(1000, maxKeys - count());
    const batch = await ctx.objects.list(bucket, { prefix, ...cursor, limit });
    for (const record of batch) {
      const at = delimiter ? record.key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const commonPrefix = record.key.slice(0, at + delimiter.length);
        commonPrefixes.push(commonPrefix);
        resume = { commonPrefix };
        cursor = { startAfterPrefix: commonPrefix };
        continue scan;
      }
      contents.push(record);
      resume = { key: record.key };
      cursor = { startAfter: record.key };
    }
    if (batch.length < limit) return { contents, commonPrefixes, truncated: false };
  }
  const more = await ctx.objects.list(bucket, { prefix, ...cursor, limit: 1 });
  return { contents, commonPrefixes, truncated: more.length > 0, resume: more.length > 0 ? resume : undefined };
}

/** Opaque to clients (like OSS's); ours is base64url of a tag and the resume point. */
function encodeToken(resume: Resume): string {
  const raw = 'key' in resume ? `k${resume.key}` : `p${resume.commonPrefix}`;
  return Buffer.from(raw, 'utf8').toString('base64url');
}

function decodeToken(token: string): Resume {
  const raw = Buffer.from(token, 'base64url').toString('utf8');
  if (!token || Buffer.from(raw, 'utf8').toString('base64url') !== token || !/^[kp]/.test(raw)) {
    throw errors.invalidArgument('The continuation token provided is incorrect.', 'continuation-token', token);
  }
  return raw[0] === 'k' ? { key: raw.slice(1) } : { commonPrefix: raw.slice(1) };
}

function stringParam(req: EmuRequest, name: string): string {
  const value = req.query.get(name) ?? '';
  if (Buffer.byteLength(value) > MAX_PARAM_BYTES)
    throw errors.invalidArgument(`Argument ${name} is too long.`, name, value);
  return value;
}

function maxKeysParam(req: EmuRequest): number {
  const raw = req.query.get('max-keys');
  if (raw === undefined || raw === '') return 100;
  const n = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= 1000))
    throw errors.invalidArgument('Argument max-keys must be an integer between 1 and 1000.', 'max-keys', raw);
  return n;
}

function urlEncodingParam(req: EmuRequest): boolean {
  const raw = req.query.get('encoding-type');
  if (raw === undefined) return false;
  if (raw !== 'url') throw errors.invalidArgument('Argument encoding-type must be url.', 'encoding-type', raw);
  return true;
}

/**
 * Resume point for start-after / marker: after that key, and — when the key itself rolls up
 * into a CommonPrefix already returned — after that whole prefix, so it is not returned twice.
 */
function resumeAfterKey(
  key: string,
  prefix: string,
  delimiter: string,
): { startAfter?: string; startAfterPrefix?: string } {
  if (!key) return {};
  const at = delimiter && key.startsWith(prefix) ? key.indexOf(delimiter, prefix.length) : -1;
  return at >= 0 ? { startAfter: key, startAfterPrefix: key.slice(0, at + delimiter.length) } : { startAfter: key };
}

function contentsXml(record: ObjectRecord, encode: (s: string) => string, withOwner: boolean): string {
  return node('Contents', [
    leaf('Key', encode(record.key)),
    leaf('LastModified', isoDate(record.lastModified)),
    leaf('ETag', `"${record.etag}"`),
    leaf('Type', 'Normal'),
    leaf('Size', record.size),
    leaf('StorageClass', 'Standard'),
    withOwner ? node('Owner', [leaf('ID', OWNER.id), leaf('DisplayName', OWNER.displayName)]) : undefined,
  ]);
}

const bucketGet = (req: EmuRequest) => req.method === 'GET' && req.bucket !== '' && req.key === '';

/** GET /?list-type=2 (reference §15.1). */
export const listObjectsV2: Operation = {
  name: 'ListObjectsV2',
  match: (req) => bucketGet(req) && req.query.get('list-type') === '2' && hasOnlySubResources(req),
  async handle(req, ctx) {
    const prefix = stringParam(req, 'prefix');
    const delimiter = stringParam(req, 'delimiter');
    const startAfter = req.query.has('start-after') ? stringParam(req, 'start-after') : undefined;
    const token = req.query.get('continuation-token');
    const maxKeys = maxKeysParam(req);
    const url = urlEncodingParam(req);
    const encode = url ? (s: string) => uriEncode(s) : (s: string) => s;
    const fetchOwner = req.query.get('fetch-owner') === 'true';
    // A continuation token takes precedence over start-after.
    const resumeFrom = token !== undefined ? decodeToken(token) : undefined;
    const cursor = !resumeFrom
      ? resumeAfterKey(startAfter ?? '', prefix, delimiter)
      : 'key' in resumeFrom
        ? resumeAfterKey(resumeFrom.key, prefix, delimiter)
        : { startAfterPrefix: resumeFrom.commonPrefix };
    const page = await listPage(ctx, req.bucket, { prefix, delimiter, maxKeys, ...cursor });
    const xml = node('ListBucketResult', [
      leaf('Name', req.bucket),
      leaf('Prefix', encode(prefix)),
      startAfter !== undefined ? leaf('StartAfter', encode(startAfter)) : undefined,
      token !== undefined ? leaf('ContinuationToken', token) : undefined,
      leaf('MaxKeys', maxKeys),
      delimiter ? leaf('Delimiter', encode(delimiter)) : undefined,
      url ? leaf('EncodingType', 'url') : undefined,
      leaf('IsTruncated', page.truncated),
      page.resume ? leaf('NextContinuationToken', encodeToken(page.resume)) : undefined,
      ...page.contents.map((r) => contentsXml(r, encode, fetchOwner)),
      ...page.commonPrefixes.map((p) => node('CommonPrefixes', [leaf('Prefix', encode(p))])),
      leaf('KeyCount', page.contents.length + page.commonPrefixes.length),
    ]);
    return xmlResponse(200, xmlDocument(xml));
  },
};

/** GET / without list-type: the original ListObjects (GetBucket) with marker paging; ali-oss's list() uses it. */
export const listObjects: Operation = {
  name: 'ListObjects',
  match: (req) => bucketGet(req) && !req.query.has('list-type') && hasOnlySubResources(req),
  async handle(req, ctx) {
    const prefix = stringParam(req, 'prefix');
    const delimiter = stringParam(req, 'delimiter');
    const marker = stringParam(req, 'marker');
    const maxKeys = maxKeysParam(req);
    const url = urlEncodingParam(req);
    const encode = url ? (s: string) => uriEncode(s) : (s: string) => s;
    const page = await listPage(ctx, req.bucket, {
      prefix,
      delimiter,
      maxKeys,
      ...resumeAfterKey(marker, prefix, delimiter),
    });
    const nextMarker = page.resume && ('key' in page.resume ? page.resume.key : page.resume.commonPrefix);
    const xml = node('ListBucketResult', [
      leaf('Name', req.bucket),
      leaf('Prefix', encode(prefix)),
      leaf('Marker', encode(marker)),
      leaf('MaxKeys', maxKeys),
      leaf('Delimiter', encode(delimiter)),
      url ? leaf('EncodingType', 'url') : undefined,
      leaf('IsTruncated', page.truncated),
      nextMarker !== undefined ? leaf('NextMarker', encode(nextMarker)) : undefined,
      ...page.contents.map((r) => contentsXml(r, encode, true)),
      ...page.commonPrefixes.map((p) => node('CommonPrefixes', [leaf('Prefix', encode(p))])),
    ]);
    return xmlResponse(200, xmlDocument(xml));
  },
};
