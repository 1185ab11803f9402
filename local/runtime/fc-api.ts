/**
 * Function Compute's InvokeFunction API on a local port: `POST /2023-03-30/functions/<name>/invocations`,
 * synchronous by default and queued with `x-fc-invocation-type: Async` (202), the way the
 * production invoker (shared/platform.ts, @alicloud/fc2) and `livecycle invoke --remote` call it.
 *
 * Requests must carry FC's signature, verified here from the published algorithm (Alibaba Cloud,
 * "Function Compute: Signature authentication", help doc 53252), not from any SDK's code:
 *
 *   Authorization: FC <AccessKeyId>:base64(hmac-sha256(secret,
 *     METHOD \n Content-MD5 \n Content-Type \n Date \n CanonicalizedFCHeaders CanonicalizedResource))
 *
 * CanonicalizedFCHeaders: every `x-fc-*` header, name lower-cased, sorted, `name:value\n` each.
 * CanonicalizedResource: the URL-decoded path without its query. Date within 15 minutes of the
 * server's time. Errors are FC's JSON `{ErrorCode, ErrorMessage}` with FC's codes
 * (SignatureNotMatch, InvalidAccessKeyID, FunctionNotFound, …; reference "Error codes").
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Logger } from 'pino';
import { signaturesEqual } from '../../shared/oss/signer';
import { listenLocal, readBody, SYNC_BODY_LIMIT } from './http';
import { ASYNC_PAYLOAD_LIMIT, type FunctionHost } from './invoke';

export const FC_API_VERSION = '2023-03-30';
/** FC refuses a request whose Date is further than this from its own time (published algorithm). */
export const FC_MAX_SKEW_MS = 15 * 60 * 1000;
const INVOCATIONS_PATH = new RegExp(`^/${FC_API_VERSION}/functions/([^/]+)/invocations$`);

/** Resolves an access key (with its STS token, if any) to its secret; undefined when unknown. */
export type SecretResolver = (accessKeyId: string, securityToken: string | undefined) => string | undefined;

export interface FcApiOptions {
  port: number;
  /** The host serving `functionName` (FC's name, e.g. livecycle-generate-vod), if any. */
  functionNamed(functionName: string): FunctionHost | undefined;
  resolveSecret: SecretResolver;
  log: Logger;
  /** The server's own time for the Date check; the caller's Date comes from its system clock. */
  wallClock?: () => number;
}

export interface FcApiServer {
  url: string;
  close(): Promise<void>;
}

class FcApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The string FC signs for a request (published algorithm); `headers` as Node parses them (lower-case names). */
export function fcStringToSign(method: string, path: string, headers: IncomingHttpHeaders): string {
  const value = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(',') : (v ?? '');
  };
  const fcHeaders = Object.keys(headers)
    .filter((name) => name.toLowerCase().startsWith('x-fc-'))
    .map((name) => name.toLowerCase())
    .sort()
    .map((name) => `${name}:${value(name)}\n`)
    .join('');
  const resource = decodeURIComponent(path.split('?')[0] ?? '');
  return `${method.toUpperCase()}\n${value('content-md5')}\n${value('content-type')}\n${value('date')}\n${fcHeaders}${resource}`;
}

export function fcSignature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('base64');
}

function verifySignature(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  opts: FcApiOptions,
): string {
  const authorization = headers.authorization ?? '';
  const match = /^FC ([^:\s]+):(\S+)$/.exec(authorization);
  // Unconfirmed: FC's code for a request without a signature; the docs only say 403.
  if (!match)
    throw new FcApiError(
      403,
      'AccessDenied',
      'the request is not signed: expected "Authorization: FC <AccessKeyId>:<signature>"',
    );
  const [, accessKeyId, provided] = match as unknown as [string, string, string];
  const date = headers.date;
  if (!date) throw new FcApiError(400, 'MissingRequiredHeader', 'required HTTP header Date was not specified');
  const at = Date.parse(date);
  const now = (opts.wallClock ?? Date.now)();
  // Unconfirmed: FC's code for a stale Date; the docs say such a request is rejected.
  if (!Number.isFinite(at) || Math.abs(now - at) > FC_MAX_SKEW_MS)
    throw new FcApiError(
      403,
      'AccessDenied',
      `the Date header "${date}" is more than 15 minutes from the server's time`,
    );
  const token = headers['x-fc-security-token'];
  const secret = opts.resolveSecret(accessKeyId, Array.isArray(token) ? token[0] : token);
  if (secret === undefined) throw new FcApiError(403, 'InvalidAccessKeyID', `invalid access key ID '${accessKeyId}'`);
  if (!signaturesEqual(fcSignature(secret, fcStringToSign(method, path, headers)), provided)) {
    throw new FcApiError(
      403,
      'SignatureNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your access key and signing method',
    );
  }
  const md5 = headers['content-md5'];
  if (md5 !== undefined && !md5Matches(String(md5), body))
    throw new FcApiError(400, 'InvalidArgument', 'Content-MD5 does not match the request body');
  return accessKeyId;
}

/**
 * The docs say "the MD5 value of the request content" without an encoding. Accepted: base64 of
 * the digest (HTTP's Content-MD5), hex, and base64 of the hex text (what @alicloud/fc2 sends).
 */
function md5Matches(header: string, body: Buffer): boolean {
  const digest = createHash('md5').update(body).digest();
  const hex = digest.toString('hex');
  return [digest.toString('base64'), hex, Buffer.from(hex).toString('base64')].includes(header.trim());
}

export async function serveFcApi(opts: FcApiOptions): Promise<FcApiServer> {
  const server: Server = createServer((req, res) => {
    const requestId = randomUUID();
    const send = (status: number, headers: Record<string, string>, body?: Buffer | string) => {
      res.writeHead(status, { ...headers, 'x-fc-request-id': requestId });
      res.end(body);
    };
    void (async () => {
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const route = method === 'POST' ? INVOCATIONS_PATH.exec(path) : null;
      if (!route) throw new FcApiError(400, 'PathNotSupported', `'${method}' against '${path}' is not supported`);
      const type = String(req.headers['x-fc-invocation-type'] ?? 'Sync');
      if (type !== 'Sync' && type !== 'Async')
        throw new FcApiError(400, 'InvalidArgument', `x-fc-invocation-type must be Sync or Async, got "${type}"`);
      const body = await readBody(req, SYNC_BODY_LIMIT);
      if (body === undefined)
        throw new FcApiError(
          400,
          'EntityTooLarge',
          `payload size exceeds maximum allowed size (${SYNC_BODY_LIMIT} bytes)`,
        );
      const accessKeyId = verifySignature(method, req.url ?? '/', req.headers, body, opts);
      const functionName = decodeURIComponent(route[1]!);
      const host = opts.functionNamed(functionName);
      if (!host) throw new FcApiError(404, 'FunctionNotFound', `function '${functionName}' does not exist`);
      opts.log.info(
        { fn: host.spec.name, requestId, invocationType: type, accessKeyId },
        `InvokeFunction ${functionName} (${type})`,
      );
      if (type === 'Async') {
        if (body.length > ASYNC_PAYLOAD_LIMIT)
          throw new FcApiError(
            400,
            'EntityTooLarge',
            `payload size exceeds maximum allowed size (${ASYNC_PAYLOAD_LIMIT} bytes)`,
          );
        host.invokeAsync(body, requestId, { trigger: 'InvokeFunction Async' });
        return send(202, {});
      }
      const outcome = await host.invoke(body, requestId, 'InvokeFunction Sync');
      // A failed invocation is still HTTP 200; the header says how it failed (reference §1.2).
      send(
        200,
        {
          'content-type': 'application/octet-stream',
          ...(outcome.error ? { 'x-fc-error-type': outcome.error.type } : {}),
        },
        outcome.payload,
      );
    })().catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      if (err instanceof FcApiError) {
        opts.log.warn({ requestId, status: err.status, code: err.code }, `InvokeFunction refused: ${err.message}`);
        return send(
          err.status,
          { 'content-type': 'application/json' },
          JSON.stringify({ ErrorCode: err.code, ErrorMessage: err.message }),
        );
      }
      opts.log.error({ err, requestId }, 'InvokeFunction failed');
      send(
        500,
        { 'content-type': 'application/json' },
        JSON.stringify({ ErrorCode: 'InternalServerError', ErrorMessage: 'internal error' }),
      );
    });
  });
  return listenLocal(server, opts.port);
}
