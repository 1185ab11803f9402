/**
 * The emulator's own signature algorithms, written from the reference (oss-livechannel.md §11,
 * §14) and the OSS V2 signer of the official SDKs — deliberately independent of the client's
 * signer in shared/oss/: a canonicalisation bug there must make the emulator answer 403, as
 * real OSS would, not agree with it. test/emulator/import-guard.test.ts keeps it that way.
 *
 * Canonicalisation per version (V1 HMAC-SHA1, V2 HMAC-SHA256 base64, V4 OSS4-HMAC-SHA256), the
 * RTMP ingest string, RFC 3986 percent-encoding, the V1 sub-resource list, HMACs and the
 * constant-time comparison. Requests are the decoded EmuRequest fields; header names lower-case.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** What a signature covers: decoded key and query, lower-cased header names. */
export interface SignedParts {
  method: string;
  bucket: string;
  key: string;
  query: ReadonlyMap<string, string>;
  headers: Readonly<Record<string, string>>;
}

export const V4_ALGORITHM = 'OSS4-HMAC-SHA256';
export const V2_ALGORITHM = 'OSS2';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const V4_TERMINATOR = 'aliyun_v4_request';

// ---------------------------------------------------------------------------------------------
// Encoding, ordering, HMAC, comparison

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes: only `A-Z a-z 0-9 - . _ ~` stay literal, hex
 * upper-case (§14.3); `/` too when `keepSlash` (the V4 canonical URI). encodeURIComponent
 * leaves `! ' ( ) *` literal, which OSS encodes.
 */
export function uriEncode(value: string, keepSlash = false): string {
  const encoded = encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

/**
 * Byte order of the UTF-8 encodings, which OSS sorts by. UTF-16 order (`<`) agrees except where
 * a surrogate meets U+E000–FFFF, so only such strings are encoded to compare.
 */
function byteOrder(a: string, b: string): number {
  if (/[\uD800-\uFFFF]/.test(a + b)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}

export function hmacSha1Base64(secret: string, data: string): string {
  return createHmac('sha1', secret).update(data, 'utf8').digest('base64');
}

export function hmacSha256Base64(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data, 'utf8').digest('base64');
}

function hmacSha256(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Constant-time comparison, so a verifier does not leak how much of a signature matched. */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// V1: `OSS <ak>:<base64 HMAC-SHA1>` and `?OSSAccessKeyId&Expires&Signature` (§14.1, §14.2)

/**
 * Query keys that enter the V1 canonicalized resource (§14.1: the Go and Python SDK lists);
 * any other query parameter is unsigned in V1. The Go v2 SDK also signs every `x-oss-*` key.
 */
export const V1_SUB_RESOURCES: ReadonlySet<string> = new Set([
  'acl',
  'uploads',
  'location',
  'cors',
  'logging',
  'website',
  'referer',
  'lifecycle',
  'delete',
  'append',
  'tagging',
  'objectMeta',
  'uploadId',
  'partNumber',
  'security-token',
  'position',
  'img',
  'style',
  'styleName',
  'replication',
  'replicationProgress',
  'replicationLocation',
  'cname',
  'bucketInfo',
  'comp',
  'qos',
  'live',
  'status',
  'vod',
  'startTime',
  'endTime',
  'symlink',
  'x-oss-process',
  'response-content-type',
  'response-content-language',
  'response-expires',
  'response-cache-control',
  'response-content-disposition',
  'response-content-encoding',
  'udf',
  'udfName',
  'udfImage',
  'udfId',
  'udfImageDesc',
  'udfApplication',
  'udfApplicationLog',
  'restore',
  'callback',
  'callback-var',
  'qosInfo',
  'policy',
  'stat',
  'encryption',
  'versions',
  'versioning',
  'versionId',
  'requestPayment',
  'sequential',
  'inventory',
  'inventoryId',
  'continuation-token',
  'asyncFetch',
  'worm',
  'wormId',
  'wormExtend',
  'withHashContext',
  'transferAcceleration',
  'regionList',
  'cloudboxes',
  'metaQuery',
  'resourceGroup',
  'rtc',
  'accessMonitor',
  'responseHeader',
]);

function isV1Signed(name: string): boolean {
  return V1_SUB_RESOURCES.has(name) || name.startsWith('x-oss-');
}

/** `name:value\n` for the given header names, sorted, values trimmed. */
function headerLines(headers: Readonly<Record<string, string>>, include: (name: string) => boolean): string {
  return Object.keys(headers)
    .filter(include)
    .sort(byteOrder)
    .map((name) => `${name}:${headers[name]!.trim()}\n`)
    .join('');
}

/** `/<bucket>/<raw key>` (`/` without a bucket) then `?sub&sub=value…` with raw values. */
function v1Resource(req: SignedParts): string {
  const path = req.bucket ? `/${req.bucket}/${req.key}` : '/';
  const subs = [...req.query.keys()].filter(isV1Signed).sort(byteOrder);
  if (!subs.length) return path;
  return `${path}?${subs.map((k) => (req.query.get(k) === '' ? k : `${k}=${req.query.get(k)}`)).join('&')}`;
}

/**
 * VERB, Content-MD5, Content-Type, `dateSlot` (the Date header, or Expires when presigned), x-oss headers, resource.
 */
export function v1StringToSign(req: SignedParts, dateSlot: string): string {
  const h = req.headers;
  const ossHeaders = headerLines(h, (name) => name.startsWith('x-oss-'));
  return `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${dateSlot}\n${ossHeaders}${v1Resource(req)}`;
}

// ---------------------------------------------------------------------------------------------
// V2: `OSS2 AccessKeyId:<ak>,[AdditionalHeaders:<h;h>,]Signature:<base64 HMAC-SHA256>` and
// `?x-oss-signature-version=OSS2&x-oss-expires&x-oss-access-key-id[&x-oss-additional-headers]&x-oss-signature`.
// Facts from the official Java (SignV2Utils) and Python (AuthV2) SDKs: the resource is
// `/<bucket>/<key>` percent-encoded with `/` as %2F, followed by EVERY query parameter (not only
// sub-resources), names and values percent-encoded and sorted by encoded name.

/** `/<bucket>/<key>` (or `/`) encoded, `/` included, then `?k=v&k…` over all of `query`. */
function v2Resource(req: SignedParts, query: ReadonlyMap<string, string>): string {
  const path = uriEncode(req.bucket ? `/${req.bucket}/${req.key}` : '/');
  const params = [...query].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const).sort(([a], [b]) => byteOrder(a, b));
  return params.length ? `${path}?${params.map(([k, v]) => (v === '' ? k : `${k}=${v}`)).join('&')}` : path;
}

/**
 * VERB, Content-MD5, Content-Type, `dateSlot`, then the x-oss headers and the additional headers
 * (sorted `name:value\n`), the additional header names as listed, and the resource. `query` is
 * the request's query less `x-oss-signature` when presigned.
 */
export function v2StringToSign(
  req: SignedParts,
  dateSlot: string,
  additionalHeaders: readonly string[],
  query: ReadonlyMap<string, string>,
): string {
  const h = req.headers;
  const extra = new Set(additionalHeaders);
  const signedHeaders = headerLines(h, (name) => name.startsWith('x-oss-') || extra.has(name));
  return `${req.method}\n${h['content-md5'] ?? ''}\n${h['content-type'] ?? ''}\n${dateSlot}\n${signedHeaders}${additionalHeaders.join(';')}\n${v2Resource(req, query)}`;
}

export interface V2Authorization {
  accessKeyId: string;
  additionalHeaders: string[];
  signature: string;
}

/**
 * `OSS2 AccessKeyId:…, AdditionalHeaders:…, Signature:…` (pairs in any order, spaces tolerated), or an error message.
 */
export function parseV2Authorization(value: string): V2Authorization | string {
  const fields = new Map<string, string>();
  for (const pair of value.slice(V2_ALGORITHM.length).split(',')) {
    const colon = pair.indexOf(':');
    if (colon < 0) return 'OSS2 Authorization has a part that is not Name:value';
    fields.set(pair.slice(0, colon).trim(), pair.slice(colon + 1).trim());
  }
  const accessKeyId = fields.get('AccessKeyId');
  const signature = fields.get('Signature');
  if (!accessKeyId || !signature) return 'OSS2 Authorization needs AccessKeyId and Signature';
  return { accessKeyId, additionalHeaders: splitHeaderList(fields.get('AdditionalHeaders')), signature };
}

/** `a;B` → `[a, b]`: lower-cased, empty names dropped. */
export function splitHeaderList(list: string | undefined): string[] {
  return (list ?? '')
    .split(';')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

// ---------------------------------------------------------------------------------------------
// V4: OSS4-HMAC-SHA256 (§14.3, §14.4)

function isV4DefaultSigned(name: string): boolean {
  return name.startsWith('x-oss-') || name === 'content-type' || name === 'content-md5';
}

/**
 * AdditionalHeaders as they enter the canonical request: lower-case, de-duplicated, sorted,
 * only headers present and not signed by default (`x-oss-no-exist;ZAbc;x-oss-head1;abc` → `abc;zabc`).
 */
function v4AdditionalHeaders(names: readonly string[], headers: Readonly<Record<string, string>>): string[] {
  return [...new Set(names.map((n) => n.toLowerCase()))]
    .filter((n) => !isV4DefaultSigned(n) && n in headers)
    .sort(byteOrder);
}

/** Method, URI, every query parameter encoded and sorted, signed headers, additional names, payload hash. */
export function v4CanonicalRequest(
  req: SignedParts,
  additionalHeaders: readonly string[],
  query: ReadonlyMap<string, string>,
): string {
  const additional = v4AdditionalHeaders(additionalHeaders, req.headers);
  const uri = req.bucket ? `/${uriEncode(req.bucket)}/${uriEncode(req.key, true)}` : '/';
  const params = [...query]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a], [b]) => byteOrder(a, b))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join('&');
  const signedHeaders = headerLines(req.headers, (name) => isV4DefaultSigned(name) || additional.includes(name));
  return `${req.method}\n${uri}\n${params}\n${signedHeaders}\n${additional.join(';')}\n${req.headers['x-oss-content-sha256'] ?? UNSIGNED_PAYLOAD}`;
}

/** `<YYYYMMDD>/<region>/<product>/aliyun_v4_request`. */
export function v4Scope(date8: string, region: string, product: string): string {
  return `${date8}/${region}/${product}/${V4_TERMINATOR}`;
}

export function v4StringToSign(canonicalRequest: string, xOssDate: string, scope: string): string {
  return `${V4_ALGORITHM}\n${xOssDate}\n${scope}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
}

export function v4SigningKey(secret: string, date8: string, region: string, product: string): Buffer {
  return hmacSha256(hmacSha256(hmacSha256(hmacSha256(`aliyun_v4${secret}`, date8), region), product), V4_TERMINATOR);
}

/** Lower-case hex HMAC-SHA256 under a derived signing key. */
export function v4Signature(signingKey: Buffer, stringToSign: string): string {
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

export interface V4Credential {
  accessKeyId: string;
  date8: string;
  region: string;
  product: string;
}

/** `<ak>/<YYYYMMDD>/<region>/<product>/aliyun_v4_request`, or an error message. */
export function parseV4Credential(value: string): V4Credential | string {
  const parts = value.trim().split('/');
  if (parts.length !== 5 || parts[4] !== V4_TERMINATOR)
    return 'Credential must be <AccessKeyId>/<YYYYMMDD>/<region>/<product>/aliyun_v4_request';
  const [accessKeyId = '', date8 = '', region = '', product = ''] = parts;
  if (!accessKeyId || !/^\d{8}$/.test(date8) || !region || !product) {
    return 'Credential has an empty access key id, region or product, or a date that is not YYYYMMDD';
  }
  return { accessKeyId, date8, region, product };
}

export interface V4Authorization extends V4Credential {
  additionalHeaders: string[];
  signature: string;
}

/**
 * `OSS4-HMAC-SHA256 Credential=…,AdditionalHeaders=…,Signature=…`: pairs in any order and
 * whitespace around separators tolerated (SDKs differ, OSS accepts them all; §14.3). Returns an
 * error message when malformed.
 */
export function parseV4Authorization(value: string): V4Authorization | string {
  const fields = new Map<string, string>();
  for (const pair of value.trim().slice(V4_ALGORITHM.length).split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) return 'Authorization has a part that is not name=value';
    const name = pair.slice(0, eq).trim();
    if (fields.has(name)) return `Authorization repeats ${name}`;
    fields.set(name, pair.slice(eq + 1).trim());
  }
  const signature = fields.get('Signature') ?? '';
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'Authorization lacks a 64-hex-digit Signature';
  const credential = parseV4Credential(fields.get('Credential') ?? '');
  if (typeof credential === 'string') return credential;
  return { ...credential, additionalHeaders: splitHeaderList(fields.get('AdditionalHeaders')), signature };
}

/** `YYYYMMDDTHHMMSSZ` → epoch ms, or NaN. */
export function parseV4DateTime(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return NaN;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

// ---------------------------------------------------------------------------------------------
// RTMP ingest URL (§11.2): always HMAC-SHA1

const RTMP_UNSIGNED = new Set(['OSSAccessKeyId', 'Expires', 'Signature']);

/**
 * `Expires\n` + `key:value\n` per parameter in byte order (raw values) + `/<bucket>/<channel>`.
 * UNCONFIRMED (§16 item 4) whether `security-token` is one of the parameters: the doc and the Go
 * SDK leave it out, the Python and Java SDKs put it in — `includeSecurityToken` chooses.
 */
export function rtmpStringToSign(
  expires: string,
  params: ReadonlyMap<string, string>,
  bucket: string,
  channel: string,
  includeSecurityToken: boolean,
): string {
  const lines = [...params.keys()]
    .filter((k) => !RTMP_UNSIGNED.has(k) && (includeSecurityToken || k !== 'security-token'))
    .sort(byteOrder)
    .map((k) => `${k}:${params.get(k)}\n`)
    .join('');
  return `${expires}\n${lines}/${bucket}/${channel}`;
}
