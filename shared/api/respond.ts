import { randomUUID } from 'node:crypto';
import { currentClock, type Clock } from '../clock';
import { invocationLogger, type Logger } from '../log';
import type { Authenticator } from './auth';
import { ApiError } from './errors';
import { decodeHttpEvent, type FcHttpResponse, type HttpRequest } from './event';
import type { Router } from './router';

/** The FC 3.0 HTTP trigger response (function-compute.md §2.3). */
export const REQUEST_ID_HEADER = 'X-Livecycle-Request-Id';

/** A JSON response; responses carry data about private channels, so nothing is cached. */
export function json(status: number, data: unknown, headers: Readonly<Record<string, string>> = {}): FcHttpResponse {
  return {
    statusCode: status,
    headers: {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...headers,
    },
    isBase64Encoded: false,
    body: JSON.stringify(data),
  };
}

/** `{error: {code, message, field?}}` with `status`. */
export function error(
  status: number,
  code: string,
  message: string,
  field?: string,
  headers?: Readonly<Record<string, string>>,
): FcHttpResponse {
  return json(status, { error: field === undefined ? { code, message } : { code, message, field } }, headers);
}

export interface HttpDeps {
  auth: Authenticator;
  logger: Logger;
  /** For the logged duration; defaults to `currentClock()`. */
  clock?: Clock;
  maxBodyBytes?: number;
  /** The OpenAPI document, served at GET /openapi.json before authentication; loaded on first use. */
  openApiDocument?: () => Promise<unknown>;
  /** Everything under /console: the operator console, with its own session auth (shared/console). */
  console?: (request: HttpRequest, ctx: { requestId: string; logger: Logger }) => Promise<FcHttpResponse>;
}

/** Readable without credentials: integrators generate clients from it. */
export const OPENAPI_PATH = '/openapi.json';

/** The part of FC's context this layer reads. */
export interface HttpInvocationContext {
  requestId?: string;
}

/**
 * The whole HTTP pipeline: decode → authenticate → route → the route's handler. Never throws:
 * an ApiError becomes its status and code; anything else becomes a 500 whose body carries only
 * the request id, with the error itself logged.
 */
export async function handleHttp(
  event: Buffer,
  context: HttpInvocationContext | undefined,
  router: Router,
  deps: HttpDeps,
): Promise<FcHttpResponse> {
  const clock = deps.clock ?? currentClock();
  const startedMs = clock.now();
  const requestId = context?.requestId || randomUUID();
  const logger = invocationLogger(deps.logger, requestId);
  const line: Record<string, unknown> = {};
  let response: FcHttpResponse;
  try {
    const request = decodeHttpEvent(event, { maxBodyBytes: deps.maxBodyBytes });
    Object.assign(line, { method: request.method, path: request.path, sourceIp: request.sourceIp });
    if (deps.openApiDocument && request.method === 'GET' && request.path === OPENAPI_PATH) {
      line.route = OPENAPI_PATH;
      response = json(200, await deps.openApiDocument());
    } else if (deps.console && request.segments[0] === 'console') {
      line.route = '/console';
      response = await deps.console(request, { requestId, logger });
    } else {
      line.auth = await deps.auth.authenticate(request);
      const { route, params } = router.match(request.method, request.segments);
      line.route = route.pattern;
      response = await route.handle({ request, params, requestId, logger });
    }
  } catch (err) {
    if (err instanceof ApiError) {
      response = error(err.status, err.code, err.message, err.field, err.headers);
      line.code = err.code;
    } else {
      logger.error({ err, ...line }, 'api request failed');
      response = json(500, { error: { code: 'internal', message: 'internal error', requestId } });
    }
  }
  response.headers[REQUEST_ID_HEADER] = requestId;
  logger.info({ ...line, status: response.statusCode, durationMs: clock.now() - startedMs }, 'api request');
  return response;
}
