/**
 * Verifies a signed RTMP ingest URL the way OSS does when an encoder connects (reference §11),
 * with the emulator's own algorithm (../signature), and returns the ingest parameters.
 */
import { hmacSha1Base64, rtmpStringToSign, signaturesEqual } from '../signature';
import { OssErrorResponse, type EmuContext } from '../types';
import { invalidArgument } from './errors';

/**
 * Query parameters decoded per RFC 3986: '+' stays '+'. A base64 signature an encoder forgot
 * to escape keeps its '+' (URLSearchParams would turn it into a space and fail the check).
 */
function parseQuery(search: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const [name, value] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    try {
      params.set(decodeURIComponent(name), decodeURIComponent(value));
    } catch {
      throw invalidArgument(`The RTMP URL has a badly percent-encoded parameter: ${part}`);
    }
  }
  return params;
}

function accessDenied(message: string): OssErrorResponse {
  return new OssErrorResponse(403, 'AccessDenied', message);
}

/**
 * `rtmp://<bucket>.<host>/live/<channel>?OSSAccessKeyId&Expires&Signature[&security-token][&params]`.
 * Expiry is checked on the emulator clock and only here, at connect time: OSS does not cut a
 * stream that is already connected when Expires passes (§11.2).
 */
export function verifyRtmpUrl(
  signedUrl: string,
  bucket: string,
  channel: string,
  ctx: EmuContext,
): Map<string, string> {
  let url: URL;
  try {
    url = new URL(signedUrl);
  } catch {
    throw invalidArgument('The RTMP URL is not a valid URL.');
  }
  if (url.protocol !== 'rtmp:') throw invalidArgument(`The ingest URL must use rtmp://, not ${url.protocol}//.`);
  if (!url.hostname.startsWith(`${bucket}.`))
    throw invalidArgument(`The RTMP URL's host ${url.host} is not a host of bucket ${bucket}.`);
  const match = /^\/live\/([^/]+)$/.exec(url.pathname);
  let urlChannel: string | undefined;
  try {
    urlChannel = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
  } catch {
    urlChannel = undefined;
  }
  if (urlChannel !== channel) throw invalidArgument(`The RTMP URL's path ${url.pathname} is not /live/${channel}.`);

  const params = parseQuery(url.search);
  const accessKeyId = params.get('OSSAccessKeyId');
  const expiresText = params.get('Expires');
  const signature = params.get('Signature');
  // The emulator has no bucket ACLs; every bucket is private, so an unsigned push is refused
  // as it would be on a bucket that is not public-read-write.
  if (accessKeyId === undefined || expiresText === undefined || signature === undefined) {
    throw accessDenied(
      'The RTMP URL must carry OSSAccessKeyId, Expires and Signature: the bucket is not public-read-write.',
    );
  }
  const securityToken = params.get('security-token');
  const secret = ctx.secretFor(accessKeyId, securityToken);
  if (secret === undefined) {
    throw new OssErrorResponse(
      403,
      'InvalidAccessKeyId',
      'The OSS Access Key Id you provided does not exist in our records.',
      {
        EC: '0002-00000802',
        OSSAccessKeyId: accessKeyId,
      },
    );
  }
  if (!/^\d{1,12}$/.test(expiresText)) throw accessDenied('Expires must be a Unix time in seconds.');
  const expires = Number(expiresText);
  if (ctx.clock.now() / 1000 > expires) throw accessDenied('Request has expired.');

  // UNCONFIRMED (reference §11.2, §16 item 4): SDKs disagree on whether the STS token is part of
  // the string to sign, so both forms are accepted.
  const candidates = [rtmpStringToSign(expiresText, params, bucket, channel, false)];
  if (securityToken !== undefined) candidates.push(rtmpStringToSign(expiresText, params, bucket, channel, true));
  if (!candidates.some((s) => signaturesEqual(hmacSha1Base64(secret, s), signature))) {
    throw new OssErrorResponse(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided.',
      {
        StringToSign: candidates[0] ?? '',
        OSSAccessKeyId: accessKeyId,
      },
    );
  }
  return params;
}
