/**
 * OSS request signing: V1 (HMAC-SHA1), V4 (OSS4-HMAC-SHA256), presigned URLs and the RTMP ingest
 * URL signature. Pure functions over a decoded request description, so the client uses them to
 * sign and the emulator uses the very same functions to recompute and verify what it received.
 * Algorithms and vectors: reference oss-livechannel.md §11 and §14.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  /** STS token; signed as `x-oss-security-token` (headers) or a query parameter (URLs). */
  securityToken?: string;
}

/** Decoded query parameters; '' is a bare flag (`?live`). */
export type QueryParams = Record<string, string> | ReadonlyMap<string, string>;

/** A request as the signer sees it: everything decoded (raw key, raw query values). */
export interface SignableRequest {
  method: string;
  /** '' or absent for service-level requests. */
  bucket?: string;
  /** Raw object key ('' or absent for bucket-level requests). */
  key?: string;
  query?: QueryParams;
  /** Header names in any case. */
  headers?: Record<string, string>;
}

export const V4_ALGORITHM = 'OSS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const V4_TERMINATOR = 'aliyun_v4_request';

// ---------------------------------------------------------------------------------------------
// Shared helpers

function queryEntries(query: QueryParams | undefined): [string, string][] {
  if (!query) return [];
  return query instanceof Map ? [...query.entries()] : Object.entries(query as Record<string, string>);
}

/** Header names lower-cased; values of names that collide after lower-casing joined with ','. */
export function lowerCaseHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    out[lower] = lower in out ? `${out[lower]},${value}` : value;
  }
  return out;
}

/** Code units from U+D800 up: where UTF-16 order (`<`) and UTF-8 byte order can disagree. */
const HIGH_CODE_UNIT = /[\uD800-\uFFFF]/;

/**
 * UTF-8 byte order. UTF-16 code-unit order is the same except where a surrogate (U+D800–DFFF)
 * meets U+E000–FFFF, so only strings holding such code units pay for encoding (header names,
 * being ASCII, never do).
 */
function byteOrder(a: string, b: string): number {
  if (HIGH_CODE_UNIT.test(a) || HIGH_CODE_UNIT.test(b))
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * RFC 3986 percent-encoding of the UTF-8 bytes: only `A-Z a-z 0-9 - . _ ~` stay literal
 * (encodeURIComponent alone leaves `! ' ( ) *`, which OSS V4 requires encoded).
 */
export function ossPercentEncode(value: string, keepSlash = false): string {
  const encoded = encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return keepSlash ? encoded.replace(/%2F/g, '/') : encoded;
}

/** `name=value&…` sorted by encoded name, bare names for empty values: V4 canonical form and our wire form. */
export function encodeQuery(query: QueryParams | undefined): string {
  return queryEntries(query)
    .map(([k, v]) => [ossPercentEncode(k), ossPercentEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join('&');
}

/** Path of a request target: `/<bucket>/<key>` (path style) or `/<key>`, percent-encoded, `/` kept. */
export function encodeKeyPath(key: string): string {
  return ossPercentEncode(key, true);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function hmacSha1Base64(secret: string, data: string): string {
  return createHmac('sha1', secret).update(data, 'utf8').digest('base64');
}

/** Constant-time comparison of two signatures (verifiers must not leak how much matched). */
export function signaturesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(received, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** RFC 1123 date for the `Date` header and the V1 string to sign. */
export function httpDate(nowMs: number): string {
  return requestDates(nowMs).http;
}

/** `YYYYMMDDTHHMMSSZ` for `x-oss-date` (V4). */
export function v4DateTime(nowMs: number): string {
  return requestDates(nowMs).v4;
}

/** Both request date formats of the last second signed: requests within one second reuse them. */
let lastDates = { second: NaN, http: '', v4: '' };

function requestDates(nowMs: number): { http: string; v4: string } {
  const second = Math.floor(nowMs / 1000);
  if (second !== lastDates.second) {
    const date = new Date(second * 1000);
    lastDates = {
      second,
      http: date.toUTCString(),
      v4: date
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}/, ''),
    };
  }
  return lastDates;
}

// ---------------------------------------------------------------------------------------------
// V1: Authorization: OSS <ak>:<base64 HMAC-SHA1>

/**
 * Query keys that are V1 sub-resources (enter the canonicalized resource); all other query
 * parameters (prefix, marker, max-keys, list-type, …) are ignored by the V1 signature.
 * Union of the Go v1 and Python SDK lists; Go v2 additionally treats every `x-oss-*` key as one.
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

function isV1SubResource(key: string): boolean {
  return V1_SUB_RESOURCES.has(key) || key.startsWith('x-oss-');
}

/** `/<bucket>/<raw key>[?sub&sub=value…]`, `/<bucket>/` for bucket-level, `/` with no bucket. */
export function v1CanonicalizedResource(req: Pick<SignableRequest, 'bucket' | 'key' | 'query'>): string {
  const path = req.bucket ? `/${req.bucket}/${req.key ?? ''}` : '/';
  const subs = queryEntries(req.query)
    .filter(([k]) => isV1SubResource(k))
    .sort(([a], [b]) => byteOrder(a, b))
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`));
  return subs.length ? `${path}?${subs.join('&')}` : path;
}

function v1CanonicalizedOssHeaders(headers: Record<string, string>): string {
  return Object.entries(headers)
    .filter(([name]) => name.startsWith('x-oss-'))
    .sort(([a], [b]) => byteOrder(a, b))
    .map(([name, value]) => `${name}:${value.trim()}\n`)
    .join('');
}

/**
 * VERB, Content-MD5, Content-Type, Date, x-oss headers, resource. `dateOrExpires` fills the date
 * slot: the `Date` header for header auth (taken from the headers when omitted), `Expires` for
 * presigned URLs.
 */
export function v1StringToSign(req: SignableRequest, dateOrExpires?: string): string {
  const headers = lowerCaseHeaders(req.headers);
  return [
    req.method.toUpperCase(),
    headers['content-md5'] ?? '',
    headers['content-type'] ?? '',
    dateOrExpires ?? headers['date'] ?? '',
    v1CanonicalizedOssHeaders(headers) + v1CanonicalizedResource(req),
  ].join('\n');
}

export function v1Signature(accessKeySecret: string, stringToSign: string): string {
  return hmacSha1Base64(accessKeySecret, stringToSign);
}

/**
 * Headers to send for a V1-signed request: the request's own headers (lower-cased) plus `date`,
 * `x-oss-security-token` (STS) and `authorization`.
 */
export function signRequestV1(
  req: SignableRequest,
  credentials: SigningCredentials,
  nowMs: number,
): Record<string, string> {
  const headers = lowerCaseHeaders(req.headers);
  headers['date'] = httpDate(nowMs);
  if (credentials.securityToken) headers['x-oss-security-token'] = credentials.securityToken;
  const signature = v1Signature(credentials.accessKeySecret, v1StringToSign({ ...req, headers }));
  headers['authorization'] = `OSS ${credentials.accessKeyId}:${signature}`;
  return headers;
}

/**
 * Query of a V1 presigned URL: the request's query plus `OSSAccessKeyId`, `Expires` (absolute
 * Unix seconds), `Signature` and, for STS, `security-token` (a sub-resource, hence signed).
 */
export function presignV1(
  req: SignableRequest,
  credentials: SigningCredentials,
  expiresUnix: number,
): Record<string, string> {
  const query: Record<string, string> = Object.fromEntries(queryEntries(req.query));
  if (credentials.securityToken) query['security-token'] = credentials.securityToken;
  const stringToSign = v1StringToSign({ ...req, query }, String(expiresUnix));
  query['OSSAccessKeyId'] = credentials.accessKeyId;
  query['Expires'] = String(expiresUnix);
  query['Signature'] = v1Signature(credentials.accessKeySecret, stringToSign);
  return query;
}

// ---------------------------------------------------------------------------------------------
// V4: Authorization: OSS4-HMAC-SHA256 Credential=…,[AdditionalHeaders=…,]Signature=…

function isV4DefaultSigned(lowerName: string): boolean {
  return lowerName.startsWith('x-oss-') || lowerName === 'content-type' || lowerName === 'content-md5';
}

/**
 * AdditionalHeaders as signed: lower-cased, sorted, de-duplicated, only headers the request
 * carries and that are not signed by default (`[x-oss-no-exist, ZAbc, x-oss-head1, abc]` →
 * `[abc, zabc]`).
 */
export function v4AdditionalHeaders(
  names: readonly string[] | undefined,
  headers: Record<string, string> | undefined,
): string[] {
  return additionalOf(names, lowerCaseHeaders(headers));
}

/** v4AdditionalHeaders over headers already lower-cased. */
function additionalOf(names: readonly string[] | undefined, lowerHeaders: Record<string, string>): string[] {
  if (!names?.length) return [];
  const kept = new Set<string>();
  for (const name of names) {
    const lower = name.trim().toLowerCase();
    if (lower && !isV4DefaultSigned(lower) && lower in lowerHeaders) kept.add(lower);
  }
  return [...kept].sort(byteOrder);
}

/** `/<bucket>/<key>` percent-encoded with `/` kept; `/<bucket>/` bucket-level; `/` service-level. */
export function v4CanonicalUri(bucket: string | undefined, key: string | undefined): string {
  return bucket ? `/${ossPercentEncode(bucket)}/${ossPercentEncode(key ?? '', true)}` : '/';
}

/**
 * The six-part canonical request. `additionalHeaders` as given by the signer (normalised here);
 * the hashed payload is the `x-oss-content-sha256` header, `UNSIGNED-PAYLOAD` when absent
 * (presigned URLs).
 */
export function v4CanonicalRequest(req: SignableRequest, additionalHeaders?: readonly string[]): string {
  const headers = lowerCaseHeaders(req.headers);
  return canonicalRequestOf(req, headers, additionalOf(additionalHeaders, headers));
}

/** v4CanonicalRequest over lower-cased headers and an AdditionalHeaders list already normalised. */
function canonicalRequestOf(
  req: SignableRequest,
  lowerHeaders: Record<string, string>,
  additional: readonly string[],
): string {
  const names = Object.keys(lowerHeaders)
    .filter((name) => isV4DefaultSigned(name) || additional.includes(name))
    .sort(byteOrder);
  let signed = '';
  for (const name of names) signed += `${name}:${lowerHeaders[name]!.trim()}\n`;
  return `${req.method.toUpperCase()}\n${v4CanonicalUri(req.bucket, req.key)}\n${encodeQuery(req.query)}\n${signed}\n${additional.join(';')}\n${
    lowerHeaders['x-oss-content-sha256'] ?? UNSIGNED_PAYLOAD
  }`;
}

/** `<YYYYMMDD>/<region>/<product>/aliyun_v4_request`. */
export function v4Scope(date8: string, region: string, product = 'oss'): string {
  return `${date8}/${region}/${product}/${V4_TERMINATOR}`;
}

/** `xOssDate` is `YYYYMMDDTHHMMSSZ`; the scope date is its first 8 characters. */
export function v4StringToSign(canonicalRequest: string, xOssDate: string, region: string, product = 'oss'): string {
  const hash = createHash('sha256').update(canonicalRequest, 'utf8').digest('hex');
  return `${V4_ALGORITHM}\n${xOssDate}\n${v4Scope(xOssDate.slice(0, 8), region, product)}\n${hash}`;
}

export function v4SigningKey(accessKeySecret: string, date8: string, region: string, product = 'oss'): Buffer {
  const kDate = hmac(`aliyun_v4${accessKeySecret}`, date8);
  const kRegion = hmac(kDate, region);
  const kProduct = hmac(kRegion, product);
  return hmac(kProduct, V4_TERMINATOR);
}

/**
 * Derived signing keys, as the AWS SDKs keep them: the key changes only with the secret, the
 * day, the region and the product, so the four HMACs deriving it run once a day per credential
 * instead of on every request. Small and cleared when full (STS secrets rotate).
 */
const signingKeys = new Map<string, Buffer>();
const SIGNING_KEY_CACHE_SIZE = 16;

function cachedSigningKey(accessKeySecret: string, date8: string, region: string, product: string): Buffer {
  const id = `${date8}\n${region}\n${product}\n${accessKeySecret}`;
  let key = signingKeys.get(id);
  if (!key) {
    if (signingKeys.size >= SIGNING_KEY_CACHE_SIZE) signingKeys.clear();
    key = v4SigningKey(accessKeySecret, date8, region, product);
    signingKeys.set(id, key);
  }
  return key;
}

/** Lower-case hex signature over the string to sign (its scope date is read from line 2). */
export function v4Signature(accessKeySecret: string, stringToSign: string, region: string, product = 'oss'): string {
  const xOssDate = stringToSign.split('\n')[1] ?? '';
  return signWithKey(cachedSigningKey(accessKeySecret, xOssDate.slice(0, 8), region, product), stringToSign);
}

function signWithKey(signingKey: Buffer, stringToSign: string): string {
  return createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
}

export interface V4SignOptions {
  region: string;
  nowMs: number;
  /** Defaults to 'oss' (OSS Cloud Box uses 'oss-cloudbox'). */
  product?: string;
  /** Extra non-`x-oss-` headers to sign (e.g. `host`). */
  additionalHeaders?: readonly string[];
}

/**
 * Headers to send for a V4-signed request: the request's own headers (lower-cased) plus
 * `x-oss-date`, `x-oss-content-sha256` (UNSIGNED-PAYLOAD unless set), `date` (unsigned, kept
 * equal), `x-oss-security-token` (STS) and `authorization`.
 */
export function signRequestV4(
  req: SignableRequest,
  credentials: SigningCredentials,
  opts: V4SignOptions,
): Record<string, string> {
  const headers = lowerCaseHeaders(req.headers);
  const dates = requestDates(opts.nowMs);
  headers['x-oss-date'] = dates.v4;
  headers['x-oss-content-sha256'] ??= UNSIGNED_PAYLOAD;
  headers['date'] = dates.http;
  if (credentials.securityToken) headers['x-oss-security-token'] = credentials.securityToken;
  const additional = additionalOf(opts.additionalHeaders, headers);
  const canonical = canonicalRequestOf(req, headers, additional);
  const date8 = dates.v4.slice(0, 8);
  const product = opts.product ?? 'oss';
  const stringToSign = v4StringToSign(canonical, dates.v4, opts.region, product);
  const signature = signWithKey(
    cachedSigningKey(credentials.accessKeySecret, date8, opts.region, product),
    stringToSign,
  );
  const credential = `Credential=${credentials.accessKeyId}/${v4Scope(date8, opts.region, product)}`;
  const additionalPart = additional.length ? `AdditionalHeaders=${additional.join(';')},` : '';
  headers['authorization'] = `${V4_ALGORITHM} ${credential},${additionalPart}Signature=${signature}`;
  return headers;
}

/**
 * Query of a V4 presigned URL: the request's query plus x-oss-signature-version, x-oss-date,
 * x-oss-expires, x-oss-credential, x-oss-additional-headers (if any), x-oss-security-token (STS),
 * all signed, then x-oss-signature.
 */
export function presignV4(
  req: SignableRequest,
  credentials: SigningCredentials,
  opts: V4SignOptions & { expiresInSeconds: number },
): Record<string, string> {
  const xOssDate = v4DateTime(opts.nowMs);
  const additional = v4AdditionalHeaders(opts.additionalHeaders, req.headers);
  const query: Record<string, string> = Object.fromEntries(queryEntries(req.query));
  query['x-oss-signature-version'] = V4_ALGORITHM;
  query['x-oss-date'] = xOssDate;
  query['x-oss-expires'] = String(opts.expiresInSeconds);
  query['x-oss-credential'] = `${credentials.accessKeyId}/${v4Scope(xOssDate.slice(0, 8), opts.region, opts.product)}`;
  if (additional.length) query['x-oss-additional-headers'] = additional.join(';');
  if (credentials.securityToken) query['x-oss-security-token'] = credentials.securityToken;
  const canonical = v4CanonicalRequest({ ...req, query }, additional);
  query['x-oss-signature'] = v4Signature(
    credentials.accessKeySecret,
    v4StringToSign(canonical, xOssDate, opts.region, opts.product),
    opts.region,
    opts.product,
  );
  return query;
}

export interface V4Credential {
  accessKeyId: string;
  date8: string;
  region: string;
  product: string;
}

export interface V4Authorization extends V4Credential {
  additionalHeaders: string[];
  signature: string;
}

/** A malformed V4 Authorization header or `x-oss-credential` value. */
export class AuthorizationFormatError extends Error {
  override name = 'AuthorizationFormatError';
}

/** `<ak>/<YYYYMMDD>/<region>/<product>/aliyun_v4_request` (header Credential= or x-oss-credential). */
export function parseV4Credential(value: string): V4Credential {
  const parts = value.trim().split('/');
  if (parts.length !== 5 || parts[4] !== V4_TERMINATOR) {
    throw new AuthorizationFormatError(
      'Credential must be <AccessKeyId>/<YYYYMMDD>/<region>/<product>/aliyun_v4_request',
    );
  }
  const [accessKeyId, date8, region, product] = parts as [string, string, string, string, string];
  if (!accessKeyId || !/^\d{8}$/.test(date8) || !region || !product) {
    throw new AuthorizationFormatError(
      'Credential has an empty access key id, region or product, or a date that is not YYYYMMDD',
    );
  }
  return { accessKeyId, date8, region, product };
}

/**
 * Parses `OSS4-HMAC-SHA256 Credential=…, AdditionalHeaders=…, Signature=…`: pairs in any order,
 * whitespace around separators tolerated (SDKs format it differently and OSS accepts them all).
 */
export function parseV4Authorization(value: string): V4Authorization {
  const trimmed = value.trim();
  if (!trimmed.startsWith(`${V4_ALGORITHM} `))
    throw new AuthorizationFormatError(`Authorization must start with "${V4_ALGORITHM} "`);
  const fields = new Map<string, string>();
  for (const pair of trimmed.slice(V4_ALGORITHM.length).split(',')) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new AuthorizationFormatError('Authorization has a part that is not name=value');
    const name = pair.slice(0, eq).trim();
    if (fields.has(name)) throw new AuthorizationFormatError(`Authorization repeats ${name}`);
    fields.set(name, pair.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signature = fields.get('Signature');
  if (!credential) throw new AuthorizationFormatError('Authorization lacks Credential');
  if (!signature || !/^[0-9a-f]{64}$/.test(signature))
    throw new AuthorizationFormatError('Authorization lacks a 64-hex-digit Signature');
  const additional = fields.get('AdditionalHeaders');
  return {
    ...parseV4Credential(credential),
    additionalHeaders: additional
      ? additional
          .split(';')
          .map((h) => h.trim())
          .filter(Boolean)
      : [],
    signature,
  };
}

// ---------------------------------------------------------------------------------------------
// RTMP ingest URL: always HMAC-SHA1, whatever the client's signature version (§11.2)

export interface RtmpSignInput {
  bucket: string;
  channel: string;
  /** Absolute Unix seconds. */
  expires: number;
  /** Ingest parameters (e.g. playlistName); auth parameters in here are ignored for signing. */
  params?: QueryParams;
}

const RTMP_AUTH_PARAMS = new Set(['OSSAccessKeyId', 'Expires', 'Signature']);

/**
 * `Expires\n` + `key:value\n` per parameter in byte order + `/<bucket>/<channel>`.
 * UNCONFIRMED (reference §16 item 4): the doc and the Go SDK leave `security-token` out of the
 * string, the Python and Java SDKs put it in. We sign without it; a verifier should accept both,
 * hence `includeSecurityToken`.
 */
export function rtmpStringToSign(input: RtmpSignInput, opts: { includeSecurityToken?: boolean } = {}): string {
  const params = queryEntries(input.params)
    .filter(([k]) => !RTMP_AUTH_PARAMS.has(k) && (opts.includeSecurityToken || k !== 'security-token'))
    .sort(([a], [b]) => byteOrder(a, b))
    .map(([k, v]) => `${k}:${v}\n`)
    .join('');
  return `${input.expires}\n${params}/${input.bucket}/${input.channel}`;
}

export function rtmpSignature(accessKeySecret: string, stringToSign: string): string {
  return hmacSha1Base64(accessKeySecret, stringToSign);
}

/**
 * `<origin>/live/<channel>?Expires&OSSAccessKeyId&Signature[&security-token]&params`, keys in
 * byte order. `origin` is everything before `/live/`: `rtmp://<bucket>.<host>` on OSS.
 */
export function signRtmpUrl(origin: string, input: RtmpSignInput, credentials: SigningCredentials): string {
  const query: Record<string, string> = Object.fromEntries(
    queryEntries(input.params).filter(([k]) => !RTMP_AUTH_PARAMS.has(k)),
  );
  if (credentials.securityToken) query['security-token'] = credentials.securityToken;
  else delete query['security-token'];
  query['OSSAccessKeyId'] = credentials.accessKeyId;
  query['Expires'] = String(input.expires);
  query['Signature'] = rtmpSignature(credentials.accessKeySecret, rtmpStringToSign({ ...input, params: query }));
  return `${origin}/live/${ossPercentEncode(input.channel)}?${encodeQuery(query)}`;
}
