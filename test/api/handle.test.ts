import { describe, expect, it } from 'vitest';
import { createAuthenticator, signApiRequest } from '../../shared/api/auth';
import { ApiError } from '../../shared/api/errors';
import type { FcHttpResponse } from '../../shared/api/event';
import { handleHttp, REQUEST_ID_HEADER } from '../../shared/api/respond';
import { apiRoutes, type ApiOperations } from '../../shared/api/routes';
import { recordApiResponse } from '../contract/recorder';
import { capturingLogger, httpEvent, type EventSpec } from './helpers';

const NOW = Date.UTC(2024, 5, 1, 8, 0, 0);
const SECRET = 'handle-test-shared-secret';
const TOKEN = 'handle-test-token-abcdef';
const clock = { now: () => NOW };

type Call = { op: keyof ApiOperations; input: unknown };

/** Operations that record their validated input and echo it back. */
function recordingOps(calls: Call[], overrides: Partial<ApiOperations> = {}): ApiOperations {
  const names: (keyof ApiOperations)[] = [
    'createChannel',
    'listChannels',
    'getChannel',
    'createPublishUrl',
    'enableChannel',
    'disableChannel',
    'deleteChannel',
    'createVod',
    'holdVod',
    'releaseVod',
    'cleanupReport',
  ];
  const ops = Object.fromEntries(
    names.map((op) => [
      op,
      async (input: unknown) => {
        calls.push({ op, input });
        return { op, input };
      },
    ]),
  ) as unknown as ApiOperations;
  return { ...ops, ...overrides };
}

function setup(overrides: Partial<ApiOperations> = {}) {
  const calls: Call[] = [];
  const { logger, lines } = capturingLogger();
  const router = apiRoutes(recordingOps(calls, overrides));
  const auth = createAuthenticator({ secrets: [SECRET], tokens: [TOKEN], clock });
  const call = async (spec: EventSpec, requestId = 'req-1') => {
    const event = httpEvent(spec);
    const response = await handleHttp(event, { requestId }, router, { auth, logger, clock });
    recordApiResponse(event, response, { fakeOperations: true });
    return response;
  };
  return { calls, lines, call };
}

/** A signed JSON request; `path` is sent as the raw (encoded) path and signed decoded, as the scheme says. */
function signedSpec(method: string, path: string, body?: unknown, query?: Record<string, string>): EventSpec {
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string> = signApiRequest({
    method,
    path: decodeURIComponent(path),
    query,
    body: text,
    secret: SECRET,
    now: NOW,
  });
  if (text) headers['Content-Type'] = 'application/json';
  return { method, rawPath: path, body: text, query, headers };
}

function parse(response: FcHttpResponse): any {
  expect(response.headers['Content-Type']).toBe('application/json; charset=utf-8');
  return JSON.parse(response.body);
}

describe('handleHttp with the api route table', () => {
  it('creates a channel: 201 with the operation result and validated input', async () => {
    const { call, calls } = setup();
    const response = await call(
      signedSpec('POST', '/channels', { name: 'cam-1', fragDuration: 4, fragCount: 5, snapshot: true }),
    );
    expect(response.statusCode).toBe(201);
    expect(response.headers[REQUEST_ID_HEADER]).toBe('req-1');
    const expected = {
      name: 'cam-1',
      description: undefined,
      frag: { fragDuration: 4, fragCount: 5 },
      playlistName: undefined,
      snapshot: true,
      replace: false,
      adoptExistingFolder: false,
    };
    expect(calls).toEqual([{ op: 'createChannel', input: expected }]);
    expect(parse(response).op).toBe('createChannel');
  });

  it.each<[string, EventSpec, keyof ApiOperations, unknown]>([
    [
      'list with paging',
      { ...signedSpec('GET', '/channels', undefined, { limit: '50', cursor: 'c1' }) },
      'listChannels',
      { limit: 50, cursor: 'c1' },
    ],
    ['get', signedSpec('GET', '/channels/cam-1'), 'getChannel', { name: 'cam-1' }],
    [
      'publish url',
      signedSpec('POST', '/channels/cam-1/publish-url', { expiresInSeconds: 600 }),
      'createPublishUrl',
      { name: 'cam-1', expiresInSeconds: 600 },
    ],
    ['enable with no body', signedSpec('POST', '/channels/cam-1/enable'), 'enableChannel', { name: 'cam-1' }],
    [
      'disable with force',
      signedSpec('POST', '/channels/cam-1/disable', { force: true }),
      'disableChannel',
      { name: 'cam-1', force: true },
    ],
    [
      'delete with force in the query',
      signedSpec('DELETE', '/channels/cam-1', undefined, { force: 'true' }),
      'deleteChannel',
      { name: 'cam-1', force: true },
    ],
    [
      'vod',
      signedSpec('POST', '/channels/cam-1/vod', { start: '2024-06-01T06:00:00Z', end: NOW }),
      'createVod',
      { name: 'cam-1', startMs: NOW - 7_200_000, endMs: NOW, playlistName: undefined },
    ],
    [
      'hold',
      signedSpec('POST', '/channels/cam-1/vods/vod-20240601T060000Z.m3u8/hold', { reason: 'legal' }),
      'holdVod',
      { name: 'cam-1', key: 'vod-20240601T060000Z.m3u8', reason: 'legal' },
    ],
    [
      'release',
      signedSpec('DELETE', '/channels/cam-1/vods/vod-20240601T060000Z-part002.m3u8/hold'),
      'releaseVod',
      { name: 'cam-1', key: 'vod-20240601T060000Z-part002.m3u8' },
    ],
    ['cleanup report', signedSpec('GET', '/cleanup/report'), 'cleanupReport', { limit: undefined, cursor: undefined }],
    // The name is optional: the operation generates one.
    [
      'create without a name',
      signedSpec('POST', '/channels', {}),
      'createChannel',
      {
        name: undefined,
        description: undefined,
        frag: undefined,
        playlistName: undefined,
        snapshot: undefined,
        replace: false,
        adoptExistingFolder: false,
      },
    ],
    [
      'create with a null name',
      signedSpec('POST', '/channels', { name: null }),
      'createChannel',
      {
        name: undefined,
        description: undefined,
        frag: undefined,
        playlistName: undefined,
        snapshot: undefined,
        replace: false,
        adoptExistingFolder: false,
      },
    ],
  ])('routes %s to its operation', async (_name, spec, op, input) => {
    const { call, calls } = setup();
    const response = await call(spec);
    expect(response.statusCode).toBe(op === 'createVod' || op === 'createChannel' ? 201 : 200);
    expect(calls).toEqual([{ op, input }]);
  });

  it('accepts a bearer token', async () => {
    const { call } = setup();
    const response = await call({ method: 'GET', rawPath: '/channels', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.statusCode).toBe(200);
  });

  it.each<[string, EventSpec, number, string, string | undefined]>([
    ['unauthenticated', { method: 'GET', rawPath: '/channels' }, 401, 'missing_credentials', undefined],
    ['unknown field', signedSpec('POST', '/channels', { name: 'cam-1', color: 'red' }), 400, 'unknown_field', 'color'],
    [
      'unknown query parameter',
      signedSpec('GET', '/channels', undefined, { prefix: 'x' }),
      400,
      'unknown_field',
      'prefix',
    ],
    [
      'query on a body route',
      signedSpec('POST', '/channels/cam-1/enable', undefined, { force: 'true' }),
      400,
      'unknown_field',
      'force',
    ],
    [
      'body on a route without fields',
      signedSpec('POST', '/channels/cam-1/enable', { force: true }),
      400,
      'unknown_field',
      'force',
    ],
    ['name of the wrong type', signedSpec('POST', '/channels', { name: 42 }), 400, 'invalid_field', 'name'],
    ['reserved name', signedSpec('POST', '/channels', { name: '_livecycle' }), 400, 'invalid_field', 'name'],
    ['bad name in the path', signedSpec('GET', '/channels/-x'), 400, 'invalid_field', 'name'],
    ['encoded slash in the path', signedSpec('GET', '/channels/a%2Fb'), 400, 'invalid_path_param', 'name'],
    [
      'publish url expiry too long',
      signedSpec('POST', '/channels/cam-1/publish-url', { expiresInSeconds: 86_401 }),
      400,
      'invalid_field',
      'expiresInSeconds',
    ],
    [
      'force as a string',
      signedSpec('POST', '/channels/cam-1/disable', { force: 'yes' }),
      400,
      'invalid_field',
      'force',
    ],
    [
      'vod end before start',
      signedSpec('POST', '/channels/cam-1/vod', { start: NOW, end: NOW - 1 }),
      400,
      'invalid_field',
      'end',
    ],
    [
      'hold on a playlist that is not a generated VOD',
      signedSpec('POST', '/channels/cam-1/vods/playlist.m3u8/hold'),
      400,
      'invalid_field',
      'key',
    ],
    [
      'release of a playlist that is not a generated VOD',
      signedSpec('DELETE', '/channels/cam-1/vods/v1.m3u8/hold'),
      400,
      'invalid_field',
      'key',
    ],
    ['unknown route', signedSpec('GET', '/admin'), 404, 'not_found', undefined],
    ['wrong method', signedSpec('PUT', '/channels/cam-1'), 405, 'method_not_allowed', undefined],
  ])('answers %s with a JSON error', async (_name, spec, status, code, field) => {
    const { call, calls } = setup();
    const response = await call(spec);
    expect(response.statusCode).toBe(status);
    expect(parse(response).error).toMatchObject({ code, ...(field ? { field } : {}) });
    expect(calls).toEqual([]);
  });

  it('answers bad JSON with 400 invalid_json', async () => {
    const { call } = setup();
    const body = '{"name":';
    const headers = {
      ...signApiRequest({ method: 'POST', path: '/channels', body, secret: SECRET, now: NOW }),
      'Content-Type': 'application/json',
    };
    const response = await call({ method: 'POST', rawPath: '/channels', body, headers });
    expect([response.statusCode, parse(response).error.code]).toEqual([400, 'invalid_json']);
  });

  it('answers 405 with an Allow header', async () => {
    const { call } = setup();
    const response = await call(signedSpec('PUT', '/channels/cam-1'));
    expect(response.headers.Allow).toBe('GET, DELETE');
  });

  it('answers an oversized body with 413 before anything else', async () => {
    const { call } = setup();
    const response = await call({ method: 'POST', rawPath: '/channels', body: 'x'.repeat(64 * 1024 + 1) });
    expect([response.statusCode, parse(response).error.code]).toEqual([413, 'payload_too_large']);
  });

  it('passes an ApiError thrown by an operation through', async () => {
    const { call } = setup({
      getChannel: async () => {
        throw new ApiError(404, 'channel_not_found', 'no channel named cam-1', 'name');
      },
    });
    const response = await call(signedSpec('GET', '/channels/cam-1'));
    expect(response.statusCode).toBe(404);
    expect(parse(response)).toEqual({
      error: { code: 'channel_not_found', message: 'no channel named cam-1', field: 'name' },
    });
  });

  it('turns an unexpected error into a bare 500 with the request id, details only in the log', async () => {
    const { call, lines } = setup({
      getChannel: async () => {
        throw new Error(`socket hang up talking to OSS with ${SECRET}`);
      },
    });
    const response = await call(signedSpec('GET', '/channels/cam-1'), 'req-500');
    expect(response.statusCode).toBe(500);
    expect(parse(response)).toEqual({ error: { code: 'internal', message: 'internal error', requestId: 'req-500' } });
    const failure = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'api request failed');
    expect(failure.err.message).toContain('socket hang up');
    expect(failure.requestId).toBe('req-500');
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('answers 500 when a result cannot be serialised', async () => {
    const { call } = setup({ listChannels: async () => ({ count: 1n }) as never });
    expect((await call(signedSpec('GET', '/channels'))).statusCode).toBe(500);
  });

  it('logs one line per request without credentials', async () => {
    const { call, lines } = setup();
    const spec = signedSpec('POST', '/channels/cam-1/enable');
    await call(spec);
    await call({ method: 'GET', rawPath: '/channels', headers: { Authorization: `Bearer ${TOKEN}` } });
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.map((l) => [l.msg, l.status, l.route, l.auth])).toEqual([
      ['api request', 200, '/channels/{name}/enable', 'signature'],
      ['api request', 200, '/channels', 'token'],
    ]);
    const all = lines.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(spec.headers!['X-Livecycle-Signature']!.slice(3));
  });

  it('never throws, even for an event that is not JSON', async () => {
    const { logger } = capturingLogger();
    const auth = createAuthenticator({ tokens: [TOKEN] });
    const response = await handleHttp(Buffer.from('\u0000garbage'), undefined, apiRoutes(recordingOps([])), {
      auth,
      logger,
      clock,
    });
    expect([response.statusCode, parse(response).error.code]).toEqual([400, 'bad_event']);
    expect(response.headers[REQUEST_ID_HEADER]).toMatch(/^[0-9a-f-]{36}$/);
  });
});
