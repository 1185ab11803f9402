import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalQuery,
  createAuthenticator,
  MemoryReplayStore,
  REPLAY_WINDOW_SECONDS,
  signApiRequest,
  stringToSign,
  type AuthConfig,
} from '../../shared/api/auth';
import { ApiError } from '../../shared/api/errors';
import { decodeHttpEvent } from '../../shared/api/event';
import { handleHttp } from '../../shared/api/respond';
import { apiRoutes, type ApiOperations } from '../../shared/api/routes';
import { ControlledClock } from '../../shared/clock';
import { capturingLogger, httpEvent, type EventSpec } from './helpers';

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const SECRET = 'current-shared-secret';
const OLD_SECRET = 'previous-shared-secret';
const TOKEN = 'tok_9f8e7d6c5b4a';

const BODY = '{"name":"cam-1"}';
const REQUEST = { method: 'POST', path: '/channels', body: BODY };

function setup(config: Partial<AuthConfig> = {}) {
  const clock = { now: () => NOW };
  return createAuthenticator({ secrets: [SECRET, OLD_SECRET], tokens: [TOKEN], clock, ...config });
}

function request(headers: Record<string, string>, spec: EventSpec = {}) {
  return decodeHttpEvent(httpEvent({ method: 'POST', rawPath: '/channels', body: BODY, headers, ...spec }));
}

function signed(opts: { secret?: string; now?: number; body?: string } = {}) {
  return signApiRequest({ ...REQUEST, body: opts.body ?? BODY, secret: opts.secret ?? SECRET, now: opts.now ?? NOW });
}

async function rejection(
  auth: ReturnType<typeof setup>,
  headers: Record<string, string>,
  spec?: EventSpec,
): Promise<ApiError> {
  try {
    await auth.authenticate(request(headers, spec));
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('authenticated unexpectedly');
}

describe('request signing', () => {
  it('signs METHOD, PATH, QUERY, TIMESTAMP and the body hash, newline-separated', () => {
    const text = stringToSign(
      { method: 'post', path: '/channels/cam-1', query: { b: '2', a: 'x y' }, body: 'abc' },
      1714564800,
    );
    expect(text).toBe(
      'POST\n/channels/cam-1\na=x%20y&b=2\n1714564800\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    const headers = signApiRequest({
      method: 'POST',
      path: '/channels/cam-1',
      query: { b: '2', a: 'x y' },
      body: 'abc',
      secret: 's3cret',
      now: 1714564800_999,
    });
    expect(headers['X-Livecycle-Timestamp']).toBe('1714564800');
    expect(headers['X-Livecycle-Signature']).toBe(`v1=${createHmac('sha256', 's3cret').update(text).digest('hex')}`);
  });

  it('reproduces the worked examples in docs/api.md', () => {
    const now = 1714564800_000;
    expect(
      signApiRequest({ method: 'POST', path: '/channels', body: '{"name":"cam-1"}', secret: 'example-secret', now })[
        'X-Livecycle-Signature'
      ],
    ).toBe('v1=686a1f528877e99e45f3182028ee9354eeea497d3206ba17233d301ff4bf1f46');
    expect(
      signApiRequest({ method: 'GET', path: '/channels', query: { limit: '50' }, secret: 'example-secret', now })[
        'X-Livecycle-Signature'
      ],
    ).toBe('v1=131ffef8e88398025d1fc638142ad8474d043f1e2bef8c7473988475f18c3825');
  });

  it('leaves the query line empty without parameters and encodes reserved characters', () => {
    expect(canonicalQuery({})).toBe('');
    expect(canonicalQuery({ cursor: 'a&b=c/d', limit: '10' })).toBe('cursor=a%26b%3Dc%2Fd&limit=10');
  });
});

describe('authenticate', () => {
  it('accepts a correct signature with the current secret and with a rotated-out secret', async () => {
    await expect(setup().authenticate(request(signed()))).resolves.toBe('signature');
    await expect(setup().authenticate(request(signed({ secret: OLD_SECRET })))).resolves.toBe('signature');
  });

  it('accepts a signature sent with lower-case header names and upper-case hex', async () => {
    const h = signed();
    const headers = {
      'x-livecycle-timestamp': h['X-Livecycle-Timestamp']!,
      'x-livecycle-signature': h['X-Livecycle-Signature']!.toUpperCase().replace('V1=', 'v1='),
    };
    await expect(setup().authenticate(request(headers))).resolves.toBe('signature');
  });

  it('covers the query: a signature over other parameters is rejected', async () => {
    const headers = signApiRequest({
      method: 'GET',
      path: '/channels',
      query: { limit: '10' },
      secret: SECRET,
      now: NOW,
    });
    await expect(
      setup().authenticate(request(headers, { method: 'GET', body: '', query: { limit: '10' } })),
    ).resolves.toBe('signature');
    expect((await rejection(setup(), headers, { method: 'GET', body: '', query: { limit: '1000' } })).code).toBe(
      'bad_signature',
    );
  });

  it('accepts the timestamp exactly 300 s away in either direction', async () => {
    await expect(setup().authenticate(request(signed({ now: NOW - 300_000 })))).resolves.toBe('signature');
    await expect(setup().authenticate(request(signed({ now: NOW + 300_000 })))).resolves.toBe('signature');
  });

  it('accepts a bearer token', async () => {
    await expect(setup().authenticate(request({ Authorization: `Bearer ${TOKEN}` }))).resolves.toBe('token');
  });

  const ts = String(NOW / 1000);
  const cases: [string, () => Record<string, string>, string][] = [
    ['no credentials', () => ({}), 'missing_credentials'],
    [
      'signature without timestamp',
      () => ({ 'X-Livecycle-Signature': signed()['X-Livecycle-Signature']! }),
      'malformed_signature',
    ],
    ['timestamp without signature', () => ({ 'X-Livecycle-Timestamp': ts }), 'malformed_signature'],
    [
      'timestamp in milliseconds with a fraction',
      () => ({ ...signed(), 'X-Livecycle-Timestamp': `${ts}.5` }),
      'malformed_signature',
    ],
    [
      'ISO timestamp',
      () => ({ ...signed(), 'X-Livecycle-Timestamp': new Date(NOW).toISOString() }),
      'malformed_signature',
    ],
    [
      'signature without the v1= prefix',
      () => ({ ...signed(), 'X-Livecycle-Signature': signed()['X-Livecycle-Signature']!.slice(3) }),
      'malformed_signature',
    ],
    ['short signature', () => ({ ...signed(), 'X-Livecycle-Signature': 'v1=abcd' }), 'malformed_signature'],
    [
      'non-hex signature',
      () => ({ ...signed(), 'X-Livecycle-Signature': `v1=${'g'.repeat(64)}` }),
      'malformed_signature',
    ],
    ['signature with an unknown secret', () => signed({ secret: 'not-the-secret' }), 'bad_signature'],
    ['signature over a tampered body', () => signed({ body: '{"name":"cam-2"}' }), 'bad_signature'],
    [
      'signature with a shifted timestamp',
      () => ({ ...signed(), 'X-Livecycle-Timestamp': String(NOW / 1000 + 1) }),
      'bad_signature',
    ],
    ['timestamp 301 s old', () => signed({ now: NOW - 301_000 }), 'expired_timestamp'],
    ['timestamp 301 s ahead', () => signed({ now: NOW + 301_000 }), 'expired_timestamp'],
    ['wrong token', () => ({ Authorization: 'Bearer tok_wrong' }), 'bad_token'],
    ['token that is a prefix of the real one', () => ({ Authorization: `Bearer ${TOKEN.slice(0, -1)}` }), 'bad_token'],
    ['Basic authorization', () => ({ Authorization: 'Basic dXNlcjpwYXNz' }), 'malformed_token'],
    ['empty bearer', () => ({ Authorization: 'Bearer ' }), 'malformed_token'],
    [
      'a valid token beside a bad signature',
      () => ({
        Authorization: `Bearer ${TOKEN}`,
        'X-Livecycle-Timestamp': ts,
        'X-Livecycle-Signature': `v1=${'0'.repeat(64)}`,
      }),
      'bad_signature',
    ],
  ];
  it.each(cases)('rejects %s with 401', async (_name, headers, code) => {
    const err = await rejection(setup(), headers());
    expect(err.status).toBe(401);
    expect(err.code).toBe(code);
    expect(err.headers?.['WWW-Authenticate']).toContain('Bearer');
  });

  it('never puts the expected signature or a secret in the error', async () => {
    const forged = { ...signed(), 'X-Livecycle-Signature': `v1=${'0'.repeat(64)}` };
    const err = await rejection(setup(), forged);
    const expected = signed()['X-Livecycle-Signature']!.slice(3);
    const shown = JSON.stringify({ message: err.message, field: err.field, code: err.code });
    expect(shown).not.toContain(expected);
    expect(shown).not.toContain(SECRET);
  });

  it('rejects the same signed request a second time as replayed, within the window', async () => {
    const auth = setup();
    const headers = signed();
    await expect(auth.authenticate(request(headers))).resolves.toBe('signature');
    expect((await rejection(auth, headers)).code).toBe('replayed');
    // A fresh signature (new timestamp) for the same request is a new request.
    await expect(auth.authenticate(request(signed({ now: NOW + 1000 })))).resolves.toBe('signature');
  });

  it('does not record a rejected signature, so a forgery cannot block the real request', async () => {
    const auth = setup();
    const headers = signed();
    expect((await rejection(auth, headers, { body: '{"name":"cam-9"}' })).code).toBe('bad_signature');
    await expect(auth.authenticate(request(headers))).resolves.toBe('signature');
  });

  it('shares replay memory through an injected store', async () => {
    const store = new MemoryReplayStore();
    const headers = signed();
    await expect(setup({ replayStore: store }).authenticate(request(headers))).resolves.toBe('signature');
    expect((await rejection(setup({ replayStore: store }), headers)).code).toBe('replayed');
  });

  it('refuses to build with nothing configured', () => {
    expect(() => createAuthenticator({ secrets: [''], tokens: [] })).toThrow(/no secrets or tokens/);
  });

  it('rejects signatures when only tokens are configured', async () => {
    expect((await rejection(setup({ secrets: [] }), signed())).code).toBe('bad_signature');
  });
});

describe('MemoryReplayStore', () => {
  it('forgets a key after it expires', async () => {
    const store = new MemoryReplayStore();
    expect(await store.remember('k', 1000, 0)).toEqual({ outcome: 'new' });
    expect(await store.remember('k', 1000, 1000)).toEqual({ outcome: 'replayed' });
    expect(await store.remember('k', 3000, 1001)).toEqual({ outcome: 'new' });
  });

  it('when full purges expired keys first, then refuses rather than forget a live one', async () => {
    const store = new MemoryReplayStore(2);
    await store.remember('expired', 10, 0);
    await store.remember('live', 1000, 0);
    expect(await store.remember('new', 2000, 20)).toEqual({ outcome: 'new' });
    // Full of unexpired keys: the next one is refused, until the earliest ('live', 1000) expires.
    expect(await store.remember('newest', 1000, 20)).toEqual({ outcome: 'full', retryAfterMs: 981 });
    expect(await store.remember('live', 1000, 20)).toEqual({ outcome: 'replayed' });
    expect(await store.remember('new', 2000, 999)).toEqual({ outcome: 'replayed' });
    expect(await store.remember('newest', 3000, 1001)).toEqual({ outcome: 'new' });
  });
});

describe('replay store at capacity', () => {
  it('refuses with 503 replay_store_full and never lets a captured request replay, by the injected clock', async () => {
    const clock = new ControlledClock({ startMs: NOW, rate: 0 });
    const auth = setup({ clock, replayStore: new MemoryReplayStore(2) });
    const captured = signed({ now: NOW });
    await expect(auth.authenticate(request(captured))).resolves.toBe('signature');
    await clock.advance(1000);
    await expect(auth.authenticate(request(signed({ now: clock.now() })))).resolves.toBe('signature');

    await clock.advance(1000);
    const full = await rejection(auth, signed({ now: clock.now() }));
    expect(full.status).toBe(503);
    expect(full.code).toBe('replay_store_full');
    // Room comes back when the first signature leaves the window: 300 s after NOW, 2 s elapsed.
    expect(full.headers?.['Retry-After']).toBe('299');
    // The old store evicted the oldest entry here and the captured request went through again.
    expect((await rejection(auth, captured)).code).toBe('replayed');

    await clock.advance((REPLAY_WINDOW_SECONDS - 2) * 1000 + 1);
    expect((await rejection(auth, captured)).code).toBe('expired_timestamp');
    await expect(auth.authenticate(request(signed({ now: clock.now() })))).resolves.toBe('signature');
  });

  it('answers the 503 as JSON with Retry-After through the HTTP pipeline', async () => {
    const clock = new ControlledClock({ startMs: NOW, rate: 0 });
    const auth = setup({ clock, replayStore: new MemoryReplayStore(1) });
    const { logger } = capturingLogger();
    const router = apiRoutes({} as ApiOperations);
    const send = (headers: Record<string, string>) =>
      handleHttp(httpEvent({ method: 'POST', rawPath: '/channels', body: BODY, headers }), { requestId: 'r' }, router, {
        auth,
        logger,
        clock,
      });
    await send(signed({ now: NOW }));
    await clock.advance(1000);
    const response = await send(signed({ now: clock.now() }));
    expect(response.statusCode).toBe(503);
    // The one slot frees just after NOW + 300 s; 1 s has elapsed, rounded up.
    expect(response.headers['Retry-After']).toBe('300');
    expect(JSON.parse(response.body).error.code).toBe('replay_store_full');
  });
});
