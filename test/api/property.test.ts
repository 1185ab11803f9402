import fc from 'fast-check';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, signApiRequest } from '../../shared/api/auth';
import { handleHttp } from '../../shared/api/respond';
import { apiRoutes, type ApiOperations } from '../../shared/api/routes';
import { compactUtcSeconds, vodPlaylistName } from '../../shared/lifecycle';
import { createLogger } from '../../shared/log';
import { recordApiResponse } from '../contract/recorder';

const NOW = Date.UTC(2024, 6, 1);
const SECRET = 'property-test-shared-secret';
const TOKEN = 'property-test-token';
const clock = { now: () => NOW };

/** Every operation answers `{ok: true}`, so anything but 2xx/4xx comes from the HTTP layer itself. */
const trivialOps = new Proxy({}, { get: () => async () => ({ ok: true }) }) as ApiOperations;

const nameLike = fc.oneof(
  fc.constantFrom(
    'cam-1',
    '_livecycle',
    '..',
    '../etc',
    '%2F',
    'a%2Fb',
    '%2e%2e',
    '%00',
    '%',
    '%E0%A4%A',
    'ü',
    '😀',
    '%F0%9F%98%80',
    '',
  ),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ minLength: 200, maxLength: 2000 }),
);
const pathPart = fc.oneof(
  fc.constantFrom('channels', 'vods', 'hold', 'vod', 'enable', 'disable', 'publish-url', 'cleanup', 'report'),
  nameLike,
);
const rawPath = fc.oneof(
  fc.array(pathPart, { maxLength: 6 }).map((parts) => '/' + parts.join('/')),
  fc.string({ maxLength: 100 }),
);
const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'get', 'OPTIONS'),
  fc.string({ maxLength: 20 }),
);
const jsonish = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.anything({ maxDepth: 2 }));
const fieldValue = fc.oneof(
  jsonish,
  fc.constantFrom(
    '2024-05-01T00:00:00Z',
    '2024-02-30T00:00:00Z',
    NOW,
    NOW - 3_600_000,
    1714564800,
    'x.m3u8',
    'a/b.m3u8',
    true,
    'true',
    null,
  ),
  fc.string({ minLength: 100, maxLength: 70_000 }),
);
const knownFields = [
  'name',
  'description',
  'fragDuration',
  'fragCount',
  'playlistName',
  'snapshot',
  'replace',
  'force',
  'start',
  'end',
  'reason',
  'expiresInSeconds',
  '__proto__',
  'constructor',
];
const bodyObject = fc.dictionary(fc.oneof(fc.constantFrom(...knownFields), fc.string({ maxLength: 10 })), fieldValue, {
  maxKeys: 6,
});
const body = fc.oneof(
  bodyObject.map((o) => JSON.stringify(o)),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.constant(''),
  fc.integer({ min: 65_000, max: 70_000 }).map((n) => JSON.stringify({ name: 'a'.repeat(n) })),
);
const query = fc.dictionary(
  fc.oneof(fc.constantFrom('limit', 'cursor', 'force', 'prefix'), fc.string({ maxLength: 8 })),
  fc.oneof(fc.constantFrom('0', '1', '1000', '1001', 'true', 'yes', ''), fc.string({ maxLength: 30 })),
  { maxKeys: 3 },
);
const stringHeaders = fc.dictionary(
  fc.oneof(
    fc.constantFrom('Content-Type', 'content-type', 'Authorization', 'X-Livecycle-Timestamp', 'X-Livecycle-Signature'),
    fc.string({ maxLength: 20 }),
  ),
  fc.oneof(fc.constantFrom('application/json', 'Bearer x', `Bearer ${TOKEN}`, 'v1=00'), fc.string({ maxLength: 80 })),
  { maxKeys: 4 },
);

function decodedForSigning(path: string): string {
  return path
    .split('?', 1)[0]!
    .split('/')
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    })
    .join('/');
}

/** Requests close to valid ones, so generation also reaches the operations and the 2xx path. */
const validName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);
/** Generated VOD playlist names, the only keys the hold routes accept. */
const vodName = fc
  .tuple(
    fc.integer({ min: NOW - 30 * 86_400_000, max: NOW }),
    fc.option(fc.integer({ min: 1, max: 999 }), { nil: undefined }),
  )
  .map(([ms, part]) => vodPlaylistName(compactUtcSeconds(ms), part));
const routeCall = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    rawPath: fc.constant('/channels'),
    body: fc
      .record(
        {
          name: validName,
          description: fc.string({ maxLength: 40 }),
          fragDuration: fc.integer({ min: 0, max: 101 }),
          fragCount: fc.integer({ min: 1, max: 100 }),
          snapshot: fc.boolean(),
          playlistName: fc.constantFrom('a.m3u8', 'live.m3u8', 'x.m3u'),
        },
        { requiredKeys: ['name'] },
      )
      .map((o) => JSON.stringify(o)),
    query: fc.constant({}),
  }),
  fc.record({
    method: fc.constant('GET'),
    rawPath: fc.constant('/channels'),
    body: fc.constant(''),
    query: fc.record(
      { limit: fc.integer({ min: 0, max: 1001 }).map(String), cursor: fc.string({ maxLength: 20 }) },
      { requiredKeys: [] },
    ),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'DELETE'),
    rawPath: validName.map((n) => `/channels/${n}`),
    body: fc.constant(''),
    query: fc.constantFrom({}, { force: 'true' }, { force: 'no' }),
  }),
  fc.record({
    method: fc.constant('POST'),
    rawPath: fc
      .tuple(validName, fc.constantFrom('enable', 'disable', 'publish-url'))
      .map(([n, op]) => `/channels/${n}/${op}`),
    body: fc.constantFrom('', '{}', '{"force":true}', '{"expiresInSeconds":600}'),
    query: fc.constant({}),
  }),
  fc.record({
    method: fc.constant('POST'),
    rawPath: validName.map((n) => `/channels/${n}/vod`),
    body: fc
      .record({
        start: fc.integer({ min: NOW - 9 * 86_400_000, max: NOW }),
        end: fc.integer({ min: NOW - 86_400_000, max: NOW }),
      })
      .map((o) => JSON.stringify(o)),
    query: fc.constant({}),
  }),
  fc.record({
    method: fc.constantFrom('POST', 'DELETE'),
    rawPath: fc.tuple(validName, fc.oneof(vodName, validName)).map(([n, k]) => `/channels/${n}/vods/${k}/hold`),
    body: fc.constant(''),
    query: fc.constant({}),
  }),
  fc.record({
    method: fc.constant('GET'),
    rawPath: fc.constant('/cleanup/report'),
    body: fc.constant(''),
    query: fc.constant({}),
  }),
);
const signable = fc.oneof(
  fc.record({ method: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'), rawPath, body, query }),
  routeCall,
);

/** A well-formed, correctly signed event (so generated input reaches routing and validation). */
const signedEvent = fc
  .record({
    call: signable,
    base64: fc.boolean(),
    skewMs: fc.constantFrom(0, 0, 0, 299_000, 301_000),
    contentType: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain'),
  })
  .map(({ call, base64, skewMs, contentType }) => {
    const e = { ...call, base64, skewMs };
    const headers = {
      ...signApiRequest({
        method: e.method,
        path: decodedForSigning(e.rawPath),
        query: e.query as Record<string, string> | undefined,
        body: e.body,
        secret: SECRET,
        now: NOW - e.skewMs,
      }),
      'Content-Type': contentType,
    };
    return {
      version: 'v1',
      rawPath: e.rawPath,
      headers,
      queryParameters: e.query,
      body: e.base64 ? Buffer.from(e.body).toString('base64') : e.body,
      isBase64Encoded: e.base64,
      requestContext: { requestId: 'r', http: { method: e.method, path: e.rawPath, sourceIp: '198.51.100.1' } },
    };
  });

/** Loosely shaped events: every field may be missing, mistyped or hostile. */
const looseEvent = fc.record(
  {
    version: jsonish,
    rawPath: fc.oneof(rawPath, jsonish),
    headers: fc.oneof(stringHeaders, jsonish),
    queryParameters: fc.oneof(query, jsonish),
    body: fc.oneof(body, jsonish),
    isBase64Encoded: fc.oneof(fc.boolean(), jsonish),
    requestContext: fc.oneof(
      jsonish,
      fc.record(
        {
          http: fc.oneof(
            jsonish,
            fc.record({ method, path: fc.oneof(rawPath, jsonish), sourceIp: jsonish }, { requiredKeys: [] }),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);

const eventBytes = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: jsonish.map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')) },
  { weight: 3, arbitrary: looseEvent.map((e) => Buffer.from(JSON.stringify(e) ?? '')) },
  { weight: 5, arbitrary: signedEvent.map((e) => Buffer.from(JSON.stringify(e))) },
);

describe('handleHttp under generated input', () => {
  it('never throws and always answers 2xx/4xx JSON without a stack trace or secret', async () => {
    const router = apiRoutes(trivialOps);
    const auth = createAuthenticator({ secrets: [SECRET], tokens: [TOKEN], clock });
    const logger = createLogger({
      name: 'api-property',
      destination: new Writable({ write: (_c, _e, done) => done() }),
    });
    const statuses = new Map<number, number>();

    await fc.assert(
      fc.asyncProperty(eventBytes, async (event) => {
        const response = await handleHttp(event, { requestId: 'prop' }, router, { auth, logger, clock });
        recordApiResponse(event, response, { fakeOperations: true });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        expect(
          (response.statusCode >= 200 && response.statusCode < 300) ||
            (response.statusCode >= 400 && response.statusCode < 500),
        ).toBe(true);
        expect(response.headers['Content-Type']).toMatch(/^application\/json/);
        const parsed = JSON.parse(response.body);
        if (response.statusCode >= 400) expect(typeof parsed.error.code).toBe('string');
        expect(response.body).not.toMatch(/\bat .+:\d+:\d+|Error:|node:internal/);
        expect(response.body).not.toContain(SECRET);
        expect(response.body).not.toContain(TOKEN);
      }),
      { numRuns: 10_000, seed: 20240701 },
    );

    // The generators must reach past decoding and auth, or the property proves little.
    const count = (pred: (s: number) => boolean) =>
      [...statuses].filter(([s]) => pred(s)).reduce((n, [, c]) => n + c, 0);
    expect(count((s) => s >= 200 && s < 300)).toBeGreaterThan(100);
    for (const status of [400, 401, 404, 405, 413, 415]) expect(statuses.get(status) ?? 0).toBeGreaterThan(0);
    // A fixed amount of CPU work (~20 s alone, over 30 s beside other suites): the timeout only
    // catches a hang, so it is sized for a loaded 2-core machine, not for speed.
  }, 300_000);
});

describe('one channel-name rule', () => {
  /** 400 or not, through the real route table (router checks + validation), as the HTTP layer would run it. */
  async function accepted(method: string, segments: string[], body: unknown): Promise<boolean> {
    const text = body === undefined ? '' : JSON.stringify(body);
    const request = {
      method,
      path: `/${segments.join('/')}`,
      segments,
      query: {},
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(text),
      sourceIp: '198.51.100.1',
      requestId: 'r',
    };
    try {
      const { route, params } = apiRoutes(trivialOps).match(method, segments);
      await route.handle({
        request,
        params,
        requestId: 'r',
        logger: createLogger({ name: 'property', level: 'silent' }),
      });
      return true;
    } catch (err) {
      if (err instanceof Error && 'status' in err && err.status === 400) return false;
      throw err;
    }
  }

  it('every name POST /channels accepts is accepted by every {name} route, and every name it refuses is refused there', async () => {
    const name = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
      fc.constantFrom('a..b', 'a.b', '..', '.', 'a...', 'x'.repeat(128), 'x'.repeat(129), '_livecycle', 'a b', 'a%2Fb'),
    );
    await fc.assert(
      fc.asyncProperty(name, async (n) => {
        const create = await accepted('POST', ['channels'], { name: n });
        for (const [method, segments] of [
          ['GET', ['channels', n]],
          ['DELETE', ['channels', n]],
          ['POST', ['channels', n, 'enable']],
          ['POST', ['channels', n, 'publish-url']],
        ] as const) {
          expect(await accepted(method, [...segments], undefined), `${method} /${segments.join('/')}`).toBe(create);
        }
      }),
      { numRuns: 300 },
    );
    expect(await accepted('POST', ['channels'], { name: 'a..b' })).toBe(false);
  });
});
