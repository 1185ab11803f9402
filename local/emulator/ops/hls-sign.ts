/**
 * `GET <playlist>.m3u8?x-oss-process=hls/sign` with a presigned URL (GetSignedPlaylist): the
 * playlist comes back with every segment URI signed the way the request was — same signature
 * version, access key, STS token and expiry — so a player given one signed playlist URL of a
 * private bucket can fetch every fragment.
 *
 * From the OSS error pages (EC 0044-00000410, 0002-00000037): the operation needs the
 * signature in the URL; one in the Authorization header is refused. UNCONFIRMED (no published
 * sample of the output): segment URIs stay relative (`name.ts?<signature query>`) so they
 * resolve against whatever host served the playlist; absolute URIs are left alone; the object
 * must be an .m3u8, anything else is 400 InvalidArgument.
 */
import { errors } from '../errors';
import {
  hmacSha1Base64,
  hmacSha256Base64,
  uriEncode,
  v1StringToSign,
  v2StringToSign,
  V2_ALGORITHM,
  v4CanonicalRequest,
  v4Scope,
  v4Signature,
  v4SigningKey,
  v4StringToSign,
  V4_ALGORITHM,
  type SignedParts,
} from '../signature';
import { OssErrorResponse, type EmuContext, type EmuRequest } from '../types';

export const HLS_SIGN = 'hls/sign';

/** The query that signs a GET of `key` as `req` was signed, with the same expiry. */
type SegmentSigner = (key: string) => Map<string, string>;

function segmentSigner(req: EmuRequest, ctx: EmuContext): SegmentSigner {
  const principal = req.principal;
  if (!principal || req.headers['authorization'] !== undefined) {
    throw new OssErrorResponse(
      403,
      'AccessDenied',
      'x-oss-process=hls/sign needs the signature in the URL, not in the Authorization header.',
      { EC: '0044-00000410' },
    );
  }
  const { accessKeyId, securityToken } = principal;
  const secret = ctx.secretFor(accessKeyId, securityToken);
  if (secret === undefined) throw errors.accessDenied('The credentials of the request are no longer valid.');
  const q = req.query;
  const parts = (key: string, query: Map<string, string>): SignedParts => ({
    method: 'GET',
    bucket: req.bucket,
    key,
    query,
    headers: {},
  });

  if (q.has('Signature')) {
    const expires = q.get('Expires')!;
    return (key) => {
      const query = new Map(securityToken === undefined ? [] : [['security-token', securityToken]]);
      const signature = hmacSha1Base64(secret, v1StringToSign(parts(key, query), expires));
      return new Map([...query, ['OSSAccessKeyId', accessKeyId], ['Expires', expires], ['Signature', signature]]);
    };
  }
  if (q.get('x-oss-signature-version') === V2_ALGORITHM) {
    const expires = q.get('x-oss-expires')!;
    return (key) => {
      const query = new Map([
        ['x-oss-signature-version', V2_ALGORITHM],
        ['x-oss-expires', expires],
        ['x-oss-access-key-id', accessKeyId],
      ]);
      if (securityToken !== undefined) query.set('security-token', securityToken);
      return query.set(
        'x-oss-signature',
        hmacSha256Base64(secret, v2StringToSign(parts(key, query), expires, [], query)),
      );
    };
  }
  const xOssDate = q.get('x-oss-date')!;
  const date8 = xOssDate.slice(0, 8);
  const scope = v4Scope(date8, ctx.region, 'oss');
  const signingKey = v4SigningKey(secret, date8, ctx.region, 'oss');
  return (key) => {
    const query = new Map([
      ['x-oss-signature-version', V4_ALGORITHM],
      ['x-oss-date', xOssDate],
      ['x-oss-expires', q.get('x-oss-expires')!],
      ['x-oss-credential', `${accessKeyId}/${scope}`],
    ]);
    if (securityToken !== undefined) query.set('x-oss-security-token', securityToken);
    return query.set(
      'x-oss-signature',
      v4Signature(signingKey, v4StringToSign(v4CanonicalRequest(parts(key, query), [], query), xOssDate, scope)),
    );
  };
}

/** The playlist text with each relative segment URI followed by its signature query. */
export function signPlaylist(playlist: string, req: EmuRequest, ctx: EmuContext): string {
  if (!req.key.toLowerCase().endsWith('.m3u8'))
    throw errors.invalidArgument('x-oss-process=hls/sign applies to .m3u8 playlists only.', 'x-oss-process', HLS_SIGN);
  const sign = segmentSigner(req, ctx);
  const folder = req.key.slice(0, req.key.lastIndexOf('/') + 1);
  return playlist
    .split('\n')
    .map((line) => {
      const uri = line.trim();
      if (uri === '' || uri.startsWith('#') || /^[a-z][a-z0-9+.-]*:|^\//i.test(uri)) return line;
      const path = uri.split('?')[0]!;
      let key: string;
      try {
        key = folder + decodeURIComponent(path);
      } catch {
        return line;
      }
      const query = [...sign(key)].map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join('&');
      return `${path}?${query}`;
    })
    .join('\n');
}
