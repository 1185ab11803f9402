import { OssErrorResponse, type EmuResponse } from './types';
import { leaf, node, xmlDocument } from './xml';

/**
 * The OSS errors the emulator core raises. Codes, statuses and the ECs named in the reference
 * (§1.4, §15) are OSS's; Message strings are OSS's usual English wording where known
 * (reference §16.9: exact strings UNCONFIRMED — clients must key on Code/EC/status).
 */
export const errors = {
  noSuchBucket: (bucket: string) =>
    new OssErrorResponse(404, 'NoSuchBucket', 'The specified bucket does not exist.', {
      BucketName: bucket,
      EC: '0015-00000101',
    }),
  noSuchKey: (key: string) =>
    new OssErrorResponse(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key, EC: '0026-00000001' }),
  invalidArgument: (message: string, name: string, value: string) =>
    new OssErrorResponse(400, 'InvalidArgument', message, { ArgumentName: name, ArgumentValue: value }),
  invalidObjectName: (key: string) =>
    new OssErrorResponse(400, 'InvalidObjectName', 'The specified object is not valid.', { Key: key }),
  invalidUri: () => new OssErrorResponse(400, 'InvalidURI', 'Could not parse the specified URI.'),
  invalidDigest: (sent: string) =>
    new OssErrorResponse(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.', { 'Content-MD5': sent }),
  missingContentMd5: () =>
    new OssErrorResponse(400, 'InvalidDigest', 'Missing required header for this request: Content-MD5.', {
      Header: 'Content-MD5',
    }),
  entityTooLarge: (limit: number) =>
    new OssErrorResponse(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.', {
      MaxSizeAllowed: String(limit),
    }),
  notImplemented: (what: string) =>
    new OssErrorResponse(501, 'NotImplemented', `${what} is not implemented by the livecycle OSS emulator.`),
  methodNotAllowed: (method: string) =>
    new OssErrorResponse(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
      Method: method,
    }),
  accessDenied: (message: string, extra: Record<string, string> = {}) =>
    new OssErrorResponse(403, 'AccessDenied', message, extra),
  internalError: () =>
    new OssErrorResponse(500, 'InternalError', 'We encountered an internal error. Please try again.'),
};

export interface ErrorRenderContext {
  method: string;
  requestId: string;
  host: string;
}

/**
 * `<Error>` XML (reference §1.4): Code, Message, RequestId, HostId, then the extras. The EC, when
 * known, is repeated in `x-oss-ec`; a HEAD response carries no body, so the whole XML travels
 * base64-encoded in `x-oss-err`.
 */
export function renderError(err: OssErrorResponse, ctx: ErrorRenderContext): EmuResponse {
  const xml = xmlDocument(
    node('Error', [
      leaf('Code', err.code),
      leaf('Message', err.message),
      leaf('RequestId', ctx.requestId),
      leaf('HostId', ctx.host.replace(/:\d+$/, '')),
      ...Object.entries(err.extra).map(([name, value]) => leaf(name, value)),
    ]),
  );
  const headers: Record<string, string> = { 'content-type': 'application/xml' };
  if (err.extra.EC) headers['x-oss-ec'] = err.extra.EC;
  if (ctx.method === 'HEAD') {
    headers['x-oss-err'] = Buffer.from(xml).toString('base64');
    return { status: err.status, headers };
  }
  return { status: err.status, headers, body: xml };
}
