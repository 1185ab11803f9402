/**
 * The operator console under /console, served by the api's HTTP trigger. This module and the
 * page's assets are a separate chunk (dist/api/console.js, dist/api/console/*), loaded the first
 * time a /console path is requested, so the api's cold start does not carry them.
 *
 * Sign-in: a one-time login link (`livecycle start` prints it) or the api's bearer token, either
 * exchanged for an HttpOnly, SameSite=Strict session cookie (session.ts). Data routes answer 401
 * JSON without a valid session. Requests that change anything are POSTs that must come from the
 * console's own origin (Origin = Host) with a JSON body, so a cross-site form cannot act even in a
 * browser that would send the cookie. Pages carry no secret and no inline script or style, under
 * a Content-Security-Policy that admits only this origin.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Authenticator } from '../api/auth';
import { ApiError } from '../api/errors';
import type { FcHttpResponse, HttpRequest } from '../api/event';
import { error, json } from '../api/respond';
import { createRouter, type Route, type RouteContext } from '../api/router';
import type { ApiOperations } from '../api/routes';
import { channelName, cursor, optional, readJsonBody, rejectUnknownFields } from '../api/validate';
import type { Logger } from '../log';
import type { Instance, OperationContext } from '../operations/context';
import { costReport } from '../operations/cost';
import { driftReport } from '../operations/drift';
import { CHANNEL_STATES, ChannelList, channelDetail, type ChannelState } from './data';
import {
  ConsoleKeys,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  readCookie,
  sessionCookie,
  sessionWho,
  type Session,
} from './session';

export const CONSOLE_PATH = '/console';

/** Admits only this origin; hls.js plays from MediaSource blobs (media-src blob:) with its worker off. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.jpg': 'image/jpeg',
};

/** Files of a channel's folder the console reads back (playlists, fragments, snapshots). */
const CHANNEL_FILE = /^[A-Za-z0-9._-]{1,200}\.(m3u8|ts|jpg)$/;
const PAGE_LIMIT = { default: 25, max: 100 };

export interface ConsoleDeps {
  instance: Instance;
  /** The api's own operations: console actions go through exactly what the api does. */
  ops: ApiOperations;
  auth: Authenticator;
  /**
   * The request's operation context, built by the api bundle: OSS clients, the ledger and their
   * error classes must be the api bundle's own (this chunk has copies, and `instanceof` across
   * the two would fail).
   */
  operationContext(requestId: string): OperationContext;
  /** Where index.html, app.js and app.css are (dist/api/console next to this chunk). */
  assetsDir?: string;
}

export interface ConsoleRequestContext {
  requestId: string;
  logger: Logger;
}

function withSecurity(response: FcHttpResponse): FcHttpResponse {
  response.headers = { ...response.headers, ...SECURITY_HEADERS };
  return response;
}

function file(body: Buffer, contentType: string, cache: string): FcHttpResponse {
  const text = contentType.startsWith('text/') || contentType.includes('mpegurl');
  return {
    statusCode: 200,
    headers: { 'Content-Type': contentType, 'Cache-Control': cache },
    isBase64Encoded: !text,
    body: body.toString(text ? 'utf8' : 'base64'),
  };
}

const unauthorized = () => new ApiError(401, 'no_session', 'sign in to the console first');

function isLoopback(host: string): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
}

/**
 * A state-changing request must come from the console's own page: its Origin names the Host it
 * was sent to (a form or script on another site names its own), a browser's Sec-Fetch-Site says
 * same-origin when present, and the body is JSON (a cross-site form cannot send that type
 * without a CORS preflight, which this origin never grants).
 * UNCONFIRMED: that FC 3.0's HTTP trigger hands the function the Host the browser sent
 * (function-compute.md does not list the headers it passes). If a gateway rewrote it, console
 * POSTs would be refused with 403: the failure is closed, never open.
 */
function assertSameOrigin(request: HttpRequest): void {
  const { origin, host } = request.headers;
  let originHost: string | undefined;
  try {
    originHost = origin ? new URL(origin).host : undefined;
  } catch {
    originHost = undefined;
  }
  if (!host || originHost !== host)
    throw new ApiError(403, 'cross_origin', 'console actions must come from the console page (Origin)', 'Origin');
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin')
    throw new ApiError(403, 'cross_origin', 'console actions must come from the console page', 'Sec-Fetch-Site');
  if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
    throw new ApiError(415, 'unsupported_media_type', 'send a JSON body (Content-Type: application/json)');
}

/** A query parameter as `parse` reads it, else 400 naming it and the rule. */
function queryParam<T>(
  query: Readonly<Record<string, string>>,
  field: string,
  rule: string,
  parse: (text: string) => T | undefined,
): T | undefined {
  const text = query[field];
  if (text === undefined || text === '') return undefined;
  const value = parse(text);
  if (value === undefined) throw new ApiError(400, 'invalid_field', `${field} ${rule}`, field);
  return value;
}

/** A sign-in field: a non-empty string of at most 4 KiB. */
function secretField(body: Readonly<Record<string, unknown>>, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 4096)
    throw new ApiError(400, 'invalid_field', `${field} must be a non-empty string`, field);
  return value;
}

export type ConsoleHandler = (request: HttpRequest, ctx: ConsoleRequestContext) => Promise<FcHttpResponse>;

export function createConsole(deps: ConsoleDeps): ConsoleHandler {
  const { instance, ops, auth } = deps;
  const config = instance.config;
  const keys = new ConsoleKeys([...config.apiSecrets, ...(config.apiToken ? [config.apiToken] : [])]);
  const assetsDir = deps.assetsDir ?? join(__dirname, 'console');
  const assets = new Map<string, { body: Buffer; type: string }>();
  const asset = (name: string) => {
    let found = assets.get(name);
    if (!found) {
      if (!readdirSync(assetsDir).includes(name)) return undefined;
      found = { body: readFileSync(join(assetsDir, name)), type: CONTENT_TYPES[extname(name)] ?? 'text/plain' };
      assets.set(name, found);
    }
    return found;
  };

  const list = new ChannelList(config.reconnectWindowSeconds * 1000);

  const scopeFor = (requestId: string) => {
    const op = deps.operationContext(requestId);
    return { op, scope: op.bucket(config.buckets[0] as string) };
  };

  const sessionOf = (request: HttpRequest, now: number): Session | undefined => {
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    return cookie ? keys.verifySession(cookie, now) : undefined;
  };

  type Handler = (c: RouteContext, session: Session) => Promise<FcHttpResponse>;
  /** A data route: 401 without a session; POSTs also pass the same-origin check. */
  const guarded = (method: string, pattern: string, handle: Handler): Route => ({
    method,
    pattern,
    async handle(c) {
      if (method !== 'GET') assertSameOrigin(c.request);
      const session = sessionOf(c.request, scopeFor(c.requestId).op.clock.now());
      if (!session) throw unauthorized();
      return handle(c, session);
    },
  });

  const signIn = async (c: RouteContext): Promise<FcHttpResponse> => {
    assertSameOrigin(c.request);
    const body = readJsonBody(c.request);
    rejectUnknownFields(body, ['loginToken', 'token']);
    const loginToken = secretField(body, 'loginToken');
    const token = secretField(body, 'token');
    const { op, scope } = scopeFor(c.requestId);
    const now = op.clock.now();
    let method: Session['method'];
    if (loginToken !== undefined) {
      const login = keys.verifyLogin(loginToken, now);
      if (!login)
        throw new ApiError(401, 'bad_login_link', 'this login link is not valid or has expired', 'loginToken');
      if ((await scope.ledger.useConsoleLogin(login.nonce, now)) !== 'created')
        throw new ApiError(401, 'login_link_used', 'this login link was used already; sign in with the api token');
      method = 'login-link';
    } else if (token !== undefined) {
      // The api's own bearer check, so the console admits exactly the api's tokens.
      await auth.authenticate({ ...c.request, headers: { authorization: `Bearer ${token}` } }).catch(() => {
        throw new ApiError(401, 'bad_token', 'that is not the api token', 'token');
      });
      method = 'token';
    } else throw new ApiError(400, 'missing_field', 'send loginToken or token', 'token');
    const { cookie, session } = keys.mintSession(method, now);
    const secure = !isLoopback(c.request.headers.host ?? '');
    op.logger.info({ session: sessionWho(session) }, 'console sign-in');
    return json(
      200,
      { signedIn: true, method, expiresAt: new Date(session.expiresAt).toISOString() },
      { 'Set-Cookie': sessionCookie(cookie, Math.floor(SESSION_TTL_MS / 1000), secure) },
    );
  };

  const action =
    (name: 'disable' | 'enable') =>
    async (c: RouteContext, session: Session): Promise<FcHttpResponse> => {
      const body = readJsonBody(c.request);
      rejectUnknownFields(body, []);
      const channel = channelName(c.params.name, 'name');
      const { op, scope } = scopeFor(c.requestId);
      const ctx = { requestId: c.requestId, logger: c.logger };
      let outcome = 'done';
      try {
        if (name === 'disable') await ops.disableChannel({ name: channel, force: false }, ctx);
        else await ops.enableChannel({ name: channel }, ctx);
      } catch (err) {
        // The api's ApiError is its bundle's own class (this chunk has a copy): read the code.
        const code = (err as { code?: unknown }).code;
        outcome = typeof code === 'string' ? `refused: ${code}` : 'failed';
        throw err;
      } finally {
        list.forget();
        await scope.ledger.recordConsoleAction(
          { channel, action: name, who: sessionWho(session), at: op.clock.now(), outcome },
          randomBytes(6).toString('hex'),
        );
      }
      return json(200, { name: channel, action: name, by: sessionWho(session) });
    };

  const router = createRouter([
    { method: 'POST', pattern: '/console/api/session', handle: signIn },
    guarded('GET', '/console/api/session', async (_c, session) =>
      json(200, { method: session.method, expiresAt: new Date(session.expiresAt).toISOString() }),
    ),
    guarded('POST', '/console/api/logout', async (c) =>
      json(200, { signedIn: false }, { 'Set-Cookie': sessionCookie('', 0, !isLoopback(c.request.headers.host ?? '')) }),
    ),
    guarded('GET', '/console/api/channels', async (c) => {
      const query = c.request.query;
      rejectUnknownFields(query, ['state', 'q', 'cursor', 'limit']);
      const { op, scope } = scopeFor(c.requestId);
      return json(
        200,
        await list.page(scope, op, {
          state: queryParam(query, 'state', `must be one of ${CHANNEL_STATES.join(', ')}`, (t) =>
            (CHANNEL_STATES as readonly string[]).includes(t) ? (t as ChannelState) : undefined,
          ),
          q: queryParam(query, 'q', 'must be at most 200 characters', (t) => (t.length <= 200 ? t : undefined)),
          after: optional(query, 'cursor', cursor),
          limit:
            queryParam(query, 'limit', `must be an integer from 1 to ${PAGE_LIMIT.max}`, (t) =>
              /^[0-9]{1,3}$/.test(t) && Number(t) >= 1 && Number(t) <= PAGE_LIMIT.max ? Number(t) : undefined,
            ) ?? PAGE_LIMIT.default,
        }),
      );
    }),
    guarded('GET', '/console/api/channels/{name}', async (c) => {
      const name = channelName(c.params.name, 'name');
      const { op, scope } = scopeFor(c.requestId);
      const detail = await channelDetail(scope, name, op.clock.now(), config.reconnectWindowSeconds * 1000);
      if (!detail) throw new ApiError(404, 'channel_not_found', `no channel named ${name}`, 'name');
      const cost = (await costReport(scope, op, { channel: name })).channels[0] ?? null;
      return json(200, { ...detail, cost, now: new Date(op.clock.now()).toISOString() });
    }),
    // The drift check lists every OSS channel, ledger channel and top-level folder: on request
    // only (the page's "Check drift"), never polled. Fixing is the CLI's reviewed dry run.
    guarded('GET', '/console/api/drift', async (c) => {
      const { op, scope } = scopeFor(c.requestId);
      return json(200, { ...(await driftReport(scope, op)) });
    }),
    // Playlists, fragments and snapshots of a channel's folder, read through the api so the page
    // needs no bucket credentials and the CSP admits no other origin.
    guarded('GET', '/console/api/channels/{name}/files/{file}', async (c) => {
      const name = channelName(c.params.name, 'name');
      const fileName = c.params.file ?? '';
      if (!CHANNEL_FILE.test(fileName))
        throw new ApiError(400, 'invalid_path_param', 'file must be a .m3u8, .ts or .jpg name', 'file');
      const { scope } = scopeFor(c.requestId);
      const object = await scope.oss.getObject(`${name}/${fileName}`).catch((err: unknown) => {
        throw (err as { status?: number }).status === 404
          ? new ApiError(404, 'file_not_found', `no ${fileName} in ${name}/`, 'file')
          : err;
      });
      return file(object.body, CONTENT_TYPES[extname(fileName)] ?? 'application/octet-stream', 'private, no-store');
    }),
    guarded('POST', '/console/api/channels/{name}/disable', action('disable')),
    guarded('POST', '/console/api/channels/{name}/enable', action('enable')),
  ]);

  return async (request, ctx) => {
    try {
      const { segments } = request;
      if (segments[1] === 'api') {
        const { route, params } = router.match(request.method, segments);
        return withSecurity(await route.handle({ request, params, requestId: ctx.requestId, logger: ctx.logger }));
      }
      if (request.method !== 'GET') throw new ApiError(405, 'method_not_allowed', 'the console pages are GET only');
      // /console (no slash) would resolve the page's relative asset URLs against /.
      if (segments.length === 1) return withSecurity({ ...json(308, {}), headers: { Location: '/console/' } });
      if (segments.length === 2 && segments[1] === '') {
        const page = asset('index.html');
        if (!page) throw new ApiError(500, 'console_not_built', 'the console is not built: npm run build');
        return withSecurity(file(page.body, page.type, 'no-cache'));
      }
      const name = segments.length === 3 && segments[1] === 'assets' ? segments[2] : undefined;
      const found = name && /^[a-z0-9.-]+$/.test(name) ? asset(name) : undefined;
      if (!found) throw new ApiError(404, 'not_found', 'no such console page');
      return withSecurity(file(found.body, found.type, 'no-cache'));
    } catch (err) {
      if (err instanceof ApiError)
        return withSecurity(error(err.status, err.code, err.message, err.field, err.headers));
      throw err;
    }
  };
}
